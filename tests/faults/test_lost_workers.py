"""A worker lost mid-job costs one lease, not five minutes; the job is charged once."""

from __future__ import annotations

import os
import signal
import time

import pytest

from tests.faults.harness import LEASE, wait_until
from tests.faults.support import SLOW_JOB, charged_once, elapsed_since, record, submit

pytestmark = pytest.mark.slow
#: A lost job is terminal within the lease, a sweep, a new render and this much slack.
SLACK = 60


def started(stack, job_id: str) -> int:
    """Wait until a pool process is rendering ``job_id`` (its progress moved); its pid."""
    def rendering():
        rows = stack.rows("SELECT progress FROM jobs WHERE id = :id AND status = 'running'", id=job_id)
        return rows and rows[0][0] > 0 and stack.pid_running(job_id)
    return int(wait_until(rendering, 120, f"{job_id} to be rendering"))


def recovers(stack, job_id: str, fault: str) -> None:
    """Wait, from the fault just made, for the job to be claimed again and then to end."""
    killed = time.monotonic()
    wait_until(lambda: stack.rows("SELECT 1 FROM jobs WHERE id = :id AND attempts >= 2", id=job_id),
               LEASE + SLACK, "the job to be claimed again")
    record(f"{fault} → job claimed again", elapsed_since(killed), f"lease {LEASE}s")
    wait_until(lambda: stack.all_terminal([job_id]), LEASE + SLACK, "the job to end")
    record(f"{fault} → job completed", elapsed_since(killed), f"lease {LEASE}s")


def test_a_pool_child_killed_mid_job(stack, api_url, beat, caller):
    worker = stack.worker("worker-a")
    job_id = submit(api_url, caller, SLOW_JOB)
    pid = started(stack, job_id)
    assert pid in [p.pid for p in worker.family()]

    os.kill(pid, signal.SIGKILL)
    recovers(stack, job_id, "pool child SIGKILL")

    charged_once(stack, caller.account_id, job_id)
    (attempts,), = stack.rows("SELECT attempts FROM jobs WHERE id = :id", id=job_id)
    assert attempts == 2
    wait_until(lambda: not list((stack.root / "tmp").glob(f"atelier-{job_id}-{pid}-*")), 30,
               "the killed job's scratch directory to be removed")


def test_the_main_worker_process_killed_with_its_children(stack, api_url, beat, caller):
    first, second = stack.worker("worker-a"), stack.worker("worker-b")
    job_id = submit(api_url, caller, SLOW_JOB)
    pid = started(stack, job_id)
    holder = first if pid in [p.pid for p in first.family()] else second
    assert pid in [p.pid for p in holder.family()]

    holder.kill()  # a lost node: its messages stay unacknowledged in Redis
    recovers(stack, job_id, "main worker + children SIGKILL")

    charged_once(stack, caller.account_id, job_id)


def test_a_frozen_worker_that_wakes_up_after_a_take_over_changes_nothing(stack, api_url, beat, caller):
    worker = stack.worker("worker-a")
    job_id = submit(api_url, caller, SLOW_JOB)
    pid = started(stack, job_id)

    os.kill(pid, signal.SIGSTOP)  # a zombie: alive, silent, holding attempt 1
    try:
        recovers(stack, job_id, "pool child frozen (SIGSTOP)")
    finally:
        os.kill(pid, signal.SIGCONT)
    wait_until(lambda: f"job {job_id} was cancelled; stopped" in worker.text()
               or not list((stack.root / "tmp").glob(f"atelier-{job_id}-{pid}-*")), 60,
               "the woken attempt to stop")

    charged_once(stack, caller.account_id, job_id)
    results = stack.rows("SELECT count(*) FROM assets WHERE job_id = :id", id=job_id)
    assert results == [(1,)]
