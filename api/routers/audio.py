"""OpenAI's ``POST /v1/audio/transcriptions``, answered by a ``transcription`` job
(``shared/transcriptions.py`` translates and renders; ``api/compat.py`` runs the job and waits)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from api import compat
from api.deps import AppSettings, Auth, CatalogDep, StorageDep
from api.openapi import AUTHENTICATED, errors
from shared import compat as shared_compat
from shared import transcriptions
from shared.db.session import session_scope
from shared.jobs.submit import Upload
from shared.media import transcripts

router = APIRouter(prefix="/v1/audio", tags=["openai"])

_TEXT = {"schema": {"type": "string"}}
_JOB_FIELDS = {"webhook_url": {"type": "string"}, "webhook_events[]": {"type": "array", "items": {"type": "string"}}}
_MULTIPART = {"type": "object", "required": ["file"], "properties": {
    "file": {"type": "string", "format": "binary"}, "model": {"type": "string"}, "language": {"type": "string"},
    "response_format": {"type": "string", "enum": list(transcripts.FORMATS)},
    "timestamp_granularities[]": {"type": "array", "items": {"type": "string", "enum": ["segment", "word"]}},
    **_JOB_FIELDS}}
_BODY = {"required": True, "content": {
    "multipart/form-data": {"schema": _MULTIPART},
    "application/json": {"schema": transcriptions.TranscriptionBody.model_json_schema()}}}


@router.post("/transcriptions", response_model=None, responses={
    200: {"description": "The transcript in the requested response_format.",
          "content": {"application/json": {"schema": {"type": "object"}}, "text/plain": _TEXT,
                      "text/vtt": _TEXT, "application/x-subrip": _TEXT}},
    **compat.ACCEPTED, **errors(*AUTHENTICATED, 402, 409, 413, 415, 422)},
    openapi_extra={"requestBody": _BODY})
async def create_transcription(request: Request, principal: Auth, settings: AppSettings, catalog: CatalogDep,
                               storage: StorageDep, run_async: compat.RunAsync = False,
                               idempotency_key: compat.IdempotencyKey = None) -> Response:
    """A ``transcription`` job: ``file`` as a multipart file (as the SDK sends it), or in JSON as
    an http(s) URL, a ``data:`` URI or base64. Answers the transcript when the job ends (or
    ``202`` with the job)."""
    if compat.is_multipart(request):
        fields, files = await compat.form_body(request, ("file",))
        body = compat.validate(transcriptions.TranscriptionBody, fields, strict=False)
    else:
        body, files = compat.validate(transcriptions.TranscriptionBody, await compat.json_body(request)), {}
    job_request = transcriptions.job_request(body, file_sent="file" in files)
    file = files.get("file")
    uploads = {transcriptions.UPLOAD_FIELD: Upload(file.file, file.filename)} if file else None
    job = await compat.run_job(request, principal, settings, lambda session: shared_compat.submit(
        session, storage, settings, catalog, principal.account_id, job_request, endpoint=transcriptions.ENDPOINT,
        idempotency_key=idempotency_key, api_key_id=principal.key_id, answer_shape=transcriptions.answer_shape(body),
        uploads=uploads, field_names=transcriptions.FIELDS), wait=not run_async)
    if isinstance(job, Response):
        return job  # 202: still running

    def render() -> dict[str, Any] | str:
        with session_scope() as session:
            return transcriptions.answer(session, storage, principal.account_id, job, body)

    rendered = await run_in_threadpool(render)
    if isinstance(rendered, str):
        return PlainTextResponse(rendered, media_type=transcripts.CONTENT_TYPES[body.response_format])
    return JSONResponse(rendered)
