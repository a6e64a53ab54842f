from __future__ import annotations

import hashlib
import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Header, Query, Request, UploadFile
from fastapi.responses import JSONResponse, RedirectResponse, Response, StreamingResponse

from api import idempotent
from api.deps import DB, AppSettings, Auth, StorageDep, get_principal
from api.schemas import page
from shared import assets, idempotency, signed
from shared.errors import PayloadTooLarge, RangeNotSatisfiable, Unauthenticated
from shared.settings import get_settings
from shared.storage import attachment_disposition
from shared.views import asset_view

router = APIRouter(prefix="/v1/assets", tags=["assets"])
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
# Multipart framing around the file; a body larger than the limit plus this is refused unread.
_MULTIPART_OVERHEAD = 64 * 1024


def _file_digest(upload: UploadFile) -> str:
    digest = hashlib.sha256()
    while chunk := upload.file.read(1024 * 1024):
        digest.update(chunk)
    upload.file.seek(0)
    return digest.hexdigest()


@router.post("", status_code=201)
def upload_asset(request: Request, principal: Auth, db: DB, settings: AppSettings, storage: StorageDep,
                 kind: Annotated[str, Form()], file: Annotated[UploadFile, File()],
                 idempotency_key: Annotated[str | None, Header()] = None) -> JSONResponse:
    length = int(request.headers.get("content-length") or 0)
    if kind in assets.KINDS and length > assets.max_bytes(settings, kind) + _MULTIPART_OVERHEAD:
        limit = assets.max_bytes(settings, kind)
        raise PayloadTooLarge(f"{kind} uploads are limited to {limit} bytes.", details={"max_bytes": limit})
    return idempotent.respond(
        db, principal.account_id, idempotency_key, "POST /v1/assets", status=201,
        fingerprint=lambda: idempotency.fingerprint(kind, file.filename, _file_digest(file)),
        create=lambda: asset_view(assets.upload(db, storage, settings, account_id=principal.account_id, kind=kind,
                                                stream=file.file, filename=file.filename), settings.base_url),
    )


@router.get("")
def list_assets(principal: Auth, db: DB, settings: AppSettings,
                limit: Annotated[int, Query(ge=1, le=100)] = 20, after: str | None = None,
                kind: Annotated[str | None, Query(pattern="^(image|audio|video)$")] = None) -> dict[str, Any]:
    result = assets.list_assets(db, principal.account_id, limit=limit, after=after, kind=kind)
    return page([asset_view(a, settings.base_url) for a in result.items], result.has_more)


@router.get("/{asset_id}")
def get_asset(asset_id: str, principal: Auth, db: DB, settings: AppSettings) -> dict[str, Any]:
    return asset_view(assets.get_asset(db, principal.account_id, asset_id), settings.base_url)


def _byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The inclusive (start, end) of a single-range ``Range`` header, or None for the whole file."""
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if not match or match.groups() == ("", ""):
        raise RangeNotSatisfiable("Only a single byte range is supported.",
                                  headers={"Content-Range": f"bytes */{size}"})
    first, last = match.groups()
    if first == "":
        start, end = max(0, size - int(last)), size - 1
    else:
        start, end = int(first), min(int(last), size - 1) if last else size - 1
    if start >= size or start > end:
        raise RangeNotSatisfiable(f"Range {header} is outside 0–{size - 1}.",
                                  headers={"Content-Range": f"bytes */{size}"})
    return start, end


def content_owner(request: Request, asset_id: str, expires: int | None = None,
                  signature: str | None = None) -> str | None:
    """The account allowed to read: the caller's, or None for a valid signed URL (the short-lived
    links handed to upstream providers, which cannot send our API key)."""
    if expires is not None and signature is not None:
        if not signed.verify_asset(get_settings(), asset_id, expires, signature):
            raise Unauthenticated("The signed URL is invalid or has expired.")
        return None
    return get_principal(request).account_id


@router.get("/{asset_id}/content")
def asset_content(asset_id: str, owner: Annotated[str | None, Depends(content_owner)], db: DB,
                  storage: StorageDep, range_: Annotated[str | None, Header(alias="range")] = None,
                  download: bool = False) -> Response:
    asset = assets.get_asset(db, owner, asset_id) if owner else assets.get_asset_by_id(db, asset_id)
    disposition = attachment_disposition(asset.filename) if download else f'inline; filename="{asset.filename}"'
    presigned = storage.presigned_url(asset.storage_key, expires_in=300, content_type=asset.content_type,
                                      download_filename=asset.filename if download else None)
    if presigned:
        return RedirectResponse(presigned, status_code=302)
    headers = {"Accept-Ranges": "bytes", "Content-Disposition": disposition, "ETag": f'"{asset.sha256}"',
               "Cache-Control": "private, max-age=300"}
    span = _byte_range(range_, asset.bytes)
    if span is None:
        headers["Content-Length"] = str(asset.bytes)
        return StreamingResponse(storage.iter_bytes(asset.storage_key), media_type=asset.content_type,
                                 headers=headers)
    start, end = span
    headers["Content-Range"] = f"bytes {start}-{end}/{asset.bytes}"
    headers["Content-Length"] = str(end - start + 1)
    return StreamingResponse(storage.iter_bytes(asset.storage_key, start, end), status_code=206,
                             media_type=asset.content_type, headers=headers)


@router.delete("/{asset_id}", status_code=204)
def delete_asset(asset_id: str, principal: Auth, db: DB, storage: StorageDep) -> Response:
    assets.delete_asset(db, storage, principal.account_id, asset_id)
    return Response(status_code=204)
