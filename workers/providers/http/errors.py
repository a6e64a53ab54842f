"""How an upstream's HTTP failure becomes one of our provider errors.

Credentials only ever travel in request headers. Messages built here are scrubbed of them,
and callers raise provider errors *outside* the ``except`` block so no httpx exception (whose
``request`` carries the Authorization header) stays chained to them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

import httpx

from workers.providers.base import ProviderError, UpstreamRejected, UpstreamUnavailable

MAX_MESSAGE_CHARS = 500
_ERROR_BODY_LIMIT = 64 * 1024


class UpstreamThrottled(UpstreamUnavailable):
    """A retryable answer that said when to come back (``Retry-After``, in seconds)."""

    retry_after: float | None = None



_BEARER = re.compile(r"(?i)\b(bearer)\s+[\w.~+/=-]{6,}")
_AUTH_HEADER = re.compile(r"(?i)(authorization\s*[:=]\s*)[^\s,;]+(\s+[^\s,;]+)?")


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """Remove credentials from text that may end up in a job error or a log line."""
    for secret in secrets:
        if secret and len(secret) >= 4:  # a tiny "secret" would shred the message instead
            text = text.replace(secret, "[redacted]")
    text = _AUTH_HEADER.sub(lambda m: f"{m.group(1)}[redacted]", text)
    return _BEARER.sub(lambda m: f"{m.group(1)} [redacted]", text)


def is_retryable_status(status: int) -> bool:
    return status in (408, 425, 429) or status >= 500


def error_message(body: Any) -> str | None:
    """The provider's own words from a JSON error body.

    Handles fal (``detail``: a string or a list of ``{loc, msg, type}``), Replicate (RFC 7807
    ``detail``/``title``) and OpenAI (``error: {message, type, code}``).
    """
    if isinstance(body, str):
        return body.strip() or None
    if isinstance(body, list):
        parts = [m for m in (error_message(item) for item in body) if m]
        return "; ".join(parts) or None
    if isinstance(body, dict):
        if isinstance(body.get("msg"), str):
            loc = [str(p) for p in body.get("loc") or [] if p != "body"]
            return f"{'.'.join(loc)}: {body['msg']}" if loc else body["msg"]
        for key in ("detail", "error", "message", "title"):
            found = error_message(body.get(key))
            if found:
                return found
    return None


def _peek_body(response: httpx.Response) -> bytes:
    try:
        return response.content[:_ERROR_BODY_LIMIT]
    except httpx.ResponseNotRead:  # a streamed response: read only what an error needs
        buffer = bytearray()
        for chunk in response.iter_bytes():
            buffer += chunk
            if len(buffer) >= _ERROR_BODY_LIMIT:
                break
        return bytes(buffer[:_ERROR_BODY_LIMIT])


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def error_for_response(response: httpx.Response, *, provider: str, secrets: Iterable[str] = ()) -> ProviderError:
    """Map a non-2xx answer: 408/425/429/5xx are retryable, other 4xx a refusal."""
    status = response.status_code
    raw = _peek_body(response)
    try:
        detail = error_message(json.loads(raw))
    except ValueError:
        detail = raw.decode("utf-8", "replace").strip()[:200] or None
    text = f"{provider}: {detail} (HTTP {status})" if detail else f"{provider}: HTTP {status}"
    text = scrub(text, secrets)[:MAX_MESSAGE_CHARS]
    if not is_retryable_status(status):
        return UpstreamRejected(text)
    retry_after = _retry_after(response)
    if retry_after is None:
        return UpstreamUnavailable(text)
    error = UpstreamThrottled(text)
    error.retry_after = retry_after
    return error


def error_for_exception(exc: httpx.HTTPError, *, provider: str, secrets: Iterable[str] = ()) -> ProviderError:
    """Map a transport failure: timeouts and connection errors are retryable."""
    kind = type(exc).__name__
    if isinstance(exc, httpx.TimeoutException):
        return UpstreamUnavailable(f"{provider}: request timed out ({kind})")
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.TooManyRedirects):
        return ProviderError(f"{provider}: {kind}")  # our configuration, not a passing fault
    detail = scrub(str(exc), secrets)[:200]
    return UpstreamUnavailable(f"{provider}: connection failed ({kind}: {detail})")

