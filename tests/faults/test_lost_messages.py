"""Lost messages are sent again once, and messages merely waiting are not sent twice."""

from __future__ import annotations

import time

import pytest

from tests.faults.harness import LEASE, wait_until
from tests.faults.support import QUICK_JOB, deliveries, elapsed_since, record, submit

pytestmark = pytest.mark.slow


def test_a_backlog_of_thirty_is_delivered_once_each(stack, api_url, beat, caller):
    """Thirty jobs wait longer than the sweeper's cut-off (``ATELIER_REQUEUE_AFTER_SECONDS``,
    the lease here) while sweeps run every second; none is published a second time."""
    job_ids = [submit(api_url, caller, QUICK_JOB) for _ in range(30)]
    time.sleep(LEASE + 3)  # no worker yet: the whole backlog is stale for several sweeps
    worker = stack.worker("worker-a", concurrency=1)
    started = time.monotonic()
    wait_until(lambda: stack.all_terminal(job_ids), 300, "the backlog to drain", every=1)
    drained = elapsed_since(started)

    assert set(stack.statuses(job_ids).values()) == {"completed"}
    assert deliveries(worker.text()) == 30
    attempts = stack.rows("SELECT max(attempts) FROM jobs WHERE id = ANY(:ids)", ids=job_ids)
    assert attempts == [(1,)]
    record("30-job backlog drained, 0 duplicate deliveries", drained)


def test_a_crash_between_commit_and_publish_is_sent_once(stack, beat, caller, monkeypatch):
    """The job row is committed but its task is never published (the API died in between)."""
    from shared import queue
    from shared.db.session import session_scope
    from shared.jobs import modes
    from shared.jobs.service import create_job
    from shared.settings import get_settings

    worker = stack.worker("worker-a")
    monkeypatch.setattr(queue, "send", lambda *a, **k: None)  # the process is gone before publishing
    with session_scope() as session:
        job_id = create_job(session, caller.account_id, modes.parse(QUICK_JOB), _catalog(),
                            get_settings()).id
    committed = time.monotonic()

    wait_until(lambda: stack.all_terminal([job_id]), LEASE + 60, "the lost job to run")
    record("commit without publish → job completed", elapsed_since(committed),
           f"requeue after {LEASE}s")
    assert stack.statuses([job_id]) == {job_id: "completed"}
    time.sleep(2)  # a second publication would arrive within a sweep
    assert deliveries(worker.text()) == 1


def _catalog():
    from shared.catalog import get_catalog

    return get_catalog()
