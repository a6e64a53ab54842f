"""What every OpenAI-compatible media endpoint shares: a compatible request answered by a job.

An endpoint such as ``POST /v1/images/generations`` translates its body into a job request
(a model of ``shared.jobs.modes``) and hands it to :func:`submit`, which is
``POST /v1/jobs``'s own domain call: the Idempotency-Key, inputs by URL, the hold, the
webhook and metadata all apply unchanged. The HTTP side (``api/compat.py``) then waits for
the job and answers with one of the shapes built here:

- the job finished: the endpoint renders its own body from the job's view, with
  :func:`usage` and :func:`content_url` for each result asset;
- the job is still running (``?async=true``, or past ``ATELIER_SYNC_WAIT_SECONDS``):
  ``202`` with :func:`accepted`, and the job is polled at ``GET /v1/jobs/{id}``;
- the job failed or was cancelled: :func:`failure`, an error in the contract's shape.

Everything here works on job *views* (``shared.views.job_view``), the dicts the API, job
events and webhooks share, so it needs no database session of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from shared import idempotency, signed
from shared.catalog import Catalog
from shared.errors import AtelierError, JobAborted, ServiceUnavailable, ValidationError
from shared.jobs import submit as jobs_submit
from shared.jobs.requests import JobRequestBase
from shared.jobs.submit import Upload
from shared.settings import Settings
from shared.storage.base import Storage

#: Job statuses in which a compatible call answers ``202`` with the job.
PENDING = frozenset({"queued", "running"})
#: Job error codes caused by the request rather than by Atelier or a provider's health, with
#: how the 400 a synchronous call answers for them begins.
_CALLER_FAULTS = {"UPSTREAM_REJECTED": "The provider refused the request",
                  "INVALID_INPUT": "An input cannot be used"}


def submit(session: Session, storage: Storage, settings: Settings, catalog: Catalog, account_id: str,
           request: JobRequestBase, *, endpoint: str, idempotency_key: str | None = None,
           api_key_id: str | None = None, answer_shape: Mapping[str, Any] | None = None,
           uploads: Mapping[str, Upload] | None = None, field_names: Mapping[str, str] | None = None,
           ) -> idempotency.Outcome:
    """Create the job for a compatible request, in the caller's transaction: its view is in
    ``Outcome.body`` (``Outcome.replayed`` when an ``Idempotency-Key`` repeat found the first).

    ``endpoint`` (``"POST /v1/images/generations"``) scopes the Idempotency-Key.
    ``answer_shape`` holds the request fields that shape the answer but are not part of the job
    (``response_format``): a repeat of the key that differs in them is ``422`` too.
    ``uploads``: files sent with the request, by the job field they fill
    (``{"input_image_asset_id": Upload(file, name)}``; the request holds a placeholder id there).
    ``field_names`` maps job request fields to the compatible request's
    (``{"input_image_url": "image"}``), so errors name the field the caller sent.
    Raises what ``POST /v1/jobs`` raises: 400 (fields, model, input URLs), 402, 409, 413, 415,
    422, 429.
    """
    try:
        return jobs_submit.submit(session, storage, account_id, request, catalog, settings,
                                  idempotency_key=idempotency_key, api_key_id=api_key_id, endpoint=endpoint,
                                  fingerprint_extra=answer_shape, uploads=uploads)
    except AtelierError as exc:
        raise renamed(exc, field_names or {}) from None


def renamed(error: AtelierError, names: Mapping[str, str]) -> AtelierError:
    """``error`` naming the compatible request's fields instead of the job request's (in
    ``details.errors``, ``details.field``, ``param`` and the message)."""
    errors = error.details.get("errors")
    if isinstance(errors, list) and any(e.get("field") in names for e in errors):
        for item in errors:
            field = item.get("field")
            item["field"] = names.get(field, field) if isinstance(field, str) else field
        error.message = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    if error.details.get("field") in names:
        old = error.details["field"]
        error.details["field"] = names[old]
        error.message = error.message.replace(old, names[old])
    if error.param is not None and error.param in names:
        error.param = names[error.param]
    return error


def unix_seconds(iso: str) -> int:
    """An ISO 8601 time of a view (``…Z``) in Unix seconds, as OpenAI's objects give times."""
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp())


def created(view: Mapping[str, Any]) -> int:
    """The job's creation time in Unix seconds (OpenAI's ``created``)."""
    return unix_seconds(str(view["created_at"]))


def accepted(view: Mapping[str, Any]) -> dict[str, Any]:
    """The ``202`` body of a call whose job has not finished: poll ``GET /v1/jobs/{id}``."""
    return {"id": view["id"], "object": "job", "status": view["status"], "created": created(view),
            "model": view["model"], "estimated_credits": view["estimated_credits"]}


def usage(view: Mapping[str, Any]) -> dict[str, Any]:
    """``{"credits_used", "credits_breakdown"}`` of a completed job: what was charged, line by
    line as priced from the measured outputs (component, unit, quantity, units, credits)."""
    actual = (view.get("pricing") or {}).get("actual") or {}
    lines = [{k: line[k] for k in ("component", "unit", "quantity", "units", "credits") if k in line}
             for line in actual.get("breakdown", [])]
    return {"credits_used": view["credits_charged"], "credits_breakdown": lines}


def content_url(settings: Settings, asset_id: str) -> str:
    """A signed content URL of a result asset that works without a key for
    ``ATELIER_SIGNED_URL_SECONDS`` (1 h by default; never more than 7 days)."""
    return signed.asset_url(settings, asset_id, expires_in=settings.signed_url_seconds)


def failure(view: Mapping[str, Any]) -> AtelierError:
    """The error a synchronous call answers when its job ended without a result; nothing was
    charged. A request the provider refused, or an input the worker found unusable (a mask
    without transparency), is a ``400``; a cancelled job a ``409``;
    anything else a ``503`` (try again). ``details`` carry ``job_id`` and ``job_error``."""
    job_id, error = view["id"], view.get("error") or {}
    details = {"job_id": job_id, "job_error": error or None}
    reason = error.get("message") or "no reason was recorded"
    if view["status"] == "aborted":
        aborted = JobAborted(job_id)
        aborted.details = details
        return aborted
    if error.get("code") in _CALLER_FAULTS:
        return ValidationError(f"{_CALLER_FAULTS[error['code']]}: {reason}", details=details)
    return ServiceUnavailable(f"Job {job_id} failed ({error.get('code', 'FAILED')}: {reason}); nothing was "
                              f"charged. Try again.", details=details)

