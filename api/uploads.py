"""Streaming multipart uploads: the file part goes straight to one temp file and is cut off
as soon as it passes its kind's limit; nothing is spooled in full, nothing read before the
route's authentication dependency has run (the route declares no form parameters, so
FastAPI leaves the body alone)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from shared import assets
from shared.errors import PayloadTooLarge, ValidationError
from shared.settings import Settings
from shared.text import problem

#: Text fields are short (``kind``); anything longer is not a field we accept.
_MAX_FIELD_BYTES = 1024
FIELDS = ("kind", "file")


@dataclass
class UploadForm:
    path: Path
    kind: str | None = None
    filename: str | None = None
    size: int = 0
    digest: hashlib._Hash = field(default_factory=hashlib.sha256)
    seen: set[str] = field(default_factory=set)


def _too_large(limit: int, kind: str | None) -> PayloadTooLarge:
    what = f"{kind} uploads are" if kind in assets.KINDS else "Uploads are"
    return PayloadTooLarge(f"{what} limited to {limit} bytes.", details={"max_bytes": limit})


class _Receiver:
    """python-multipart callbacks writing the ``file`` part to disk and keeping ``kind``."""

    def __init__(self, form: UploadForm, settings: Settings) -> None:
        self.form, self.settings = form, settings
        self.header_field, self.headers = b"", {}  # type: tuple[bytes, dict[bytes, bytes]]
        self.name: str | None = None
        self.value = bytearray()
        self.out: IO[bytes] | None = None

    def limit(self) -> int:
        if self.form.kind in assets.KINDS:
            return assets.max_bytes(self.settings, self.form.kind)
        return max(assets.max_bytes(self.settings, kind) for kind in assets.KINDS)

    def on_part_begin(self) -> None:
        self.headers, self.name = {}, None

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        key = self.header_field.lower()
        self.headers[key] = self.headers.get(key, b"") + data[start:end]

    def on_header_end(self) -> None:
        self.header_field = b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self.headers.get(b"content-disposition", b""))
        name = options.get(b"name", b"").decode("utf-8", "replace")
        if name not in FIELDS:
            raise ValidationError.field(name or "form", "is not accepted (fields: kind, file)")
        if name in self.form.seen:
            raise ValidationError.field(name, "was given more than once")
        self.form.seen.add(name)
        self.name, self.value = name, bytearray()
        if name == "file":
            raw = options.get(b"filename")
            self.form.filename = raw.decode("utf-8", "replace") if raw is not None else None
            self.out = self.form.path.open("wb")

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if self.name != "file":
            self.value += chunk
            if len(self.value) > _MAX_FIELD_BYTES:
                raise ValidationError.field(self.name or "form", "is too long")
            return
        self.form.size += len(chunk)
        if self.form.size > self.limit():
            raise _too_large(self.limit(), self.form.kind)
        self.form.digest.update(chunk)
        assert self.out is not None
        self.out.write(chunk)

    def on_part_end(self) -> None:
        if self.name == "kind":
            kind = self.value.decode("utf-8", "replace")
            if kind not in assets.KINDS:
                raise ValidationError.field("kind", f"must be one of {', '.join(assets.KINDS)}")
            self.form.kind = kind
        elif self.out is not None:
            self.out.close()
            self.out = None

    def close(self) -> None:
        if self.out is not None:
            self.out.close()


def _boundary(request: Request) -> bytes:
    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise ValidationError.field("body", "must be multipart/form-data with the fields kind and file")
    return boundary


async def receive(request: Request, settings: Settings, directory: Path) -> UploadForm:
    """Read the multipart body into ``directory/upload``, checking limits as the bytes arrive."""
    form = UploadForm(path=directory / "upload")
    receiver = _Receiver(form, settings)
    callbacks = {name: getattr(receiver, name) for name in (
        "on_part_begin", "on_part_data", "on_part_end", "on_header_field", "on_header_value",
        "on_header_end", "on_headers_finished")}
    parser = MultipartParser(_boundary(request), callbacks)  # type: ignore[arg-type]
    try:
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
    except MultipartParseError as exc:
        raise ValidationError.field("body", "is not a well-formed multipart/form-data body") from exc
    finally:
        receiver.close()
    return _complete(form, settings)


def _complete(form: UploadForm, settings: Settings) -> UploadForm:
    missing = [name for name in FIELDS if name not in form.seen]
    if missing:
        raise ValidationError("; ".join(f"{name}: is required" for name in missing),
                              details={"errors": [{"field": name, "message": "is required"} for name in missing]})
    assert form.kind is not None
    if form.size == 0:
        raise ValidationError.field("file", "is empty")
    limit = assets.max_bytes(settings, form.kind)
    if form.size > limit:  # the file came before its kind: the larger bound applied while streaming
        raise _too_large(limit, form.kind)
    if form.filename is not None and problem(form.filename):
        form.filename = None
    return form
