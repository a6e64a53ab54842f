"""OpenAI's audio transcription (``POST /v1/audio/transcriptions``) over the ``transcription``
job mode.

This module holds the compatible request body, its translation into a job request, and the
answer rendered from the completed job's stored transcript. The job is created through
``shared.compat.submit`` like every compatible media endpoint's, so the Idempotency-Key, the
hold, ``webhook_url``/``metadata``, the wait and the ``202`` are the shared ones. The audio
is a multipart file (stored as the caller's asset when the job is created) or, in a JSON
body, an http(s) URL or a ``data:`` URI (fetched or decoded like any input by URL) or bare
base64 (decoded the same way).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy.orm import Session

from shared import compat
from shared.errors import ValidationError
from shared.jobs import service
from shared.jobs.modes import TRANSCRIPTION_MAX_SECONDS, TranscriptionRequest
from shared.jobs.requests import AssetField, InputURL, JobRequestBase, describe_errors
from shared.media import transcripts
from shared.storage.base import Storage

ENDPOINT = "POST /v1/audio/transcriptions"
#: Job request fields under the name the compatible request gives them.
FIELDS = {"audio_asset_id": "file", "audio_url": "file"}
#: The job field a multipart ``file`` fills (a placeholder id until it is stored).
UPLOAD_FIELD = "audio_asset_id"
_PENDING_ID = "ast_upload"
ResponseFormat = Literal["json", "text", "srt", "vtt", "verbose_json"]


def _as_list(value: Any) -> Any:
    # One multipart field without ``[]`` (``timestamp_granularities=word``) is a list of one.
    return [value] if isinstance(value, str) else value


class TranscriptionBody(BaseModel):
    """The request besides a multipart ``file``: OpenAI's fields and the job's (``webhook_url``,
    ``webhook_events``, ``metadata``); anything else is refused, naming it. ``file`` here is
    the JSON body's: an http(s) URL, a ``data:`` URI or base64."""

    model_config = ConfigDict(extra="forbid", strict=True)

    file: InputURL | None = None
    model: str | None = None
    language: str | None = None
    response_format: ResponseFormat = "json"
    timestamp_granularities: Annotated[list[Literal["segment", "word"]] | None, BeforeValidator(_as_list)] = None
    webhook_url: Annotated[str, Field(max_length=2048)] | None = None
    webhook_events: list[str] | None = None
    metadata: dict[str, str] | None = None


class _TranscriptionJob(TranscriptionRequest):
    """The ``transcription`` mode with its audio also given by URL (``data:`` included)."""

    asset_fields = {"audio_asset_id": AssetField("audio", "audio", max_seconds=TRANSCRIPTION_MAX_SECONDS,
                                                 url="audio_url", required=True)}
    audio_asset_id: str | None = None  # type: ignore[assignment]
    audio_url: InputURL | None = None


def job_request(body: TranscriptionBody, *, file_sent: bool) -> JobRequestBase:
    """The ``transcription`` job of a request; ``file_sent``: the audio came as a multipart file
    (the request then names a placeholder asset, replaced when the upload is stored)."""
    if body.timestamp_granularities and body.response_format != "verbose_json":
        raise ValidationError.field("timestamp_granularities", "needs response_format verbose_json")
    if file_sent and body.file is not None:
        raise ValidationError.field("file", "give one file")
    if not file_sent and body.file is None:
        raise ValidationError.field("file", "is required (the audio file)")
    fields: dict[str, Any] = {"mode": "transcription", "model": body.model, "language": body.language,
                              "webhook_url": body.webhook_url, "webhook_events": body.webhook_events,
                              "metadata": body.metadata}
    if file_sent:
        fields["audio_asset_id"] = _PENDING_ID
    else:
        fields["audio_url"] = _as_url(body.file or "")
    try:
        return _TranscriptionJob.model_validate({k: v for k, v in fields.items() if v is not None})
    except PydanticValidationError as exc:
        raise compat.renamed(describe_errors(exc.errors(), ()), FIELDS) from None


def _as_url(file: str) -> str:
    """A JSON ``file`` as an input URL: http(s) and ``data:`` as given, bare base64 as a
    ``data:`` URI (decoded chunk by chunk under the audio upload limit)."""
    if file[:8].lower().startswith(("http://", "https://")) or file[:5].lower() == "data:":
        return file
    return "data:;base64," + file


def answer_shape(body: TranscriptionBody) -> dict[str, Any]:
    """The fields that shape the answer but not the job: part of what a repeat must match."""
    return {"response_format": body.response_format,
            "timestamp_granularities": sorted(set(body.timestamp_granularities or []))}


def answer(session: Session, storage: Storage, account_id: str, view: Mapping[str, Any],
           body: TranscriptionBody) -> dict[str, Any] | str:
    """The completed job's transcript in ``body.response_format``: a dict for the JSON formats
    (with ``usage``: ``type``, ``seconds`` and the job's credits), text for the others."""
    job = service.get_job(session, account_id, view["id"])
    (result,) = [a for a in job.results if a.kind == "text"]
    transcript: dict[str, Any] = json.loads(b"".join(storage.iter_bytes(result.storage_key)))
    usage = {"type": "duration", "seconds": transcript["duration"], **compat.usage(view)}
    return transcripts.render(transcript, body.response_format, body.timestamp_granularities or [], usage)
