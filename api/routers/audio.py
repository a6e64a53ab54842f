"""OpenAI's audio transcription endpoint, answered by a ``transcription`` job."""

from __future__ import annotations

from typing import Any, BinaryIO, Literal

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel, ConfigDict
from pydantic import ValidationError as PydanticValidationError
from starlette.datastructures import UploadFile

from api.deps import AppSettings, Auth, CatalogDep, StorageDep
from api.openapi import AUTHENTICATED, errors
from api.schemas import Job
from api.waiting import wait_for_job
from shared import transcriptions
from shared.catalog import Catalog
from shared.db.session import session_scope
from shared.errors import ServiceUnavailable, ValidationError
from shared.jobs.requests import describe_errors
from shared.media import transcripts
from shared.settings import Settings
from shared.storage.base import Storage

router = APIRouter(prefix="/v1/audio", tags=["openai"])
_MAX_FIELDS = 20


class TranscriptionForm(BaseModel):
    """The fields besides ``file``; anything else is refused, naming it."""

    model_config = ConfigDict(extra="forbid")

    model: str | None = None
    language: str | None = None
    response_format: Literal["json", "text", "srt", "vtt", "verbose_json"] = "json"
    timestamp_granularities: list[Literal["segment", "word"]] | None = None


async def _read_body(request: Request) -> tuple[dict[str, Any], BinaryIO | str, str | None]:
    """(fields, the audio or its URL, its file name) from multipart (as the SDK sends it) or JSON."""
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await request.form(max_files=1, max_fields=_MAX_FIELDS)
        fields: dict[str, Any] = {}
        upload: UploadFile | None = None
        for name, value in form.multi_items():
            if name == "file" and isinstance(value, UploadFile):
                upload = value
            elif name in ("timestamp_granularities[]", "timestamp_granularities"):
                fields.setdefault("timestamp_granularities", []).append(value)
            else:
                fields[name] = value
        if upload is None:
            raise ValidationError.field("file", "is required (the audio file)")
        return fields, upload.file, upload.filename
    try:
        body = await request.json()
    except ValueError:
        raise ValidationError("The request body is not valid JSON (or send multipart/form-data).",
                              details={"errors": [{"field": "body", "message": "malformed JSON"}]}) from None
    if not isinstance(body, dict) or not isinstance(body.get("file"), str):
        raise ValidationError.field("file", "is required: an http(s) URL, a data: URI or base64 (or send multipart)")
    fields, file = {k: v for k, v in body.items() if k != "file"}, body["file"]
    return fields, file if transcriptions.is_url(file) else transcriptions.decode_file_field(file), None


def _form(fields: dict[str, Any]) -> TranscriptionForm:
    try:
        form = TranscriptionForm.model_validate(fields)
    except PydanticValidationError as exc:
        raise describe_errors(exc.errors(), ()) from None
    if form.timestamp_granularities and form.response_format != "verbose_json":
        raise ValidationError.field("timestamp_granularities", "needs response_format verbose_json")
    return form


def _submit(account_id: str, form: TranscriptionForm, audio: BinaryIO | str, filename: str | None, storage: Storage,
            settings: Settings, catalog: Catalog) -> str:
    with session_scope() as session:
        return transcriptions.submit(session, storage, settings, catalog, account_id, audio=audio,
                                     filename=filename, model=form.model, language=form.language).id


def _transcript(account_id: str, job_id: str, storage: Storage) -> dict[str, Any]:
    with session_scope() as session:
        return transcriptions.transcript(session, storage, account_id, job_id)


_TEXT = {"schema": {"type": "string"}}
_MULTIPART = {"type": "object", "required": ["file"], "properties": {
    "file": {"type": "string", "format": "binary"}, "model": {"type": "string"}, "language": {"type": "string"},
    "response_format": {"type": "string", "enum": list(transcripts.FORMATS)},
    "timestamp_granularities[]": {"type": "array", "items": {"type": "string", "enum": ["segment", "word"]}}}}


@router.post("/transcriptions", response_model=None, responses={
    200: {"description": "The transcript in the requested response_format.",
          "content": {"application/json": {"schema": {"type": "object"}}, "text/plain": _TEXT,
                      "text/vtt": _TEXT, "application/x-subrip": _TEXT}},
    202: {"model": Job, "description": "Still running at the wait limit: the job, to poll."},
    **errors(*AUTHENTICATED, 402, 413, 415)},
    openapi_extra={"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": _MULTIPART}}}})
async def create_transcription(request: Request, principal: Auth, settings: AppSettings, catalog: CatalogDep,
                               storage: StorageDep) -> Response:
    fields, audio, filename = await _read_body(request)
    form = _form(fields)
    job_id = await run_in_threadpool(_submit, principal.account_id, form, audio, filename, storage, settings,
                                     catalog)
    view = await wait_for_job(request, principal.account_id, job_id, settings.sync_wait_seconds)
    if view["status"] in ("queued", "running"):
        return JSONResponse(view, status_code=202)  # still running: the job is the answer, nothing is lost
    if view["status"] != "completed":
        raise ServiceUnavailable(f"The transcription job {job_id} {view['status']}; nothing was charged.",
                                 details={"job_id": job_id, "job_error": view.get("error")})
    transcript = await run_in_threadpool(_transcript, principal.account_id, job_id, storage)
    usage = {"type": "duration", "seconds": transcript["duration"], "credits_used": view["credits_charged"]}
    rendered = transcripts.render(transcript, form.response_format, form.timestamp_granularities or [], usage)
    headers = {"X-Atelier-Job-Id": job_id}
    if isinstance(rendered, str):
        return PlainTextResponse(rendered, media_type=transcripts.CONTENT_TYPES[form.response_format],
                                 headers=headers)
    return JSONResponse(rendered, headers=headers)
