"""Result files on disk: what kind of media they are, and inline (base64, data URI) outputs.

What a file is, and which types are kept, is ``shared.media.sniff``'s (the API's uploads
use the same tables); only the header spellings upstreams send are this module's.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from shared.media.sniff import (
    EXTENSIONS,
    SNIFF_BYTES,
    MediaKind,
    content_type_from_name,
    kind_of,
    sniff_content_type,
)
from shared.net import datauri
from shared.net.fetch import BodyTooLarge
from workers.providers.base import GenerationFailed, InputFile, Output, ProviderError

#: The API's own largest upload limit (video); a result bigger than that is refused.
MAX_DOWNLOAD_BYTES = 200 * 1024 * 1024
#: Inputs without a signed URL are sent as data URIs only up to this size.
MAX_INLINE_INPUT_BYTES = 10 * 1024 * 1024

# use the same tables); only the header spellings upstreams send are this module's.

#: Header spellings of the types in ``EXTENSIONS`` that upstreams use besides the standard one.
_ALIASES = {
    "image/jpg": "image/jpeg",
    "audio/mp3": "audio/mpeg",
    "audio/x-wav": "audio/wav",
    "audio/wave": "audio/wav",
    "audio/vnd.wave": "audio/wav",
    "audio/x-flac": "audio/flac",
    "audio/x-m4a": "audio/mp4",
}


def normalize_content_type(value: str | None) -> str | None:
    if not value:
        return None
    base = value.split(";", 1)[0].strip().lower()
    base = _ALIASES.get(base, base)
    return base if base in EXTENSIONS else None


def detect_content_type(path: Path, *, header: str | None = None, url: str | None = None) -> str | None:
    """Bytes first, then the response's Content-Type, then the URL's file extension."""
    with path.open("rb") as f:
        sniffed = sniff_content_type(f.read(SNIFF_BYTES))
    if sniffed:
        return sniffed
    declared = normalize_content_type(header)
    if declared:
        return declared
    if url and not url.startswith("data:"):
        return content_type_from_name(urlsplit(url).path)
    return None


@dataclass(frozen=True)
class SavedFile:
    """A result file on disk, with what we decided it is."""

    path: Path
    content_type: str
    kind: MediaKind
    size: int

    def as_output(self) -> Output:
        return Output(path=self.path, content_type=self.content_type, kind=self.kind)


def finalize(part: Path, dest: Path, size: int, *, header: str | None, url: str | None,
             content_type: str | None = None) -> SavedFile:
    """Name the finished download after what it really is (``content_type`` when that is known
    rather than detectable), or refuse it."""
    content_type = content_type or detect_content_type(part, header=header, url=url)
    kind = kind_of(content_type) if content_type in EXTENSIONS else None
    if content_type is None or kind is None:
        part.unlink(missing_ok=True)
        raise GenerationFailed(
            f"the upstream returned a file that is not a recognised image, audio or video ({dest.name})"
        )
    final = dest if dest.suffix else dest.with_name(f"{dest.name}.{EXTENSIONS[content_type]}")
    part.replace(final)
    return SavedFile(path=final, content_type=content_type, kind=kind, size=size)


def part_path(dest: Path) -> Path:
    return dest.with_name(dest.name + ".part")


@contextmanager
def output_limits() -> Iterator[None]:
    """An output over its size limit or undecodable fails the generation, not the worker."""
    failure: GenerationFailed | None = None
    try:
        yield
    except BodyTooLarge as exc:
        failure = GenerationFailed(f"the upstream's output {exc.message}")
    except datauri.BadDataURI as exc:
        failure = GenerationFailed(f"the upstream's output {exc.message}")
    if failure is not None:
        raise failure


# --- inline data ----------------------------------------------------------------------------


def write_base64(data: str, dest: Path, *, max_bytes: int = MAX_DOWNLOAD_BYTES) -> SavedFile:
    """Decode a base64 output (OpenAI's ``b64_json``) to a file, chunk by chunk."""
    part = part_path(dest)
    with output_limits():
        size = datauri.decode_base64_to(data, part, max_bytes=max_bytes)
    return finalize(part, dest, size, header=None, url=None)


def write_data_uri(uri: str, dest: Path, *, max_bytes: int = MAX_DOWNLOAD_BYTES) -> SavedFile:
    """Write a ``data:`` URI output to a file."""
    part = part_path(dest)
    with output_limits():
        declared, size = datauri.write_to(uri, part, max_bytes=max_bytes)
    return finalize(part, dest, size, header=normalize_content_type(declared), url=None)


def file_to_data_uri(path: Path, content_type: str, *, max_bytes: int = MAX_INLINE_INPUT_BYTES) -> str:
    size = path.stat().st_size
    if size > max_bytes:
        raise ProviderError(
            f"input file of {size} bytes is too large to send inline (max {max_bytes}); "
            "a storage backend with signed URLs is needed"
        )
    return f"data:{content_type};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def input_reference(file: InputFile, *, max_inline_bytes: int = MAX_INLINE_INPUT_BYTES) -> str:
    """What to put in a provider's ``*_url`` field: the signed URL, else a data URI."""
    if file.url:
        return file.url
    return file_to_data_uri(file.path, file.content_type, max_bytes=max_inline_bytes)


