"""Request limits enforced before any body is read (by the one ASGI layer, ``api/request_context.py``).

* A path or query string carrying NUL or an unpaired surrogate is refused (400) at once.
* A JSON (or any non-multipart) body over ``max_json_body_bytes`` is refused (413) from its
  ``Content-Length``, and a chunked one is cut off as soon as it passes the limit.
* A multipart body may be as large as the largest upload kind allows (plus framing); the
  upload route cuts each file at its own kind's limit while streaming.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope

from api.errors import BodyTooLarge, render
from shared.errors import PayloadTooLarge, ValidationError
from shared.settings import Settings, get_settings
from shared.text import problem

#: Multipart framing (boundaries, part headers, the ``kind`` field) around an uploaded file.
MULTIPART_OVERHEAD = 64 * 1024


def body_limit(settings: Settings, content_type: str) -> int:
    if content_type.startswith("multipart/form-data"):
        largest = max(settings.max_image_bytes, settings.max_audio_bytes, settings.max_video_bytes)
        return largest + MULTIPART_OVERHEAD
    return settings.max_json_body_bytes


def _bad_text(scope: Scope) -> ValidationError | None:
    reason = problem(scope.get("path", ""))
    if reason is not None:
        return ValidationError.field("path", reason)
    query = scope.get("query_string", b"").decode("latin-1")
    for name, value in parse_qsl(query, keep_blank_values=True):
        reason = problem(name) or problem(value)
        if reason is not None:
            return ValidationError.field(name if problem(name) is None else "query", reason)
    return None


def admit(scope: Scope, headers: dict[bytes, bytes], receive: Receive) -> tuple[ASGIApp | None, Receive]:
    """(the refusal to answer instead, or None; ``receive`` cut off past the body's limit)."""
    bad = _bad_text(scope)
    if bad is not None:
        return render(bad), receive
    limit = body_limit(get_settings(), headers.get(b"content-type", b"").decode("latin-1").lower())
    declared = headers.get(b"content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return render(_too_large(limit)), receive
    return None, _counting(receive, limit)


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"The request body is over its limit of {limit} bytes.", details={"max_bytes": limit})


def _counting(receive: Receive, limit: int) -> Receive:
    seen = 0

    async def wrapped() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge(limit)
        return message

    return wrapped
