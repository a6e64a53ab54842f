"""Provider instances by name, built once per process from the settings."""

from __future__ import annotations

from functools import lru_cache

from shared import signed
from shared.net import allow_private_for
from shared.settings import Settings, get_settings
from workers.providers.base import GenerationRequest, Provider, UpstreamProvider
from workers.providers.http import CallbackURL


@lru_cache
def local_provider(name: str = "local") -> Provider:
    if name != "local":
        raise ValueError(f"{name} is not an in-process provider")
    from workers.providers.local import LocalProvider

    return LocalProvider()


def _callbacks(settings: Settings, provider: str) -> CallbackURL | None:
    """Per-job provider webhook URL, when the API is reachable from outside."""
    if not settings.public_url:
        return None
    base = settings.public_url.rstrip("/")

    def build(request: GenerationRequest) -> str:
        token = signed.callback_token(settings, provider, request.job_id)
        return f"{base}/v1/providers/{provider}/callback/{token}"

    return build


def _private_ok(settings: Settings, base_url: str) -> bool:
    return allow_private_for(settings.webhook_allow_private, base_url)


@lru_cache
def upstream_provider(name: str) -> UpstreamProvider:
    settings = get_settings()
    if name == "fal" and settings.fal_key:
        from workers.providers.fal import FalProvider

        return FalProvider(settings.fal_key.get_secret_value(), settings.fal_queue_url,
                           callback_url=_callbacks(settings, "fal"), voice_refs=settings.fal_voice_refs,
                           allow_private_urls=_private_ok(settings, settings.fal_queue_url))
    if name == "replicate" and settings.replicate_api_token:
        from workers.providers.replicate import ReplicateProvider

        return ReplicateProvider(settings.replicate_api_token.get_secret_value(), settings.replicate_base_url,
                                 callback_url=_callbacks(settings, "replicate"),
                                 allow_private_urls=_private_ok(settings, settings.replicate_base_url))
    if name == "openai" and settings.openai_api_key:
        from workers.providers.openai import OpenAIProvider

        return OpenAIProvider(settings.openai_api_key.get_secret_value(), settings.openai_base_url,
                              allow_private_urls=_private_ok(settings, settings.openai_base_url))
    raise LookupError(f"provider {name!r} is not enabled (no credential configured)")


def reset() -> None:
    local_provider.cache_clear()
    upstream_provider.cache_clear()
