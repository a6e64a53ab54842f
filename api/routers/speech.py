"""OpenAI's ``POST /v1/audio/speech``, answered by an ``audio`` job (``shared/speech.py``)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response, StreamingResponse

from api import compat
from api.deps import AppSettings, Auth, CatalogDep, StorageDep
from api.openapi import AUTHENTICATED, errors
from api.schemas import SpeechAnswer
from shared import compat as shared_compat
from shared import speech
from shared.assets import get_asset
from shared.db.session import session_scope
from shared.speech import SpeechBody

router = APIRouter(prefix="/v1/audio", tags=["openai"])
_AUDIO = {"schema": {"type": "string", "format": "binary"}}
_JSON_RANK = 2  # explicitly asked for: beats */* and audio/* at the same q


def wants_json(accept: str | None) -> bool:
    """Whether ``Accept`` prefers ``application/json`` to the audio itself (the SDK sends
    ``application/octet-stream``, curl ``*/*``: both get the bytes)."""
    best: dict[bool, tuple[float, int]] = {True: (0.0, 0), False: (0.0, 0)}
    for item in (accept or "").split(","):
        media, *params = [part.strip().lower() for part in item.split(";")]
        quality = 1.0
        for param in params:
            if param.startswith("q="):
                try:
                    quality = float(param[2:])
                except ValueError:
                    quality = 0.0
        is_json = media == "application/json"
        if is_json or media in ("*/*", "audio/*", "application/octet-stream") or media.startswith("audio/"):
            rank = _JSON_RANK if is_json else 1
            best[is_json] = max(best[is_json], (quality, rank))
    return best[True][0] > 0 and best[True] > best[False]


def _stored(account_id: str, asset_id: str) -> tuple[str, int]:
    with session_scope() as session:
        asset = get_asset(session, account_id, asset_id)
        return asset.storage_key, asset.bytes


@router.post("/speech", response_model=None, responses={
    200: {"model": SpeechAnswer,
          "description": "The audio in `response_format` (as OpenAI answers it); with `Accept: application/json`, "
                         "a signed URL to it instead.",
          "content": {media: _AUDIO for media in dict.fromkeys(speech.CONTENT_TYPES.values())}},
    **compat.ACCEPTED, **errors(*AUTHENTICATED, 402, 409, 413, 422)})
async def create_speech(body: SpeechBody, request: Request, principal: Auth, settings: AppSettings,
                        catalog: CatalogDep, storage: StorageDep,
                        idempotency_key: compat.IdempotencyKey = None) -> Response:
    job_request = speech.job_request(body)
    job = await compat.run_job(request, principal, settings, lambda session: shared_compat.submit(
        session, storage, settings, catalog, principal.account_id, job_request, endpoint=speech.ENDPOINT,
        idempotency_key=idempotency_key, api_key_id=principal.key_id, answer_shape=speech.answer_shape(body)),
        wait=True)
    if isinstance(job, Response):
        return job  # 202: still running at the synchronous wait limit
    if wants_json(request.headers.get("accept")):
        return JSONResponse(SpeechAnswer.model_validate(speech.json_answer(job, settings, body)).model_dump())
    key, size = await run_in_threadpool(_stored, principal.account_id, speech.result(job)["id"])
    return StreamingResponse(storage.iter_bytes(key), media_type=speech.CONTENT_TYPES[body.response_format],
                             headers={"Content-Length": str(size)})
