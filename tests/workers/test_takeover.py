"""A job whose worker was lost is taken over at once by the next delivery, as a new attempt; the
lost worker, should it wake up, can change nothing any more."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from shared.db.models import Job, LedgerEntry
from shared.db.session import session_scope
from shared.jobs import execution
from shared.jobs.execution import UpstreamState
from shared.settings import get_settings
from tests.support import ledger_sum
from tests.workers.test_execution import _load, _queued_job


def expire_lease(job_id: str) -> None:
    lease = get_settings().heartbeat_timeout_seconds
    with session_scope() as session:
        session.execute(update(Job).where(Job.id == job_id)
                        .values(updated_at=datetime.now(UTC) - timedelta(seconds=lease + 1)))


def test_a_running_job_is_taken_over_only_once_its_lease_expired(make_account):
    caller = make_account(credits=5)
    job_id = _queued_job(caller.account_id)
    first = execution.claim(job_id)
    assert first is not None and first.attempt == 1
    assert execution.claim(job_id) is None  # a duplicate delivery while the worker is alive

    expire_lease(job_id)
    second = execution.claim(job_id)

    assert second is not None and second.attempt == 2
    job = _load(job_id)
    assert (job.status, job.attempts) == ("running", 2)
    assert execution.claim(job_id) is None  # the new lease is live


def test_a_zombie_attempt_cannot_heartbeat_fail_or_complete(make_account):
    caller = make_account(credits=5)
    job_id = _queued_job(caller.account_id)
    zombie = execution.claim(job_id)
    assert zombie is not None
    expire_lease(job_id)
    current = execution.claim(job_id)
    assert current is not None

    assert execution.heartbeat(job_id, 50, zombie.attempt) is False  # the zombie learns it lost the job
    assert execution.complete(zombie, []) is False
    assert execution.fail(zombie, "INTERNAL_ERROR", "late") is False
    assert execution.record_upstream(zombie, UpstreamState("submitting", "fal", "m", tries=1)) is False
    assert _load(job_id).progress == 0 and _load(job_id).status == "running"

    assert execution.heartbeat(job_id, 50, current.attempt) is True
    assert execution.complete(current, []) is True
    assert execution.complete(zombie, []) is False
    with session_scope() as session:
        kinds = session.scalars(select(LedgerEntry.kind).where(LedgerEntry.job_id == job_id)).all()
    assert kinds.count("charge") == 1
    total, balance = ledger_sum(caller.account_id)
    assert total == balance


def test_a_job_lost_too_often_fails_with_its_hold_released(make_account):
    caller = make_account(credits=5)
    job_id = _queued_job(caller.account_id)
    for attempt in range(1, get_settings().max_job_attempts + 1):
        claimed = execution.claim(job_id)
        assert claimed is not None and claimed.attempt == attempt
        expire_lease(job_id)

    assert execution.claim(job_id) is None

    job = _load(job_id)
    assert job.status == "failed" and job.error is not None and job.error["code"] == "WORKER_LOST"
    assert job.held_credits == 0 and ledger_sum(caller.account_id) == (5, 5)


def test_an_upstream_job_is_never_taken_over(make_account):
    caller = make_account(credits=5)
    job_id = _queued_job(caller.account_id)
    claimed = execution.claim(job_id)
    assert claimed is not None
    assert execution.record_upstream(claimed, UpstreamState("submitting", "fal", "m", tries=1))
    expire_lease(job_id)

    assert execution.claim(job_id) is None
    assert _load(job_id).status == "running"  # the sweeper decides: poll again, or fail
