"""Repairs what a crash or a lost message leaves behind; run by beat.

* A queued job whose task was never picked up (publish failed after commit, broker lost its
  data) is published again — but only when the broker holds no message for it: a job
  waiting behind a backlog is left in line (``shared/broker.py``).
* A running job whose heartbeat went stale (worker SIGKILLed, OOM, node lost) is queued
  again, up to ``max_job_attempts``; after that it fails and its hold is released.
* An upstream job whose poll chain stopped is polled again; one lost while being submitted
  fails (submitting again could start a second, paid, upstream job).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from shared import broker, queue
from shared.db.models import Job
from shared.jobs import events, modes, service
from shared.jobs.execution import UpstreamState
from shared.redis_client import get_redis
from shared.settings import Settings

BATCH = 200


def _stale(session: Session, condition: ColumnElement[bool], before: datetime) -> Sequence[Job]:
    """Jobs matching ``condition`` untouched since ``before``; rows another sweeper holds are skipped."""
    return session.scalars(
        select(Job).where(condition, Job.updated_at < before).with_for_update(skip_locked=True).limit(BATCH)
    ).all()


def broker_view(settings: Settings) -> broker.BrokerView:
    return broker.inspect(get_redis(), settings.broker_prefix, queue.QUEUES)


def sweep(session: Session, settings: Settings, now: datetime | None = None) -> dict[str, int]:
    now = now or datetime.now(UTC)
    counts = {"republished": 0, "requeued": 0, "failed": 0, "repolled": 0, "in_line": 0}
    stale_queued = _stale(session, Job.status == "queued", now - timedelta(seconds=settings.requeue_after_seconds))
    heartbeat_cutoff = now - timedelta(seconds=settings.heartbeat_timeout_seconds)
    stale_running = _stale(session, (Job.status == "running") & Job.upstream.is_(None), heartbeat_cutoff)
    stale_upstream = _stale(session, (Job.status == "running") & Job.upstream.is_not(None), heartbeat_cutoff)
    if not (stale_queued or stale_running or stale_upstream):
        return counts
    view = broker_view(settings)
    for job in stale_queued:
        job.updated_at = now
        if view.holds(queue.RUN_JOB, job.id, delivered_within=settings.requeue_after_seconds):
            counts["in_line"] += 1
            continue
        service.enqueue(session, job)
        counts["republished"] += 1
    _requeue_lost(session, settings, stale_running, view, now, counts)
    _repoll(session, settings, stale_upstream, view, now, counts)
    session.flush()
    return counts


def _requeue_lost(session: Session, settings: Settings, jobs: Sequence[Job], view: broker.BrokerView,
                  now: datetime, counts: dict[str, int]) -> None:
    for job in jobs:
        if job.attempts >= settings.max_job_attempts:
            service.fail_lost(session, job)
            counts["failed"] += 1
        elif view.holds(queue.RUN_JOB, job.id, delivered_within=settings.heartbeat_timeout_seconds):
            counts["in_line"] += 1  # redelivered (worker lost): its message is on its way
        else:
            job.status, job.progress, job.updated_at = "queued", 0, now
            session.flush()
            service.enqueue(session, job)
            events.transition(session, job)
            counts["requeued"] += 1


def _repoll(session: Session, settings: Settings, jobs: Sequence[Job], view: broker.BrokerView,
            now: datetime, counts: dict[str, int]) -> None:
    for job in jobs:
        state = UpstreamState.of(job.upstream)
        if state is not None and state.submitted:
            if view.holds(queue.POLL_JOB, job.id, delivered_within=settings.heartbeat_timeout_seconds):
                counts["in_line"] += 1
                continue
            job.updated_at = now
            queue.send_after_commit(session, queue.POLL_JOB, [job.id], modes.spec_for(job.mode).queue)
            counts["repolled"] += 1
        else:
            service.fail(session, job, "UPSTREAM_UNAVAILABLE",
                         "The worker submitting this job upstream was lost; it was not resubmitted.")
            counts["failed"] += 1
