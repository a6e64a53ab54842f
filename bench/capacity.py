"""Capacity figures for docs/deploy.md, each beside a bare baseline measured in the same run.

    python -m bench.capacity [--jobs N] [--requests N]

Real services as in ``bench.hotpaths`` (``ATELIER_BENCH_DATABASE_URL`` / ``ATELIER_BENCH_REDIS_URL``, else
embedded), a run database and broker prefix of its own, and real processes: one uvicorn API and one
``atelier worker`` node (prefork, one pool process, every media queue).

1. Worker throughput: N jobs of a mode created at once through the API; jobs per minute per pool
   process = N / wall time until the last completes. Baseline: N near-empty Celery tasks
   (``maintenance.purge_idempotency``) through the same node.
2. API cost: sequential ``GET /v1/jobs/{id}`` (auth, rate limit, a database read); requests per
   CPU-second of the server process (its utime + stime from /proc), so per core. Baseline:
   ``GET /healthz`` in the same server.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from bench.common import ROOT, configure, fresh_database, new_account, new_key, services
from shared.embedded import free_port

MODES: dict[str, dict[str, object]] = {
    "text_to_image": {"prompt": "a lighthouse at dusk", "size": "512x512"},
    "audio": {"voice_text": "Capacity is measured, not guessed."},
    "music": {"prompt": "calm piano", "duration_seconds": 5},
    "text_to_video": {"prompt": "waves at night", "duration_seconds": 2},
}


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def process(args: list[str], ready: str) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen([sys.executable, "-m", "cli", *args], cwd=ROOT, env={**os.environ,
                            "ATELIER_LOG_LEVEL": "WARNING"}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(ready, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{args[0]} did not start")
            time.sleep(0.2)
        yield proc
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def jobs_per_minute(api: str, headers: dict[str, str], mode: str, count: int) -> float:
    started = time.monotonic()
    ids = [httpx.post(f"{api}/v1/jobs", json={"mode": mode, **MODES[mode]}, headers=headers, timeout=30).json()["id"]
           for _ in range(count)]
    for job_id in ids:
        while httpx.get(f"{api}/v1/jobs/{job_id}", params={"wait": 60}, headers=headers,
                        timeout=90).json()["status"] not in ("completed", "failed", "aborted"):
            pass
    return count / (time.monotonic() - started) * 60


def bare_tasks_per_minute(count: int) -> float:
    from shared import queue
    from shared.redis_client import get_redis

    key = os.environ["ATELIER_BROKER_PREFIX"] + queue.MAINTENANCE
    started = time.monotonic()
    for _ in range(count):
        queue.send("maintenance.purge_idempotency", [], queue.MAINTENANCE)
    while get_redis().llen(key) > 0:
        time.sleep(0.01)
    return count / (time.monotonic() - started) * 60


def requests_per_cpu_second(api: str, pid: int, path: str, headers: dict[str, str], count: int) -> float:
    with httpx.Client(base_url=api, headers=headers) as client:
        for _ in range(20):
            client.get(path)
        before = cpu_seconds(pid)
        for _ in range(count):
            client.get(path).raise_for_status()
        return count / max(1e-9, cpu_seconds(pid) - before)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=6)
    parser.add_argument("--requests", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="atelier-capacity-") as tmp, services(Path(tmp)) as (pg, redis_url), \
            fresh_database(pg) as database_url:
        configure(database_url, redis_url, Path(tmp))
        key = new_key(new_account())
        api = f"http://127.0.0.1:{free_port()}"
        metrics_port = free_port()
        with process(["api", "--port", api.rsplit(":", 1)[1]], f"{api}/healthz") as server, \
                process(["worker", "--queues", "media.fast,media.slow,maintenance", "--concurrency", "1",
                         "--name", "capacity", "--metrics-port", str(metrics_port)],
                        f"http://127.0.0.1:{metrics_port}/metrics"):
            bare = bare_tasks_per_minute(args.jobs * 10)
            print(f"Worker throughput, one pool process ({args.jobs} jobs each; bare task: {bare:,.0f}/min)")
            for mode in MODES:
                rate = jobs_per_minute(api, key.headers, mode, args.jobs)
                print(f"  {mode:<16} {rate:8.1f} jobs/min   bare task ÷ job: {bare / rate:8.1f}")
            job = httpx.post(f"{api}/v1/jobs", json={"mode": "text_to_image", "prompt": "x"}, headers=key.headers,
                             timeout=30).json()["id"]
            health = requests_per_cpu_second(api, server.pid, "/healthz", {}, args.requests)
            read = requests_per_cpu_second(api, server.pid, f"/v1/jobs/{job}", key.headers, args.requests)
            print(f"API, requests per CPU-second of the server ({args.requests} sequential)")
            print(f"  GET /healthz (baseline)   {health:8.0f}")
            print(f"  GET /v1/jobs/{{id}}          {read:8.0f}   baseline ÷ this: {health / read:5.1f}")


if __name__ == "__main__":
    main()
