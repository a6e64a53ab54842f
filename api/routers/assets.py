from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, RedirectResponse, Response, StreamingResponse

from api import uploads
from api.deps import DB, AppSettings, Auth, StorageDep, get_principal
from api.idempotent import answer
from api.openapi import AUTHENTICATED, errors
from api.schemas import Asset, AssetKind, Page, page
from shared import assets, idempotency, signed
from shared.db.models import Asset as AssetRow
from shared.db.session import session_scope
from shared.errors import RangeNotSatisfiable, Unauthenticated
from shared.settings import get_settings
from shared.storage import attachment_disposition, get_storage
from shared.storage.base import Storage
from shared.views import asset_view

router = APIRouter(prefix="/v1/assets", tags=["assets"])
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _create(account_id: str, form: uploads.UploadForm, idempotency_key: str | None) -> JSONResponse:
    settings = get_settings()
    storage = get_storage(settings)
    with session_scope() as db:
        return answer(idempotency.once(
            db, account_id, idempotency_key, "POST /v1/assets", status=201,
            fingerprint=lambda: idempotency.fingerprint(form.kind, form.filename, form.digest.hexdigest()),
            create=lambda: asset_view(assets.store_file(
                db, storage, settings, account_id=account_id, kind=form.kind or "", path=form.path,
                size=form.size, filename=form.filename, source="upload", sha256=form.digest.hexdigest()),
                settings.base_url),
        ))


_UPLOAD_BODY = {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["kind", "file"], "additionalProperties": False,
    "properties": {"kind": {"type": "string", "enum": ["image", "audio", "video"]},
                   "file": {"type": "string", "format": "binary"}}}}}}


@router.post("", status_code=201, response_model=Asset, openapi_extra={"requestBody": _UPLOAD_BODY},
             responses=errors(*AUTHENTICATED, 409, 413, 415, 422))
async def upload_asset(request: Request, principal: Auth,
                       idempotency_key: Annotated[str | None, Header()] = None) -> JSONResponse:
    """Multipart ``kind`` and ``file``, read only after authentication and cut off at the kind's limit."""
    with tempfile.TemporaryDirectory(prefix="atelier-upload-") as tmp:
        form = await uploads.receive(request, get_settings(), Path(tmp))
        return await run_in_threadpool(_create, principal.account_id, form, idempotency_key)


@router.get("", response_model=Page[Asset], responses=errors(*AUTHENTICATED))
def list_assets(principal: Auth, db: DB, settings: AppSettings,
                limit: Annotated[int, Query(ge=1, le=100)] = 20,
                after: Annotated[str | None, Query(max_length=80)] = None,
                kind: AssetKind | None = None) -> dict[str, Any]:
    result = assets.list_assets(db, principal.account_id, limit=limit, after=after, kind=kind)
    return page([asset_view(a, settings.base_url) for a in result.items], result.has_more)


@router.get("/{asset_id}", response_model=Asset, responses=errors(*AUTHENTICATED, 404))
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
                  signature: Annotated[str | None, Query(max_length=128)] = None) -> str | None:
    """The account allowed to read: the caller's, or None for a valid signed URL (the short-lived
    links handed to upstream providers, which cannot send our API key). The OpenAPI document
    lists the credentials (``api.openapi._declare_credentials``)."""
    if expires is not None and signature is not None:
        if not signed.verify_asset(get_settings(), asset_id, expires, signature):
            raise Unauthenticated("The signed URL is invalid or has expired.")
        return None
    return get_principal(request).account_id


_MEDIA = {"schema": {"type": "string", "format": "binary"}}


@router.get("/{asset_id}/content", response_class=Response, responses={
    **errors(*AUTHENTICATED, 404, 416),
    200: {"description": "The bytes, with the asset's content type.",
          "content": {"image/*": _MEDIA, "audio/*": _MEDIA, "video/*": _MEDIA}},
    206: {"description": "The requested byte range.",
          "content": {"image/*": _MEDIA, "audio/*": _MEDIA, "video/*": _MEDIA}},
    302: {"description": "Redirect to a presigned storage URL (valid ≤ 5 minutes)."}})
def asset_content(asset_id: str, owner: Annotated[str | None, Depends(content_owner)], db: DB,
                  storage: StorageDep, range_: Annotated[str | None, Header(alias="range")] = None,
                  download: bool = False) -> Response:
    asset = assets.get_asset(db, owner, asset_id) if owner else assets.get_asset_by_id(db, asset_id)
    return serve(asset, storage, range_, download)


def serve(asset: AssetRow, storage: Storage, range_: str | None, download: bool) -> Response:
    """The asset's bytes (a byte range of them), or a redirect to a presigned storage URL."""
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


@router.delete("/{asset_id}", status_code=204, response_class=Response,
               responses=errors(*AUTHENTICATED, 404, 409))
def delete_asset(asset_id: str, principal: Auth, db: DB, storage: StorageDep) -> Response:
    assets.delete_asset(db, storage, principal.account_id, asset_id)
    return Response(status_code=204)
