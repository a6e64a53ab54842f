"""Scratch directories of killed jobs are removed at worker start; the lease is refreshed while a job runs."""

from __future__ import annotations

import os
import subprocess
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from shared.db.models import Job
from shared.db.session import session_scope
from tests.domain.test_sweeper import IMAGE, load, new_job, set_job
from workers import scratch
from workers.heartbeat import Heartbeat


def dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def test_directories_of_dead_processes_go_and_live_ones_stay(tmp_path, account):
    running, ended = new_job(account, IMAGE), new_job(account, IMAGE)
    set_job(running, status="running")
    set_job(ended, status="completed")
    parent = os.getppid()  # alive, and not this process
    dirs = {
        "killed": tmp_path / f"atelier-{running}-{dead_pid()}-abc",
        "live": tmp_path / f"atelier-{running}-{parent}-def",
        # A live owner removes its own directory when its job ends, even if a take-over ended it.
        "ended": tmp_path / f"atelier-{ended}-{parent}-ghi",
        # Another installation sharing the host's temp directory: its job is not in our database.
        "foreign": tmp_path / f"atelier-job_notinthisdatabase-{parent}-mno",
        "mine_before": tmp_path / f"atelier-{running}-{os.getpid()}-jkl",  # a reused pid
        "unrelated": tmp_path / "atelier-test-xyz",
    }
    for path in dirs.values():
        path.mkdir()
        (path / "output.png").write_bytes(b"x" * 10)

    removed = scratch.clean_stale(tmp_path)

    assert sorted(removed) == sorted([dirs["killed"], dirs["mine_before"]])
    assert all(dirs[name].exists() for name in ("live", "ended", "foreign", "unrelated"))
    assert not dirs["killed"].exists()


def test_a_job_dir_is_named_after_its_job_and_process_and_removed_after_use(stack_env):
    with scratch.job_dir("job_abc") as path:
        assert path.name.startswith(f"atelier-job_abc-{os.getpid()}-") and path.is_dir()
    assert not path.exists()


def test_the_heartbeat_refreshes_the_lease_and_notices_a_cancel(account):
    job_id = new_job(account, IMAGE)
    old = datetime.now(UTC) - timedelta(minutes=5)
    set_job(job_id, status="running", updated_at=old)
    beating = Heartbeat(job_id, interval=0.05)
    beating.start()
    try:
        deadline = time.monotonic() + 10
        while load(job_id).updated_at <= old and time.monotonic() < deadline:
            time.sleep(0.05)
        assert load(job_id).updated_at > old and not beating.lost.is_set()
        with session_scope() as session:
            session.execute(update(Job).where(Job.id == job_id).values(status="aborted", held_credits=0))
        assert beating.lost.wait(10)
    finally:
        beating.stop()
