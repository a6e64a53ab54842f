"""Provider instances by name, built once per process from the settings."""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from urllib.parse import urlsplit

from shared import signed
from shared.settings import Settings, get_settings
from workers.providers.base import GenerationRequest, Provider, UpstreamProvider
from workers.providers.http import CallbackURL


@lru_cache
def local_provider(name: str = "local") -> Provider:
    if name != "local":
        raise ValueError(f"{name} is not an in-process provider")
    from workers.providers.local import LocalProvider

    return LocalProvider()


def _operator_network(base_url: str) -> bool:
    """A base URL on loopback or a private network is the operator's own choice (a gateway, a
    test server); result files the provider serves from there may be fetched too."""
    host = urlsplit(base_url).hostname or ""
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_private


def _callbacks(settings: Settings, provider: str) -> CallbackURL | None:
    """Per-job provider webhook URL, when the API is reachable from outside."""
    if not settings.public_url:
        return None
    base = settings.public_url.rstrip("/")

    def build(request: GenerationRequest) -> str:
        token = signed.callback_token(settings, provider, request.job_id)
        return f"{base}/v1/providers/{provider}/callback/{token}"

    return build


@lru_cache
def upstream_provider(name: str) -> UpstreamProvider:
    settings = get_settings()
    if name == "fal" and settings.fal_key:
        from workers.providers.fal import FalProvider

        return FalProvider(settings.fal_key.get_secret_value(), settings.fal_queue_url,
                           callback_url=_callbacks(settings, "fal"), voice_refs=settings.fal_voice_refs,
                           allow_private_urls=_operator_network(settings.fal_queue_url))
    if name == "replicate" and settings.replicate_api_token:
        from workers.providers.replicate import ReplicateProvider

        return ReplicateProvider(settings.replicate_api_token.get_secret_value(), settings.replicate_base_url,
                                 callback_url=_callbacks(settings, "replicate"),
                                 allow_private_urls=_operator_network(settings.replicate_base_url))
    if name == "openai" and settings.openai_api_key:
        from workers.providers.openai import OpenAIProvider

        return OpenAIProvider(settings.openai_api_key.get_secret_value(), settings.openai_base_url,
                              allow_private_urls=_operator_network(settings.openai_base_url))
    raise LookupError(f"provider {name!r} is not enabled (no credential configured)")


def reset() -> None:
    local_provider.cache_clear()
    upstream_provider.cache_clear()
