"""``POST /v1/jobs`` as one domain call: the Idempotency-Key, inputs by URL, then the job itself
(inputs checked, price held, queued after commit), all in the caller's transaction."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from shared import idempotency, url_inputs
from shared.catalog import Catalog
from shared.jobs.requests import JobRequestBase
from shared.jobs.service import create_job
from shared.settings import Settings
from shared.storage.base import Storage
from shared.views import job_view

ENDPOINT = "POST /v1/jobs"


def submit(session: Session, storage: Storage, account_id: str, request: JobRequestBase, catalog: Catalog,
           settings: Settings, *, idempotency_key: str | None = None, api_key_id: str | None = None,
           endpoint: str = ENDPOINT, fingerprint_extra: Mapping[str, Any] | None = None) -> idempotency.Outcome:
    """The job's public view, created once per idempotency key (a repeat replays the first answer;
    the same key with another request is 422, one still in flight 409). Inputs given by URL are
    fetched and stored as assets first, inside the same idempotent step.

    ``endpoint`` scopes the key (a key used on one endpoint is "reused" on another);
    ``fingerprint_extra`` adds what the endpoint's request holds beyond the job request (how an
    OpenAI-compatible answer is shaped), so a repeat that differs there is a different request."""
    def create() -> dict[str, Any]:
        resolved = url_inputs.resolve(session, storage, settings, account_id, request)
        job = create_job(session, account_id, resolved, catalog, settings, api_key_id=api_key_id)
        return job_view(job, settings.base_url)

    # Without extras the fingerprint is the one POST /v1/jobs always had (stored keys stay valid).
    parts = (request.given(), dict(fingerprint_extra)) if fingerprint_extra else (request.given(),)
    return idempotency.once(session, account_id, idempotency_key, endpoint, status=202,
                            fingerprint=lambda: idempotency.fingerprint(*parts), create=create)
