"""The worker side of a job, as the domain sees it: every state change a worker makes.

Each function owns one short transaction; generation, uploads and provider calls happen
between them, outside any transaction. Workers (``workers/``) orchestrate these steps;
what a step may change is decided here.

A claim records the attempt number it took (``ClaimedJob.attempt``); completing, failing and
recording upstream state are fenced on it, so a worker whose attempt was superseded (the job
was requeued and claimed again) can no longer change the job.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shared import queue
from shared.db.models import Asset, Job, JobInput
from shared.db.session import session_scope
from shared.jobs import modes, service


@dataclass(frozen=True)
class InputRef:
    role: str
    asset: Asset


@dataclass(frozen=True)
class ClaimedJob:
    """The job as read at claim time; a worker works from this, never from a live row."""

    id: str
    account_id: str
    mode: modes.Mode
    model: str
    provider: str
    prompt: str | None
    params: Mapping[str, Any]
    #: The attempt this worker holds (``jobs.attempts`` when it claimed the job).
    attempt: int
    inputs: tuple[InputRef, ...] = ()


@dataclass(frozen=True)
class UpstreamState:
    """What the job row keeps (``jobs.upstream``, JSON) about its request to a remote provider.

    ``submitting`` is written before each submit call and ``submitted`` (with the provider's
    request id) right after it succeeds; the sweeper fails a job lost while ``submitting``
    rather than risk a second, paid, upstream job, and polls a ``submitted`` one again.
    """

    state: Literal["submitting", "submitted"]
    provider: str
    model: str = ""
    request_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    #: Submit calls made for this model so far (including this one, while submitting).
    tries: int = 0
    polls: int = 0
    #: Consecutive failed status checks.
    errors: int = 0

    @property
    def submitted(self) -> bool:
        return self.state == "submitted"

    def as_json(self) -> dict[str, Any]:
        # No request id until the provider gave one: the job's view shows it only once it exists.
        return {k: v for k, v in asdict(self).items() if not (k == "request_id" and v is None)}

    @classmethod
    def of(cls, raw: Mapping[str, Any] | None) -> UpstreamState | None:
        if not raw:
            return None
        known = {k: raw[k] for k in cls.__dataclass_fields__ if k in raw}
        return cls(**known)

    def polled(self, *, error: bool) -> UpstreamState:
        return replace(self, polls=self.polls + 1, errors=self.errors + 1 if error else 0)


@dataclass(frozen=True)
class SubmittedJob:
    job: ClaimedJob
    upstream: UpstreamState
    started_at: datetime | None


def poll_delay(polls: int) -> float:
    """1 s, growing to 10 s: quick for fast models, gentle on slow video ones."""
    return min(10.0, 1.0 + 0.5 * polls)


def _claimed(session: Session, job: Job) -> ClaimedJob:
    spec = modes.spec_for(job.mode)
    # The input assets with their roles in one SELECT, and none for a mode that takes no assets.
    inputs = session.execute(
        select(JobInput.role, Asset).join(Asset, Asset.id == JobInput.asset_id)
        .where(JobInput.job_id == job.id).order_by(JobInput.role)
    ).all() if spec.asset_fields else []
    return ClaimedJob(job.id, job.account_id, spec.name, job.model, job.provider,
                      job.prompt, dict(job.params), job.attempts,
                      tuple(InputRef(role, asset) for role, asset in inputs))


def claim(job_id: str) -> ClaimedJob | None:
    """queued → running (or a lost worker's job taken over), for this worker as a new attempt;
    None when another delivery holds it or it ended."""
    with session_scope() as session:
        job = service.claim(session, job_id)
        return None if job is None else _claimed(session, job)


def heartbeat(job_id: str, progress: int | None = None, attempt: int | None = None) -> bool:
    """Refresh the heartbeat (and progress, if given); False once the job stopped running, or,
    given the worker's ``attempt``, once another worker took the job over."""
    with session_scope() as session:
        return service.report_progress(session, job_id, progress, attempt)


def _lock(session: Session, job: ClaimedJob) -> Job | None:
    """The job, row-locked, if it is still running under this worker's attempt."""
    row = service.lock_running(session, job.id)
    return row if row is not None and row.attempts == job.attempt else None


def record_upstream(job: ClaimedJob, upstream: UpstreamState) -> bool:
    """Store the upstream state on the still-running job; a submitted job gets its next poll.
    False when the job ended meanwhile (cancelled): the caller stops."""
    with session_scope() as session:
        updated = session.execute(
            update(Job).where(Job.id == job.id, Job.status == "running", Job.attempts == job.attempt)
            .values(upstream=upstream.as_json(), updated_at=datetime.now(UTC)).returning(Job.id)
        ).scalar_one_or_none()
        if updated and upstream.submitted:
            queue.send_after_commit(session, queue.POLL_JOB, [job.id], modes.spec_for(job.mode).queue,
                                    countdown=poll_delay(upstream.polls))
        return updated is not None


def load_running(job_id: str) -> tuple[ClaimedJob, UpstreamState | None] | None:
    """A running job as its worker holds it, with its upstream state; None once it ended."""
    with session_scope() as session:
        job = session.get(Job, job_id)
        if job is None or job.status != "running":
            return None
        return _claimed(session, job), UpstreamState.of(job.upstream)


def load_submitted(job_id: str) -> SubmittedJob | None:
    """A running job a provider has accepted, for its next status check."""
    with session_scope() as session:
        job = session.get(Job, job_id)
        upstream = UpstreamState.of(job.upstream) if job is not None else None
        if job is None or job.status != "running" or upstream is None or not upstream.submitted:
            return None
        return SubmittedJob(_claimed(session, job), upstream, job.started_at)


def upstream_of(job_id: str) -> UpstreamState | None:
    """The job's upstream state, whatever its status (a cancel propagates it)."""
    with session_scope() as session:
        job = session.get(Job, job_id)
        return UpstreamState.of(job.upstream) if job is not None else None


def complete(job: ClaimedJob, stored: Sequence[Asset]) -> bool:
    """Insert the results, settle and mark completed, in one transaction; False (nothing
    written) when the job is no longer this worker's to complete.

    Lock order: the job row, then the account (``ledger.settle``), then the inserts.
    """
    with session_scope() as session:
        row = _lock(session, job)
        if row is None:
            return False
        service.complete(session, row, stored)
        return True


def fail(job: ClaimedJob, code: str, message: str) -> bool:
    """running → failed with ``code``, releasing the hold; False when it already ended."""
    with session_scope() as session:
        row = _lock(session, job)
        if row is None:
            return False
        service.fail(session, row, code, message)
        return True
