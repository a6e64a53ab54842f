"""OpenAI's image endpoints, answered by ``text_to_image`` and ``image_to_image`` jobs
(``shared/images.py`` translates; ``api/compat.py`` runs the job and waits)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool

from api.compat import ACCEPTED, IdempotencyKey, RunAsync, form_body, is_multipart, json_body, run_job, validate
from api.deps import AppSettings, Auth, CatalogDep, StorageDep
from api.openapi import AUTHENTICATED, errors
from api.schemas import ImagesResponse
from shared import compat, images
from shared.accounts import Principal
from shared.catalog import Catalog
from shared.db.session import session_scope
from shared.jobs.requests import JobRequestBase
from shared.jobs.submit import Upload
from shared.settings import Settings
from shared.storage.base import Storage

router = APIRouter(prefix="/v1/images", tags=["openai"])
_RESPONSES: dict[int | str, dict[str, Any]] = {**ACCEPTED, **errors(*AUTHENTICATED, 402, 409, 413, 415, 422)}


async def _answer(request: Request, principal: Principal, settings: Settings, catalog: Catalog, storage: Storage,
                  job_request: JobRequestBase, *, endpoint: str, response_format: str, run_async: bool,
                  idempotency_key: str | None, uploads: Mapping[str, Upload] | None = None,
                  names: Mapping[str, str] | None = None) -> Response | dict[str, Any]:
    job = await run_job(request, principal, settings, lambda session: compat.submit(
        session, storage, settings, catalog, principal.account_id, job_request, endpoint=endpoint,
        idempotency_key=idempotency_key, api_key_id=principal.key_id,
        answer_shape={"response_format": response_format}, uploads=uploads, field_names=names), wait=not run_async)
    if isinstance(job, Response):
        return job

    def render() -> dict[str, Any]:
        with session_scope() as session:
            return images.answer(session, storage, settings, principal.account_id, job, response_format)

    return await run_in_threadpool(render)


@router.post("/generations", response_model=ImagesResponse, responses=_RESPONSES)
async def create_images(request: Request, body: images.ImageGenerationBody, principal: Auth, settings: AppSettings,
                        catalog: CatalogDep, storage: StorageDep, run_async: RunAsync = False,
                        idempotency_key: IdempotencyKey = None) -> Response | dict[str, Any]:
    """A ``text_to_image`` job; answers when it completes (or ``202`` with the job)."""
    return await _answer(request, principal, settings, catalog, storage, images.generation_request(body),
                         endpoint=images.GENERATIONS, response_format=body.response_format, run_async=run_async,
                         idempotency_key=idempotency_key)


_EDIT_FIELDS = {name: {"type": "string"} for name in ("prompt", "model", "size", "response_format", "user")}
_EDIT_BODY = {"required": True, "content": {
    "multipart/form-data": {"schema": {"type": "object", "required": ["image", "prompt"], "properties": {
        "image": {"type": "string", "format": "binary"}, "mask": {"type": "string", "format": "binary"},
        "n": {"type": "integer", "minimum": 1, "maximum": 10}, **_EDIT_FIELDS}}},
    "application/json": {"schema": images.ImageEditFields.model_json_schema()}}}


@router.post("/edits", response_model=ImagesResponse, responses=_RESPONSES,
             openapi_extra={"requestBody": _EDIT_BODY})
async def edit_images(request: Request, principal: Auth, settings: AppSettings, catalog: CatalogDep,
                      storage: StorageDep, run_async: RunAsync = False,
                      idempotency_key: IdempotencyKey = None) -> Response | dict[str, Any]:
    """An ``image_to_image`` job: ``image`` (and ``mask``) as multipart files, or as URLs or
    ``data:`` URIs in JSON. Only the mask's transparent pixels change."""
    if is_multipart(request):
        fields, files = await form_body(request, ("image", "mask"))
        body = validate(images.ImageEditFields, fields, strict=False)
    else:
        body, files = validate(images.ImageEditFields, await json_body(request)), {}
    job_request = images.edit_request(body, image_sent="image" in files, mask_sent="mask" in files)
    uploads = {f"{name}_asset_id" if name == "mask" else "input_image_asset_id": Upload(file.file, file.filename)
               for name, file in files.items()}
    return await _answer(request, principal, settings, catalog, storage, job_request, endpoint=images.EDITS,
                         response_format=body.response_format, run_async=run_async,
                         idempotency_key=idempotency_key, uploads=uploads, names=images.EDIT_FIELDS)
