"""Filesystem storage: the embedded default. Objects are files under ``root``.

Writes go to a temporary file in the destination directory and are moved into place
with ``os.replace``, so a key holds either the old object or the complete new one, never
a partial file. The content type is not stored: the database row keeps it.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, BinaryIO

from shared.storage.base import (
    CHUNK_SIZE,
    InvalidKey,
    ObjectNotFound,
    StorageError,
    StrPath,
    check_key,
    check_range,
)

COPY_CHUNK = 1024 * 1024
_TEMP_PREFIX = ".tmp-"


class LocalStorage:
    def __init__(self, root: StrPath) -> None:
        # Resolved once so the containment check compares real paths.
        self.root = Path(root).expanduser().resolve()

    def __repr__(self) -> str:
        return f"LocalStorage({str(self.root)!r})"

    def put(self, key: str, fileobj: BinaryIO, *, content_type: str) -> None:
        with _atomic_write(self._path(key)) as out:
            _copy(fileobj, out)

    def put_file(self, key: str, path: StrPath, *, content_type: str) -> None:
        with open(path, "rb") as source:
            self.put(key, source, content_type=content_type)

    def size(self, key: str) -> int:
        try:
            info = self._path(key).stat()
        except (FileNotFoundError, NotADirectoryError):
            raise ObjectNotFound(key) from None
        if not stat.S_ISREG(info.st_mode):
            raise ObjectNotFound(key)
        return info.st_size

    def iter_bytes(
        self, key: str, start: int = 0, end: int | None = None, chunk_size: int = CHUNK_SIZE
    ) -> Iterator[bytes]:
        check_range(start, end)
        file = self._open(key)
        return _read_range(file, start, end, chunk_size)

    def download_to(self, key: str, path: StrPath) -> None:
        with self._open(key) as source, _atomic_write(Path(path)) as out:
            _copy(source, out)

    def presigned_url(
        self,
        key: str,
        *,
        expires_in: int = 300,
        content_type: str | None = None,
        download_filename: str | None = None,
    ) -> str | None:
        return None  # files are not reachable by URL; the API streams them

    def delete(self, key: str) -> None:
        path = self._path(key)
        try:
            path.unlink()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return
        self._prune_empty_dirs(path.parent)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def check(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=self.root, prefix=_TEMP_PREFIX):
                pass
        except OSError as exc:
            raise StorageError(f"storage directory {self.root} is not writable: {exc}") from exc

    def _path(self, key: str) -> Path:
        path = self.root / check_key(key)
        # The key is clean, but a symlink inside the tree could still lead out of it.
        if not path.resolve().is_relative_to(self.root):
            raise InvalidKey(key, "resolves outside the storage root")
        return path

    def _open(self, key: str) -> BinaryIO:
        try:
            return self._path(key).open("rb")
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise ObjectNotFound(key) from None

    def _prune_empty_dirs(self, directory: Path) -> None:
        # Keeps one-directory-per-asset trees from accumulating; stops at the first
        # non-empty directory. A concurrent put recreates what it needs (_atomic_write).
        while directory != self.root and directory.is_relative_to(self.root):
            try:
                directory.rmdir()
            except OSError:
                return
            directory = directory.parent


@contextmanager
def _atomic_write(path: Path) -> Iterator[IO[bytes]]:
    """Yield a temp file beside ``path``; on success fsync it and move it onto ``path``.

    Errors of the filesystem become StorageError; whatever the body raises (a client
    upload that breaks off, say) propagates unchanged. Either way the temp file goes.
    """
    try:
        out = _temp_file_in(path.parent)
    except OSError as exc:
        raise StorageError(f"cannot write in {path.parent}: {exc}") from exc
    committed = False
    try:
        with out:
            yield out
            try:
                out.flush()
                os.fsync(out.fileno())  # the data is on disk before the name points at it
                os.replace(out.name, path)
            except OSError as exc:
                raise StorageError(f"cannot write {path}: {exc}") from exc
            committed = True
    finally:
        if not committed:
            Path(out.name).unlink(missing_ok=True)


def _copy(source: IO[bytes], out: IO[bytes]) -> None:
    # Only write errors are storage errors; the source's errors are the caller's business.
    while chunk := source.read(COPY_CHUNK):
        try:
            out.write(chunk)
        except OSError as exc:
            raise StorageError(f"cannot write {out.name}: {exc}") from exc


def _temp_file_in(directory: Path) -> IO[bytes]:
    # A concurrent delete may prune the directory between mkdir and the temp file's
    # creation; recreating it and retrying covers that race.
    retries = 2
    while True:
        directory.mkdir(parents=True, exist_ok=True)
        try:
            return tempfile.NamedTemporaryFile(dir=directory, prefix=_TEMP_PREFIX, delete=False)
        except FileNotFoundError:
            if retries == 0:
                raise
            retries -= 1


def _read_range(file: BinaryIO, start: int, end: int | None, chunk_size: int) -> Iterator[bytes]:
    with file:
        file.seek(start)
        remaining = None if end is None else end - start + 1
        while remaining is None or remaining > 0:
            chunk = file.read(chunk_size if remaining is None else min(chunk_size, remaining))
            if not chunk:
                return
            if remaining is not None:
                remaining -= len(chunk)
            yield chunk
