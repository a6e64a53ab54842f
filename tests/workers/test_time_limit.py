"""A job over its mode's time limit, on a real prefork worker: it fails as TIMEOUT, hold released."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.queue import SLOW
from tests.support import ledger_sum, wait_for_job

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def prefork_worker(stack_env, monkeypatch, tmp_path) -> Iterator[None]:
    """A ``celery worker --pool prefork`` process on a broker prefix of its own (so the session's
    thread worker, which cannot enforce time limits, never takes these jobs), with text_to_video
    limited to 6 s (the soft limit, where the job fails, is at 3 s)."""
    from tests.conftest import _reset_caches

    env = {"ATELIER_BROKER_PREFIX": f"atelier-test-{uuid.uuid4().hex[:8]}:",
           "ATELIER_JOB_TIME_LIMITS": json.dumps({"text_to_video": 6})}
    for name, value in env.items():
        monkeypatch.setenv(name, value)  # the limits travel with the send, from this process
    _reset_caches()
    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "workers.celery_app", "worker", "--pool", "prefork",
         "--concurrency", "1", "-Q", SLOW, "--loglevel", "WARNING", "--without-heartbeat", "--without-gossip",
         "--without-mingle"],
        cwd=ROOT, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
        log.close()
        monkeypatch.undo()
        _reset_caches()


@pytest.mark.slow
def test_a_job_over_its_modes_time_limit_fails_as_timeout_and_releases_its_hold(client, make_account,
                                                                                prefork_worker):
    caller = make_account(credits=500)
    # The longest local render (10 s of 1080p at 30 fps): an idle machine rendered 720p at 24 fps
    # within the 6 s limit.
    response = client.post("/v1/jobs", json={"mode": "text_to_video", "prompt": "a long slow pan over hills",
                                             "duration_seconds": 10, "resolution": "1080p", "fps": 30},
                           headers=caller.headers)
    assert response.status_code == 202, response.text
    assert response.json()["estimated_credits"] == 220
    done = wait_for_job(client, caller, response.json()["id"], timeout=120)
    assert done["status"] == "failed", done
    assert done["error"] == {"code": "TIMEOUT", "message": "The job exceeded its time limit."}
    assert done["credits_charged"] == 0 and done["result"] is None
    credits = client.get("/v1/account", headers=caller.headers).json()["credits"]
    assert credits["held"] == 0
    assert ledger_sum(caller.account_id) == (credits["balance"], credits["balance"])
