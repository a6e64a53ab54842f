"""Object storage: one interface (``Storage``), a filesystem and an S3 backend.

``get_storage()`` returns the process-wide backend chosen by the settings; tests and
tools that need their own instance call ``build_storage(settings)`` or construct a
backend directly.
"""

from __future__ import annotations

import threading

from shared.settings import Settings, get_settings
from shared.storage.base import (
    CHUNK_SIZE,
    InvalidKey,
    ObjectNotFound,
    Storage,
    StorageError,
    attachment_disposition,
)
from shared.storage.local import LocalStorage
from shared.storage.s3 import S3Storage

__all__ = [
    "CHUNK_SIZE",
    "InvalidKey",
    "LocalStorage",
    "ObjectNotFound",
    "S3Storage",
    "Storage",
    "StorageError",
    "attachment_disposition",
    "build_storage",
    "get_storage",
    "reset_storage",
]

_storages: dict[tuple[object, ...], Storage] = {}
_lock = threading.Lock()


def build_storage(settings: Settings) -> Storage:
    """A new backend for ``settings`` (not cached)."""
    if settings.storage == "s3":
        return S3Storage(settings.s3_bucket, region=settings.s3_region, endpoint_url=settings.s3_endpoint_url)
    return LocalStorage(settings.storage_root)


def get_storage(settings: Settings | None = None) -> Storage:
    """The backend for ``settings`` (default: the process settings), built once per
    configuration per process: a boto3 client holds a connection pool worth reusing."""
    settings = settings or get_settings()
    key = (
        settings.storage,
        settings.storage_root.expanduser().resolve(),
        settings.s3_bucket,
        settings.s3_region,
        settings.s3_endpoint_url,
    )
    with _lock:
        storage = _storages.get(key)
        if storage is None:
            storage = _storages[key] = build_storage(settings)
    return storage


def reset_storage() -> None:
    """Forget the backends built so far (tests, or after the settings changed)."""
    with _lock:
        _storages.clear()
