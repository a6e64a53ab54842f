"""``data:`` URIs (RFC 2397) decoded to a file, base64 chunk by chunk, cut at a size limit."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote_to_bytes

from shared.errors import ValidationError
from shared.net.fetch import BodyTooLarge

_STEP = 4 * 16384  # a multiple of 4 decodes independently


class BadDataURI(ValidationError):
    pass


def split(uri: str) -> tuple[str | None, bool, str]:
    """``data:[<type>][;params][;base64],<payload>`` → (declared type or None, base64?, payload)."""
    if not uri[:5].lower() == "data:" or "," not in uri:
        raise BadDataURI("is not a valid data: URI")
    meta, payload = uri[5:].split(",", 1)
    params = meta.split(";")
    declared = params[0].strip().lower() or None
    return declared, "base64" in (p.strip().lower() for p in params[1:]), payload


def _base64_chunks(data: str) -> Iterator[bytes]:
    if any(c in data for c in "\r\n \t"):
        data = "".join(data.split())
    for start in range(0, len(data), _STEP):
        yield base64.b64decode(data[start : start + _STEP], validate=True)


def decode_base64_to(data: str, dest: Path, *, max_bytes: int) -> int:
    """Decode base64 text to ``dest``; ``BadDataURI`` if undecodable, ``BodyTooLarge`` over the limit."""
    size = 0
    try:
        with dest.open("wb") as f:
            for chunk in _base64_chunks(data):
                size += len(chunk)
                if size > max_bytes:
                    raise BodyTooLarge(max_bytes)
                f.write(chunk)
    except (binascii.Error, ValueError):
        dest.unlink(missing_ok=True)
        raise BadDataURI("has undecodable base64") from None
    except BaseException:
        dest.unlink(missing_ok=True)
        raise
    return size


def write_to(uri: str, dest: Path, *, max_bytes: int) -> tuple[str | None, int]:
    """Write a data URI's bytes to ``dest``: (declared content type or None, size)."""
    declared, is_base64, payload = split(uri)
    if is_base64:
        return declared, decode_base64_to(payload, dest, max_bytes=max_bytes)
    data = unquote_to_bytes(payload)
    if len(data) > max_bytes:
        raise BodyTooLarge(max_bytes)
    dest.write_bytes(data)
    return declared, len(data)
