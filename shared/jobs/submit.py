"""``POST /v1/jobs`` as one domain call: the Idempotency-Key, inputs by URL (or sent with the
request itself), then the job itself (inputs checked, price held, queued after commit), in the
caller's session — inputs by URL fetched between two of its transactions, holding no connection."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, BinaryIO

from sqlalchemy.orm import Session

from shared import assets, idempotency, url_inputs
from shared.catalog import Catalog
from shared.errors import AtelierError
from shared.jobs.requests import JobRequestBase
from shared.jobs.service import create_job, resolve_model
from shared.settings import Settings
from shared.storage.base import Storage
from shared.views import job_view

ENDPOINT = "POST /v1/jobs"
_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Upload:
    """An input file sent with the request (a multipart part), stored as the caller's asset
    (``"source": "upload"``) when the job is created — not on an idempotent repeat."""

    stream: BinaryIO
    filename: str | None = None

    def sha256(self) -> str:
        """The content's digest (it fingerprints the request); the stream is rewound after."""
        digest = hashlib.sha256()
        while chunk := self.stream.read(_CHUNK):
            digest.update(chunk)
        self.stream.seek(0)
        return digest.hexdigest()


def submit(session: Session, storage: Storage, account_id: str, request: JobRequestBase, catalog: Catalog,
           settings: Settings, *, idempotency_key: str | None = None, api_key_id: str | None = None,
           endpoint: str = ENDPOINT, fingerprint_extra: Mapping[str, Any] | None = None,
           uploads: Mapping[str, Upload] | None = None) -> idempotency.Outcome:
    """The job's public view, created once per idempotency key (a repeat replays the first answer;
    the same key with another request is 422, one still in flight 409), in ``session``'s transaction.

    Inputs given by URL are fetched holding no database connection: the session's transaction so
    far (the caller's key check, this key's lookup) is committed first, the inputs are fetched and
    checked into temporary files, and a new transaction of ``session`` stores them as assets and
    creates the job — or, if it fails (402, 400), rolls back with no asset row or stored object
    left. A repeat of a key already answered replays before anything is fetched.

    ``endpoint`` scopes the key (a key used on one endpoint is "reused" on another);
    ``fingerprint_extra`` adds what the endpoint's request holds beyond the job request (how an
    OpenAI-compatible answer is shaped), so a repeat that differs there is a different request.
    ``uploads`` maps asset fields of the request (``input_image_asset_id``) to files sent with
    it; the request holds any placeholder id there, replaced by the stored asset's."""
    uploads = uploads or {}
    # Without extras the fingerprint is the one POST /v1/jobs always had (stored keys stay valid).
    extra = {**(fingerprint_extra or {}), **{f"{name}.sha256": u.sha256() for name, u in uploads.items()}}
    parts = (request.given(), extra) if extra else (request.given(),)

    def once(fetched: Mapping[str, url_inputs.Fetched]) -> idempotency.Outcome:
        return idempotency.once(
            session, account_id, idempotency_key, endpoint, status=202,
            fingerprint=lambda: idempotency.fingerprint(*parts),
            create=lambda: _create(session, storage, account_id, request, catalog, settings, api_key_id=api_key_id,
                                   uploads=uploads, fetched=fetched))

    if not url_inputs.given(request):
        return once({})
    if idempotency_key is not None:
        replay = idempotency.lookup(session, account_id, idempotency_key, endpoint, idempotency.fingerprint(*parts))
        if replay is not None:
            return idempotency.Outcome(replay.status, replay.body, replayed=True)
    resolve_model(request, catalog)  # a request no model can serve fetches and stores nothing
    session.commit()  # the connection goes back to the pool while the inputs are fetched
    with url_inputs.fetched(settings, request) as fetched:
        return once(fetched)


def _create(session: Session, storage: Storage, account_id: str, request: JobRequestBase, catalog: Catalog,
            settings: Settings, *, api_key_id: str | None, uploads: Mapping[str, Upload],
            fetched: Mapping[str, url_inputs.Fetched]) -> dict[str, Any]:
    resolve_model(request, catalog)  # a request no model can serve stores nothing
    stored = {name: _store(session, storage, settings, account_id, request, name, upload)
              for name, upload in uploads.items()}
    resolved = url_inputs.store(session, storage, settings, account_id,
                                request.model_copy(update=stored) if stored else request, fetched)
    job = create_job(session, account_id, resolved, catalog, settings, api_key_id=api_key_id)
    return job_view(job, settings.base_url)


def _store(session: Session, storage: Storage, settings: Settings, account_id: str, request: JobRequestBase,
           name: str, upload: Upload) -> str:
    try:
        return assets.upload(session, storage, settings, account_id=account_id,
                             kind=request.asset_fields[name].kind, stream=upload.stream,
                             filename=upload.filename).id
    except AtelierError as exc:
        errors = exc.details.get("errors")
        if isinstance(errors, list):  # "file is empty": the field is this one
            for error in errors:
                error["field"] = name
            exc.message = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        exc.param = name
        raise
