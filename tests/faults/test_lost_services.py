"""Redis losing everything, and PostgreSQL going away under load: no job lost, no 500."""

from __future__ import annotations

import threading
import time
from collections import Counter

import httpx
import pytest

from tests.faults.harness import LEASE, wait_until
from tests.faults.support import QUICK_JOB, charged_once, deliveries, elapsed_since, record, submit

pytestmark = pytest.mark.slow


def test_redis_restarted_empty_with_jobs_queued(stack, api_url, beat, caller):
    job_ids = [submit(api_url, caller, QUICK_JOB) for _ in range(10)]  # no worker: all wait in Redis
    stack.restart_redis_empty()
    restarted = time.monotonic()
    worker = stack.worker("worker-a")

    wait_until(lambda: stack.all_terminal(job_ids), LEASE + 120, "every queued job to run", every=1)
    record("Redis restarted empty → 10 queued jobs completed", elapsed_since(restarted),
           f"requeue after {LEASE}s")
    assert set(stack.statuses(job_ids).values()) == {"completed"}
    for job_id in job_ids:
        charged_once(stack, caller.account_id, job_id)
    time.sleep(2)  # a second publication would arrive within a sweep
    assert deliveries(worker.text()) == 10


class Load:
    """Submits a job and reads one back, over and over, from a thread; counts the answers."""

    def __init__(self, api_url: str, headers: dict[str, str]) -> None:
        self.url, self.headers = api_url, headers
        self.codes: Counter[int] = Counter()
        self.accepted: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Load:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=60)

    def _run(self) -> None:
        with httpx.Client(base_url=self.url, headers=self.headers, timeout=30) as http:
            while not self._stop.is_set():
                created = http.post("/v1/jobs", json=QUICK_JOB)
                self.codes[created.status_code] += 1
                if created.status_code == 202:
                    self.accepted.append(created.json()["id"])
                    self.codes[http.get(f"/v1/jobs/{self.accepted[-1]}").status_code] += 1
                time.sleep(1.0)  # within the plan's 120 requests a minute


def test_postgres_stopped_for_ten_seconds_under_load(stack, api_url, beat, caller):
    stack.worker("worker-a")
    with Load(api_url, caller.headers) as load:
        time.sleep(4)
        stack.stop_postgres()
        time.sleep(10)
        stack.start_postgres()
        restarted = time.monotonic()
        time.sleep(4)

    assert load.codes[503] > 0 and load.codes[202] > 0
    assert set(load.codes) <= {200, 202, 503}, load.codes  # never a 500
    wait_until(lambda: stack.all_terminal(load.accepted), LEASE + 180, "every accepted job to end", every=1)
    record(f"PostgreSQL down 10 s → {len(load.accepted)} accepted jobs completed",
           elapsed_since(restarted), f"answers {dict(load.codes)}")
    assert set(stack.statuses(load.accepted).values()) == {"completed"}
    for job_id in load.accepted:
        charged_once(stack, caller.account_id, job_id)
