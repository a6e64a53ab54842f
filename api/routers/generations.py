"""AI Magicx's ``POST /v1/videos/generations`` and ``POST /v1/music/generations``: a job each,
answered ``202`` at once (``?async=false`` waits and answers the result's signed URL)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from api.compat import ACCEPTED, IdempotencyKey, RunAsync, run_job
from api.deps import AppSettings, Auth, CatalogDep, StorageDep
from api.openapi import AUTHENTICATED, errors
from api.schemas import MediaGeneration
from shared import compat, generations
from shared.accounts import Principal
from shared.catalog import Catalog
from shared.jobs.requests import JobRequestBase
from shared.settings import Settings
from shared.storage.base import Storage

router = APIRouter(tags=["openai"])
_RESPONSES: dict[int | str, dict[str, Any]] = {**ACCEPTED, **errors(*AUTHENTICATED, 402, 409, 413, 415, 422)}


async def _generate(request: Request, principal: Principal, settings: Settings, catalog: Catalog,
                    storage: Storage, job_request: JobRequestBase, *, endpoint: str, names: dict[str, str],
                    run_async: bool, idempotency_key: str | None) -> Response | dict[str, Any]:
    job = await run_job(request, principal, settings, lambda session: compat.submit(
        session, storage, settings, catalog, principal.account_id, job_request, endpoint=endpoint,
        idempotency_key=idempotency_key, api_key_id=principal.key_id, field_names=names), wait=not run_async)
    if isinstance(job, Response):
        return job
    return generations.answer(job, settings)


@router.post("/v1/videos/generations", response_model=MediaGeneration, responses=_RESPONSES)
async def generate_video(request: Request, body: generations.VideoGenerationBody, principal: Auth,
                         settings: AppSettings, catalog: CatalogDep, storage: StorageDep,
                         run_async: RunAsync = True,
                         idempotency_key: IdempotencyKey = None) -> Response | dict[str, Any]:
    """A ``text_to_video``, ``image_to_video`` or ``video_to_video`` job: ``202`` with the job at
    once, or with ``?async=false`` the finished video."""
    return await _generate(request, principal, settings, catalog, storage, generations.video_request(body),
                           endpoint=generations.VIDEOS, names=generations.VIDEO_NAMES, run_async=run_async,
                           idempotency_key=idempotency_key)


@router.post("/v1/music/generations", response_model=MediaGeneration, responses=_RESPONSES)
async def generate_music(request: Request, body: generations.MusicGenerationBody, principal: Auth,
                         settings: AppSettings, catalog: CatalogDep, storage: StorageDep,
                         run_async: RunAsync = True,
                         idempotency_key: IdempotencyKey = None) -> Response | dict[str, Any]:
    """A ``music`` (``text_to_music``) or ``audio_to_audio`` job: ``202`` with the job at once, or
    with ``?async=false`` the finished audio."""
    return await _generate(request, principal, settings, catalog, storage, generations.music_request(body),
                           endpoint=generations.MUSIC, names=generations.MUSIC_NAMES, run_async=run_async,
                           idempotency_key=idempotency_key)
