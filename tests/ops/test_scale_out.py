"""Two API processes and two prefork worker nodes on different queues, one PostgreSQL and one Redis.

A job created on API B and finished by a worker wakes a long poll and an SSE stream held on API A;
each worker node's /metrics (merged from its pool processes) shows the jobs it ran.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from shared.embedded import free_port

pytestmark = pytest.mark.slow


@dataclass
class Cluster:
    api_a: str
    api_b: str
    fast_metrics: str
    slow_metrics: str


def _wait_up(url: str, procs: list[subprocess.Popen[bytes]], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert all(p.poll() is None for p in procs), "a cluster process exited"
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not come up")


@pytest.fixture(scope="module")
def cluster(stack_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    import os

    logs = tmp_path_factory.mktemp("cluster")
    # Its own broker prefix: the suite's in-process worker never takes these tasks.
    env = {**os.environ, **stack_env, "ATELIER_BROKER_PREFIX": f"atelier-scale-{uuid.uuid4().hex[:8]}:",
           "ATELIER_LOG_LEVEL": "WARNING"}
    ports = {name: free_port() for name in ("a", "b", "fast", "slow")}
    commands = {
        "a": ["api", "--port", str(ports["a"])],
        "b": ["api", "--port", str(ports["b"])],
        "fast": ["worker", "--queues", "media.fast,webhooks,maintenance", "--concurrency", "2", "--name",
                 "fast", "--metrics-port", str(ports["fast"])],
        "slow": ["worker", "--queues", "media.slow", "--concurrency", "1", "--name", "slow",
                 "--metrics-port", str(ports["slow"])],
    }
    procs = [subprocess.Popen([sys.executable, "-m", "cli", *args], env=env, cwd=Path(__file__).parents[2],
                              stdout=(logs / f"{name}.log").open("wb"), stderr=subprocess.STDOUT)
             for name, args in commands.items()]
    try:
        urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
        for name, path in (("a", "/healthz"), ("b", "/healthz"), ("fast", "/metrics"), ("slow", "/metrics")):
            _wait_up(urls[name] + path, procs)
        yield Cluster(urls["a"], urls["b"], urls["fast"] + "/metrics", urls["slow"] + "/metrics")
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _completed(url: str, mode: str) -> float:
    families = text_string_to_metric_families(httpx.get(url, timeout=5).text)
    return sum(s.value for f in families for s in f.samples
               if s.name == "atelier_jobs_total" and s.labels.get("mode") == mode
               and s.labels.get("status") == "completed")


def test_waiters_on_one_api_are_woken_by_jobs_created_on_another(cluster, make_account):
    from atelier.client import Atelier

    caller = make_account()
    with Atelier(api_key=caller.key, base_url=cluster.api_a) as on_a, \
            Atelier(api_key=caller.key, base_url=cluster.api_b) as on_b:
        for mode, params in (("text_to_image", {"prompt": "fast queue"}),
                             ("text_to_video", {"prompt": "slow queue", "duration_seconds": 1})):
            job = on_b.jobs.create(mode, **params)
            polled: list[str] = []
            poller = threading.Thread(target=lambda j=job, out=polled: out.append(on_a.jobs.get(j.id, wait=60).status))
            poller.start()
            streamed = [event.status for event in on_a.jobs.stream(job.id)]
            poller.join(60)
            assert streamed[-1] == "completed" and polled == ["completed"], (mode, streamed, polled)
    assert _completed(cluster.slow_metrics, "text_to_video") >= 1


def test_each_worker_node_serves_the_metrics_of_its_pool(cluster, make_account):
    from atelier.client import Atelier

    caller = make_account()
    with Atelier(api_key=caller.key, base_url=cluster.api_b) as client:
        client.run("text_to_image", prompt="counted by the fast node")
    assert _completed(cluster.fast_metrics, "text_to_image") >= 1
    assert _completed(cluster.slow_metrics, "text_to_image") == 0
    text = httpx.get(cluster.fast_metrics, timeout=5).text
    assert 'atelier_job_run_seconds_count{mode="text_to_image"}' in text
