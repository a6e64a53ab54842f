"""The sweeper against the real database: republish, requeue, fail, re-poll, and skip locked rows."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text, update

from api.deps import get_catalog
from shared import queue
from shared.db.models import Account, Job, LedgerEntry
from shared.db.session import session_scope
from shared.jobs import modes
from shared.jobs.service import create_job
from shared.jobs.sweeper import sweep
from shared.settings import get_settings

# Sweeps run at a "now" long past, so only rows these tests age are ever stale, never the
# live jobs other tests in the session leave behind.
NOW = datetime(2001, 1, 1, tzinfo=UTC)
IMAGE = {"mode": "text_to_image", "prompt": "a lighthouse"}
VIDEO = {"mode": "text_to_video", "prompt": "waves", "duration_seconds": 2}


@pytest.fixture
def settings(stack_env):
    return get_settings()


def new_job(account_id: str, body: dict[str, Any]) -> str:
    with session_scope() as session:
        job = create_job(session, account_id, modes.parse(body), get_catalog(), get_settings())
        return job.id


def set_job(job_id: str, **values: Any) -> None:
    with session_scope() as session:
        session.execute(update(Job).where(Job.id == job_id).values(**values))


def run_sweep(settings, now: datetime = NOW) -> dict[str, int]:
    with session_scope() as session:
        return sweep(session, settings, now=now)


def load(job_id: str) -> Job:
    with session_scope() as session:
        job = session.get(Job, job_id)
        assert job is not None
        return job


def held(account_id: str) -> int:
    with session_scope() as session:
        return session.get(Account, account_id).held


def sends_for(sent, job_id: str) -> list[tuple[str, str]]:
    return [(name, q) for name, args, q in sent if args == [job_id]]


def stale(seconds: int) -> datetime:
    return NOW - timedelta(seconds=seconds + 60)


def test_a_stale_queued_job_is_republished_and_a_fresh_one_is_not(settings, sent, account):
    old_image, old_video, fresh = new_job(account, IMAGE), new_job(account, VIDEO), new_job(account, IMAGE)
    sent.clear()
    for job_id in (old_image, old_video):
        set_job(job_id, updated_at=stale(settings.requeue_after_seconds))
    set_job(fresh, updated_at=NOW - timedelta(seconds=settings.requeue_after_seconds - 10))

    run_sweep(settings)

    assert sends_for(sent, old_image) == [("jobs.run", queue.FAST)]
    assert sends_for(sent, old_video) == [("jobs.run", queue.SLOW)]
    assert sends_for(sent, fresh) == []
    assert load(old_image).updated_at == NOW and load(old_image).status == "queued"


def test_a_running_job_with_a_stale_heartbeat_is_queued_again(settings, sent, account):
    job_id = new_job(account, IMAGE)
    sent.clear()
    set_job(job_id, status="running", attempts=1, progress=40,
            updated_at=stale(settings.heartbeat_timeout_seconds))

    counts = run_sweep(settings)

    job = load(job_id)
    assert (job.status, job.progress, job.attempts, job.updated_at) == ("queued", 0, 1, NOW)
    assert sends_for(sent, job_id) == [("jobs.run", queue.FAST)]  # once, not also as a stale queued job
    assert counts["requeued"] >= 1
    assert held(account) == job.held_credits == 1


def test_a_running_job_is_not_requeued_before_its_heartbeat_times_out(settings, sent, account):
    job_id = new_job(account, IMAGE)
    sent.clear()
    set_job(job_id, status="running", attempts=1,
            updated_at=NOW - timedelta(seconds=settings.heartbeat_timeout_seconds - 10))

    run_sweep(settings)

    assert load(job_id).status == "running" and sends_for(sent, job_id) == []


def test_a_job_lost_max_attempts_times_fails_and_releases_its_hold(settings, sent, account):
    job_id = new_job(account, IMAGE)
    sent.clear()
    assert held(account) == 1
    set_job(job_id, status="running", attempts=settings.max_job_attempts,
            updated_at=stale(settings.heartbeat_timeout_seconds))

    run_sweep(settings)

    job = load(job_id)
    assert job.status == "failed" and job.error["code"] == "WORKER_LOST"
    assert (job.held_credits, job.credits_charged, held(account)) == (0, 0, 0)
    assert sends_for(sent, job_id) == []
    with session_scope() as session:
        kinds = session.scalars(select(LedgerEntry.kind).where(LedgerEntry.job_id == job_id)
                                .order_by(LedgerEntry.id)).all()
    assert kinds == ["hold", "release"]


def test_a_submitted_upstream_job_is_polled_again(settings, sent, account):
    job_id = new_job(account, VIDEO)
    sent.clear()
    set_job(job_id, status="running", attempts=1,
            upstream={"state": "submitted", "provider": "fal", "request_id": "req-1"},
            updated_at=stale(settings.heartbeat_timeout_seconds))

    run_sweep(settings)

    job = load(job_id)
    assert (job.status, job.updated_at) == ("running", NOW)
    assert sends_for(sent, job_id) == [("jobs.poll", queue.SLOW)]


def test_an_upstream_job_lost_while_submitting_fails_and_is_not_resubmitted(settings, sent, account):
    job_id = new_job(account, VIDEO)
    sent.clear()
    set_job(job_id, status="running", attempts=1, upstream={"state": "submitting", "provider": "fal"},
            updated_at=stale(settings.heartbeat_timeout_seconds))

    run_sweep(settings)

    job = load(job_id)
    assert job.status == "failed" and job.error["code"] == "UPSTREAM_UNAVAILABLE"
    assert sends_for(sent, job_id) == []
    assert held(account) == 0


def test_a_row_locked_by_another_transaction_is_skipped_without_waiting(settings, sent, account):
    locked, free = new_job(account, IMAGE), new_job(account, IMAGE)
    sent.clear()
    for job_id in (locked, free):
        set_job(job_id, updated_at=stale(settings.requeue_after_seconds))

    with session_scope() as other:
        other.execute(select(Job.id).where(Job.id == locked).with_for_update())
        with session_scope() as session:
            # Were the lock waited on, this raises instead of hanging the suite.
            session.execute(text("SET LOCAL lock_timeout = '5s'"))
            started = time.monotonic()
            sweep(session, settings, now=NOW)
        elapsed = time.monotonic() - started

    assert elapsed < 1.0
    assert sends_for(sent, free) == [("jobs.run", queue.FAST)]
    assert sends_for(sent, locked) == []
    assert load(locked).updated_at == stale(settings.requeue_after_seconds)
