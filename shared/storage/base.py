"""The storage interface shared by every backend, its errors, and small helpers.

Keys are ``/``-separated relative paths such as
``accounts/{account_id}/assets/{asset_id}/{filename}``. Every backend applies the same
key rules (``check_key``) so a key that works locally works on S3 and vice versa.

Byte ranges follow HTTP ``Range``: ``start`` is the first byte (0-based) and ``end`` is
the last byte, **inclusive**; ``end=None`` means "to the end of the object". An ``end``
past the last byte is clamped; a ``start`` at or past the end yields no bytes (the HTTP
layer decides whether that is a 416).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import BinaryIO, Protocol, runtime_checkable
from urllib.parse import quote

from shared.errors import StorageError

CHUNK_SIZE = 64 * 1024
MAX_KEY_BYTES = 1024  # S3's limit; applied everywhere so both backends accept the same keys
MAX_PRESIGN_SECONDS = 7 * 24 * 3600  # SigV4 cannot sign for longer

StrPath = str | os.PathLike[str]


class ObjectNotFound(StorageError):
    """No object is stored under the key (for a stored asset, our inconsistency: a 500)."""

    status, code = 500, "INTERNAL_ERROR"
    public_message = "Internal error."

    def __init__(self, key: str) -> None:
        super().__init__(f"no stored object at {key!r}")
        self.key = key


class InvalidKey(StorageError, ValueError):
    """The key is not a plain relative path (empty part, ``.``/``..``, absolute, too long)."""

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(f"invalid storage key {key!r}: {reason}")
        self.key = key


@runtime_checkable
class Storage(Protocol):
    """Object storage for uploads and generated media.

    Backends raise ``ObjectNotFound`` for a missing object, ``InvalidKey`` for a key that
    breaks the key rules and ``StorageError`` for any other failure.
    """

    def put(self, key: str, fileobj: BinaryIO, *, content_type: str) -> None:
        """Store everything ``fileobj`` yields from its current position, replacing any
        object under ``key``. Reads in bounded chunks: memory does not grow with size.
        Readers never see a partially written object."""
        ...

    def put_file(self, key: str, path: StrPath, *, content_type: str) -> None:
        """Store the file at ``path`` under ``key``."""
        ...

    def size(self, key: str) -> int:
        """The object's length in bytes."""
        ...

    def iter_bytes(
        self, key: str, start: int = 0, end: int | None = None, chunk_size: int = CHUNK_SIZE
    ) -> Iterator[bytes]:
        """Stream bytes ``start..end`` (inclusive ``end``, see the module docstring) in
        chunks of at most ``chunk_size``. The object is opened before this returns, so a
        missing object raises ``ObjectNotFound`` here rather than mid-iteration."""
        ...

    def download_to(self, key: str, path: StrPath) -> None:
        """Write the object to ``path`` (parent directories are created)."""
        ...

    def presigned_url(
        self,
        key: str,
        *,
        expires_in: int = 300,
        content_type: str | None = None,
        download_filename: str | None = None,
    ) -> str | None:
        """A time-limited URL that serves the object directly, or None when the backend
        cannot sign URLs (the caller then streams with ``iter_bytes``). ``content_type``
        and ``download_filename`` override the response's Content-Type and make it an
        attachment. The object's existence is not checked."""
        ...

    def delete(self, key: str) -> None:
        """Remove the object; deleting a missing object is not an error."""
        ...

    def exists(self, key: str) -> bool: ...

    def check(self) -> None:
        """Raise ``StorageError`` unless the backend is reachable and usable (readiness)."""
        ...


def check_key(key: str) -> str:
    """Return ``key`` if it is a clean relative ``/``-separated path, else raise ``InvalidKey``."""
    if not isinstance(key, str) or not key:
        raise InvalidKey(str(key), "empty")
    if len(key.encode("utf-8")) > MAX_KEY_BYTES:
        raise InvalidKey(key, f"longer than {MAX_KEY_BYTES} bytes")
    if key.startswith("/"):
        raise InvalidKey(key, "absolute")
    if "\\" in key or "\x00" in key:
        raise InvalidKey(key, "contains a backslash or NUL")
    if any(part in ("", ".", "..") for part in key.split("/")):
        raise InvalidKey(key, "empty, '.' or '..' path segment")
    return key


def check_range(start: int, end: int | None) -> None:
    if start < 0:
        raise ValueError(f"range start must be >= 0, not {start}")
    if end is not None and end < start:
        raise ValueError(f"range end ({end}) is before its start ({start})")


def check_expiry(expires_in: int) -> None:
    if not 1 <= expires_in <= MAX_PRESIGN_SECONDS:
        raise ValueError(f"expires_in must be between 1 and {MAX_PRESIGN_SECONDS} seconds")


_UNSAFE_ASCII = re.compile(r'[^\x20-\x7e]|["\\/;]')


def attachment_disposition(filename: str) -> str:
    """``Content-Disposition: attachment`` for ``filename`` (RFC 6266): a sanitised ASCII
    ``filename`` for old clients plus the exact name as UTF-8 in ``filename*``."""
    name = filename.replace("/", "_").replace("\\", "_").strip() or "download"
    fallback = _UNSAFE_ASCII.sub("_", name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
