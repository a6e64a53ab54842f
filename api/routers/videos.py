"""OpenAI's video API: ``client.videos.create``, ``retrieve``, ``list``, ``delete`` and
``download_content``, each video an Atelier job of a video mode (``shared.videos``)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from api import compat
from api.deps import DB, AppSettings, Auth, CatalogDep, StorageDep
from api.idempotent import answer
from api.openapi import AUTHENTICATED, errors
from api.routers.assets import serve
from api.schemas import Video, VideoDeleted, VideoList
from shared import videos
from shared.errors import ValidationError
from shared.jobs.submit import Upload

router = APIRouter(prefix="/v1/videos", tags=["openai"])
_REFERENCE = "input_reference"


async def _fields(request: Request) -> tuple[dict[str, Any], Upload | None]:
    """The create fields from multipart (as the SDK sends them: the reference object's keys as
    ``input_reference[image_url]``) or a JSON object, and the reference picture sent as a file."""
    if not compat.is_multipart(request):
        return await compat.json_body(request), None
    fields, files = await compat.form_body(request, (_REFERENCE,))
    nested = {name[len(_REFERENCE) + 1:-1]: fields.pop(name) for name in list(fields)
              if name.startswith(_REFERENCE + "[") and name.endswith("]")}
    if nested:
        fields[_REFERENCE] = nested
    file = files.get(_REFERENCE)
    if file is not None and _REFERENCE in fields:
        raise ValidationError.field(_REFERENCE, "give a file or a reference object, not both")
    return fields, Upload(file.file, file.filename) if file is not None else None


_CREATE_FIELDS = {"prompt": {"type": "string", "minLength": 1, "maxLength": 500},
                  "model": {"type": "string"}, "seconds": {"type": "string", "example": "4"},
                  "size": {"type": "string", "enum": list(videos.SIZES), "default": videos.DEFAULT_SIZE},
                  "webhook_url": {"type": "string"}}
_REFERENCE_OBJECT = {"type": "object", "additionalProperties": False,
                     "properties": {"image_url": {"type": "string"}, "file_id": {"type": "string"}}}


def _create_schema(reference: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": ["prompt"], "additionalProperties": False,
            "properties": {**_CREATE_FIELDS, _REFERENCE: reference}}


_CREATE_BODY = {"required": True, "content": {
    "multipart/form-data": {"schema": _create_schema({"type": "string", "format": "binary"})},
    "application/json": {"schema": _create_schema(_REFERENCE_OBJECT)}}}


@router.post("", response_model=Video, responses=errors(*AUTHENTICATED, 402, 404, 409, 413, 415, 422),
             openapi_extra={"requestBody": _CREATE_BODY})
async def create_video(request: Request, principal: Auth, db: DB, settings: AppSettings, catalog: CatalogDep,
                       storage: StorageDep,
                       idempotency_key: Annotated[str | None, Header()] = None) -> JSONResponse:
    """A video job from OpenAI's fields (``prompt``, ``model``, ``seconds``, ``size``,
    ``input_reference``); answers the Video, ``queued``. Idempotency-Key, holds and
    ``webhook_url`` work as for ``POST /v1/jobs``."""
    fields, reference = await _fields(request)
    form = compat.validate(videos.VideoCreate, fields)
    outcome = await run_in_threadpool(
        videos.create, db, storage, settings, catalog, principal.account_id, form, reference=reference,
        idempotency_key=idempotency_key, api_key_id=principal.key_id)
    return answer(outcome)


@router.get("", response_model=VideoList, responses=errors(*AUTHENTICATED))
def list_videos(principal: Auth, db: DB, settings: AppSettings,
                limit: Annotated[int, Query(ge=1, le=100)] = 20,
                after: Annotated[str | None, Query(max_length=80)] = None,
                order: Literal["asc", "desc"] = "desc") -> dict[str, Any]:
    return videos.list_videos(db, settings, principal.account_id, limit=limit, after=after, order=order)


@router.get("/{video_id}", response_model=Video, responses=errors(*AUTHENTICATED, 404))
def retrieve_video(video_id: str, principal: Auth, db: DB, settings: AppSettings) -> dict[str, Any]:
    return videos.retrieve(db, settings, principal.account_id, video_id)


@router.delete("/{video_id}", response_model=VideoDeleted, responses=errors(*AUTHENTICATED, 404, 409))
def delete_video(video_id: str, principal: Auth, db: DB, storage: StorageDep) -> dict[str, Any]:
    """A queued or finished video and its media, as ``DELETE /v1/jobs/{id}`` (409 while running)."""
    return videos.delete(db, storage, principal.account_id, video_id)


_MEDIA = {"schema": {"type": "string", "format": "binary"}}


@router.get("/{video_id}/content", response_class=Response, responses={
    **errors(*AUTHENTICATED, 404, 409, 416),
    200: {"description": "The MP4 (`variant=video`), a WebP thumbnail or a JPEG spritesheet.",
          "content": {"video/mp4": _MEDIA, "image/webp": _MEDIA, "image/jpeg": _MEDIA}},
    206: {"description": "The requested byte range of the MP4.", "content": {"video/mp4": _MEDIA}},
    302: {"description": "Redirect to a presigned storage URL of the MP4 (valid ≤ 5 minutes)."}})
def video_content(video_id: str, principal: Auth, db: DB, storage: StorageDep,
                  variant: videos.Variant = "video",
                  range_: Annotated[str | None, Header(alias="range")] = None) -> Response:
    asset = videos.video_asset(db, principal.account_id, video_id)
    if variant == "video":
        return serve(asset, storage, range_, download=False)
    data, content_type = videos.still(storage, asset, variant)
    return Response(data, media_type=content_type, headers={"Cache-Control": "private, max-age=300"})
