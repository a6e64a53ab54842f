"""Transcription as OpenAI's ``/v1/audio/transcriptions`` does it, over the ``transcription``
job mode: the audio becomes the caller's asset, the job is created (held, queued), and once it
completes its stored transcript is read back for rendering."""

from __future__ import annotations

import base64
import binascii
import io
import json
import re
from typing import Any, BinaryIO

from sqlalchemy.orm import Session

from shared import assets, url_inputs
from shared.catalog import Catalog
from shared.db.models import Asset, Job
from shared.errors import ValidationError
from shared.jobs import modes, service
from shared.settings import Settings
from shared.storage.base import Storage

_DATA_URI = re.compile(r"^data:[\w.+-]+/[\w.+-]+(;[\w=.+-]+)*;base64,", re.IGNORECASE)


def is_url(value: str) -> bool:
    """A JSON ``file`` to fetch (``shared.url_inputs``) rather than decode."""
    return value[:8].lower().startswith(("http://", "https://"))


def decode_file_field(value: str) -> BinaryIO:
    """A JSON ``file`` given inline: a ``data:`` URI or bare base64."""
    try:
        return io.BytesIO(base64.b64decode(_DATA_URI.sub("", value, count=1), validate=True))
    except (binascii.Error, ValueError):
        raise ValidationError.field("file", "is not a data: URI or base64") from None


def submit(session: Session, storage: Storage, settings: Settings, catalog: Catalog, account_id: str, *,
           audio: BinaryIO | str, filename: str | None, model: str | None, language: str | None) -> Job:
    """``audio`` is the bytes, or an http(s) URL fetched through the guarded client (the audio
    upload limit; a bad URL is a 400 naming ``file``)."""
    request = modes.parse({"mode": "transcription", "audio_asset_id": "ast_pending", "model": model,
                           "language": language})
    if isinstance(audio, str):
        asset = url_inputs.fetch_asset(session, storage, settings, account_id=account_id, kind="audio", url=audio,
                                       field="file")
    else:
        asset = assets.upload(session, storage, settings, account_id=account_id, kind="audio", stream=audio,
                              filename=filename)
    request = request.model_copy(update={"audio_asset_id": asset.id})
    return service.create_job(session, account_id, request, catalog, settings)


def transcript(session: Session, storage: Storage, account_id: str, job_id: str) -> dict[str, Any]:
    """The completed job's transcript."""
    job = service.get_job(session, account_id, job_id)
    (result,) = [a for a in job.results if a.kind == "text"]
    return _read_json(storage, result)


def _read_json(storage: Storage, asset: Asset) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(b"".join(storage.iter_bytes(asset.storage_key)))
    return data
