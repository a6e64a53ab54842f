"""The upstream side of a relay: where a model is served, and what its errors mean to our caller.

One ``httpx.AsyncClient`` per server process (created in the API's lifespan) carries every
relayed request, so connections to an upstream are reused.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

import httpx

from shared.catalog import ModelSpec
from shared.errors import AtelierError, RateLimited, ServiceUnavailable, ValidationError
from shared.settings import Settings

_MESSAGE_LIMIT = 500


@dataclass(frozen=True)
class Target:
    url: str
    headers: dict[str, str]

    def request(self, client: httpx.AsyncClient, body: dict[str, Any], *, stream: bool = False) -> httpx.Request:
        """The POST of ``body`` to this target, encoded (not sent)."""
        headers = {**self.headers, "Accept": "text/event-stream"} if stream else self.headers
        return client.build_request("POST", self.url, json=body, headers=headers)


def target(spec: ModelSpec, settings: Settings, path: str) -> Target:
    """The URL of ``path`` (``chat/completions``, ``embeddings``) on the model's upstream."""
    if spec.base_url:
        base = spec.base_url
        key = os.environ.get(spec.api_key_env) if spec.api_key_env else None
    else:
        base = settings.openai_base_url
        key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return Target(f"{base.rstrip('/')}/{path}", headers)


def new_client(settings: Settings) -> httpx.AsyncClient:
    timeout = httpx.Timeout(settings.relay_timeout_seconds, connect=settings.relay_connect_timeout_seconds)
    return httpx.AsyncClient(timeout=timeout, follow_redirects=False,
                             limits=httpx.Limits(max_connections=None, max_keepalive_connections=100))


def _upstream_message(body: bytes) -> tuple[str, str | None]:
    try:
        error = json.loads(body).get("error")
    except (ValueError, AttributeError):
        error = None
    if isinstance(error, dict):
        param = error.get("param")
        return str(error.get("message") or "")[:_MESSAGE_LIMIT], param if isinstance(param, str) else None
    if isinstance(error, str):
        return error[:_MESSAGE_LIMIT], None
    return "", None


def error_from_status(status: int, body: bytes, retry_after: str | None) -> AtelierError:
    """Our error for an upstream's refusal; nothing has been charged for it."""
    message, param = _upstream_message(body)
    if status in (400, 404, 413, 422):
        text = f"The upstream model refused the request: {message or f'status {status}'}"
        if param:
            return ValidationError(text, details={"errors": [{"field": param, "message": message}],
                                                  "upstream_status": status})
        return ValidationError(text, details={"upstream_status": status})
    if status == 429:
        wait = retry_after if retry_after and retry_after.isdigit() else "1"
        return RateLimited("The upstream model is rate limited; retry later.",
                           details={"retry_after": int(wait), "upstream_status": status},
                           headers={"Retry-After": wait})
    return unavailable(f"status {status}")


def unavailable(what: str) -> ServiceUnavailable:
    return ServiceUnavailable(f"The upstream model is unavailable ({what}); nothing was charged.",
                              headers={"Retry-After": "5"})
