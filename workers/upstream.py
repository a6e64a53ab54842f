"""Jobs served by upstream providers, without pinning a worker slot while they run.

``start`` submits (retrying 429/5xx/timeouts with back-off, then the model's fallbacks),
records the upstream request on the job and schedules ``jobs.poll``. Each poll is one short
task that checks the status once and, while the job is pending, schedules the next poll a
few seconds later — far below the broker's visibility timeout, unlike a long countdown.
Once the upstream has accepted a job it is never submitted again.
"""

from __future__ import annotations

import logging
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import update

from shared import queue
from shared.catalog import Catalog, ModelSpec, get_catalog
from shared.db.models import Job
from shared.db.session import session_scope
from shared.jobs import modes
from workers.context import WorkerContext
from workers.providers import registry
from workers.providers.base import GenerationFailed, UpstreamHandle, UpstreamUnavailable
from workers.runner import ClaimedJob, build_request, failures_end_the_job, fetch_inputs, finish

log = logging.getLogger(__name__)

SUBMIT_ATTEMPTS = 3
SUBMIT_BACKOFF_SECONDS = 1.0
MAX_POLL_ERRORS = 5
#: An upstream job still pending this long after it started is given up.
UPSTREAM_DEADLINE = timedelta(hours=1)


def poll_delay(polls: int) -> float:
    """1 s, growing to 10 s: quick for fast models, gentle on slow video ones."""
    return min(10.0, 1.0 + 0.5 * polls)


def _set_upstream(job: ClaimedJob, upstream: dict[str, Any]) -> bool:
    """Record the upstream state on a still-running job; for a submitted job, schedule its next poll."""
    with session_scope() as session:
        updated = session.execute(
            update(Job).where(Job.id == job.id, Job.status == "running")
            .values(upstream=upstream, updated_at=datetime.now(UTC)).returning(Job.id)
        ).scalar_one_or_none()
        if updated and upstream.get("state") == "submitted":
            queue.send_after_commit(session, queue.POLL_JOB, [job.id], modes.spec_for(job.mode).queue,
                                    countdown=poll_delay(upstream.get("polls", 0)))
        return updated is not None


def _submit_chain(job: ClaimedJob, catalog: Catalog, chain: list[ModelSpec], workdir: Path) -> None:
    inputs = fetch_inputs(job, workdir, signed_urls=True)
    last: UpstreamUnavailable | None = None
    for spec in chain:
        provider = registry.upstream_provider(spec.provider)
        request = build_request(job, catalog, inputs, spec.id)
        for attempt in range(SUBMIT_ATTEMPTS):
            # Marked first: a worker lost mid-submit leaves "submitting", which the sweeper
            # fails rather than risk a second upstream job.
            if not _set_upstream(job, {"state": "submitting", "provider": spec.provider, "model": spec.id}):
                return  # cancelled meanwhile
            try:
                handle = provider.submit(request)
            except UpstreamUnavailable as exc:
                last = exc
                log.warning("job %s: %s submit attempt %d failed: %s", job.id, spec.id, attempt + 1, exc.message)
                time.sleep(SUBMIT_BACKOFF_SECONDS * (2**attempt) * random.uniform(0.8, 1.2))
                continue
            _set_upstream(job, {"state": "submitted", "provider": spec.provider, "model": spec.id,
                                   "request_id": handle.request_id, "data": handle.data, "polls": 0,
                                   "errors": 0})
            log.info("job %s submitted to %s as %s", job.id, spec.provider, handle.request_id)
            return
    detail = f": {last.message}" if last else ""
    raise UpstreamUnavailable(f"No provider accepted the job after retries and fallbacks{detail}")


def start(job: ClaimedJob) -> None:
    catalog = get_catalog()
    primary = catalog.get(job.model)
    if primary is None:
        raise UpstreamUnavailable(f"Model {job.model} is no longer available.")
    with tempfile.TemporaryDirectory(prefix=f"atelier-{job.id}-") as tmp, failures_end_the_job(job.id):
        _submit_chain(job, catalog, [primary, *catalog.fallbacks(primary)], Path(tmp))


def _load(job_id: str) -> tuple[ClaimedJob, dict[str, Any], datetime | None] | None:
    with session_scope() as session:
        job = session.get(Job, job_id)
        if job is None or job.status != "running" or not job.upstream or \
                job.upstream.get("state") != "submitted":
            return None
        claimed = ClaimedJob(job.id, job.account_id, job.mode, job.model, job.provider, job.prompt,
                             dict(job.inputs))
        return claimed, dict(job.upstream), job.started_at


def _reschedule(job: ClaimedJob, upstream: dict[str, Any], *, error: bool) -> None:
    polls = upstream.get("polls", 0) + 1
    errors = upstream.get("errors", 0) + 1 if error else 0
    _set_upstream(job, {**upstream, "polls": polls, "errors": errors})


def poll(job_id: str, *, reschedule: bool = True) -> None:
    loaded = _load(job_id)
    if loaded is None:
        return
    job, upstream, started_at = loaded
    handle = UpstreamHandle(upstream["provider"], upstream["request_id"], upstream.get("data", {}))
    provider = registry.upstream_provider(handle.provider)
    with tempfile.TemporaryDirectory(prefix=f"atelier-{job_id}-") as tmp, failures_end_the_job(job_id):
        ctx = WorkerContext(job_id, Path(tmp))
        try:
            result = provider.poll(handle, ctx)
        except UpstreamUnavailable as exc:
            if upstream.get("errors", 0) + 1 >= MAX_POLL_ERRORS:
                raise
            log.warning("job %s: status check failed (%s); will retry", job_id, exc.message)
            if reschedule:
                _reschedule(job, upstream, error=True)
            return
        if result.state == "completed":
            finish(job, result.outputs)
        elif result.state == "failed":
            raise result.error or GenerationFailed("The provider reported a failure.")
        else:
            if started_at and datetime.now(UTC) - started_at > UPSTREAM_DEADLINE:
                provider.cancel(handle)
                raise GenerationFailed(f"The provider did not finish within {UPSTREAM_DEADLINE}.")
            if result.progress is not None:
                ctx.progress(result.progress)
            else:
                ctx.check_cancelled()
            if reschedule:
                _reschedule(job, upstream, error=False)


def cancel(job_id: str) -> None:
    """Propagate a cancel to the provider (best effort: the job is already aborted here)."""
    with session_scope() as session:
        job = session.get(Job, job_id)
        upstream = dict(job.upstream) if job and job.upstream else None
    if not upstream or upstream.get("state") != "submitted":
        return
    handle = UpstreamHandle(upstream["provider"], upstream["request_id"], upstream.get("data", {}))
    registry.upstream_provider(handle.provider).cancel(handle)
