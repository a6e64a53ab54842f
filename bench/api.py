"""What the API's request path and long polling cost, against bare baselines in the same run.

    python -m bench.api [--requests N] [--waiters N] [--memory-waiters N]

The API runs as a real uvicorn subprocess on a free loopback port (so its RSS is its own),
against real services: ``ATELIER_BENCH_DATABASE_URL`` / ``ATELIER_BENCH_REDIS_URL`` when set,
else an embedded PostgreSQL and Redis. The run gets its own database (dropped at the end) and
broker prefix. The load client is httpx on loopback; every loop has a count, every wait a timeout.

1. Request overhead: sequential authenticated ``GET /v1/jobs/{id}`` and ``GET /v1/account``
   (auth, rate limit, a DB read), interleaved with the baseline ``GET /healthz``.
2. Long-poll wake latency: ``running`` jobs with a ``GET ?wait=30`` each; one job at a time is
   committed ``completed`` and its event published, and the time from publish to the response is
   measured against a plain ``GET /v1/jobs/{id}``. Also the connections to the run's database
   while the requests wait, against idle.
3. Memory per waiting request: the server's VmRSS idle and with many long polls waiting; those
   waiters are then released by one burst of events (reported too).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import redis

from bench.common import (
    Key,
    Server,
    api_server,
    complete_and_publish,
    configure,
    db_connections,
    fresh_database,
    new_account,
    new_key,
    rss_kb,
    running_jobs,
    services,
)

WAIT_SECONDS = 30  # the long polls' ?wait=; every measured wake must come long before it
WARMUP = 30  # requests per path before measuring: connection set-up, first-use imports, caches


# The load -----------------------------------------------------------------------------------------


async def timed_get(client: httpx.AsyncClient, path: str, headers: dict[str, str]) -> float:
    start = time.perf_counter()
    response = await client.get(path, headers=headers)
    elapsed = time.perf_counter() - start
    if response.status_code != 200:
        raise RuntimeError(f"GET {path}: {response.status_code} {response.text[:300]}")
    return elapsed


async def long_poll(client: httpx.AsyncClient, job_id: str, key: Key) -> float:
    """``GET /v1/jobs/{id}?wait=…``; returns when the response arrived."""
    response = await client.get(f"/v1/jobs/{job_id}", params={"wait": WAIT_SECONDS}, headers=key.headers)
    arrived = time.perf_counter()
    # "completed" proves the event woke it; a timed-out poll would still say "running".
    if response.status_code != 200 or response.json()["status"] != "completed":
        raise RuntimeError(f"long poll of {job_id}: {response.status_code} {response.text[:300]}")
    return arrived


@asynccontextmanager
async def long_polls(client: httpx.AsyncClient, store: redis.Redis, key: Key,
                     job_ids: list[str]) -> AsyncIterator[dict[str, asyncio.Task[float]]]:
    """One long poll per job, yielded once every one of them is waiting on its event; any still
    pending at the end are cancelled.

    The server's rate-limit counter of ``key`` (used by these requests alone) says how many have
    been authenticated; a request subscribes right after, then reads its job once."""
    tasks = {job_id: asyncio.create_task(long_poll(client, job_id, key)) for job_id in job_ids}
    try:
        deadline = time.monotonic() + 30
        while _authenticated(store, key) < len(job_ids):
            for task in tasks.values():
                if task.done():
                    task.result()  # a failed request: raise its error now, not a timeout later
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {_authenticated(store, key)} of {len(job_ids)} long polls arrived in 30 s")
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # the last ones' subscribe and read
        if any(task.done() for task in tasks.values()):
            raise RuntimeError("a long poll returned before its job changed")
        yield tasks
    finally:
        for task in tasks.values():
            task.cancel()
        await asyncio.gather(*tasks.values(), return_exceptions=True)


def _authenticated(store: redis.Redis, key: Key) -> int:
    # Keys of the form written by shared.ratelimit.hit: one counter per key and minute.
    names = list(store.scan_iter(match=f"atelier:rl:{key.key_id}:*", count=100))
    return sum(int(value) for value in store.mget(names) if value) if names else 0


@dataclass
class Results:
    requests: dict[str, list[float]]
    wake: list[float]
    waiters: int
    connections_idle: tuple[int, int]
    connections_waiting: tuple[int, int]
    rss_idle: int
    rss_waiting: int
    memory_waiters: int
    burst: list[float]


async def request_overhead(client: httpx.AsyncClient, key: Key, job_id: str, count: int) -> dict[str, list[float]]:
    paths = {"GET /healthz": "/healthz", "GET /v1/jobs/{id}": f"/v1/jobs/{job_id}", "GET /v1/account": "/v1/account"}
    samples: dict[str, list[float]] = {label: [] for label in paths}
    for i in range(WARMUP + count):
        for label, path in paths.items():  # interleaved, so any drift affects every path alike
            elapsed = await timed_get(client, path, key.headers)
            if i >= WARMUP:
                samples[label].append(elapsed)
    return samples


async def wake_latency(client: httpx.AsyncClient, store: redis.Redis, publisher: redis.Redis, account_id: str,
                       waiters: int) -> tuple[list[float], tuple[int, int], tuple[int, int]]:
    """Each job completed and published one at a time while the others keep waiting: its wake
    latency; and the database connections before and while they wait."""
    jobs = await asyncio.to_thread(running_jobs, account_id, waiters)
    waiter_key = await asyncio.to_thread(new_key, account_id)
    connections_idle = db_connections()
    async with long_polls(client, store, waiter_key, jobs) as tasks:
        samples = []
        for _ in range(5):  # a few samples over half a second: a held connection would show in each
            samples.append(db_connections())
            await asyncio.sleep(0.1)
        connections_waiting = (max(s[0] for s in samples), max(s[1] for s in samples))
        wake = []
        for job_id in jobs:
            [publish_time] = await asyncio.to_thread(complete_and_publish, publisher, [job_id])
            wake.append(await asyncio.wait_for(tasks[job_id], timeout=10) - publish_time)
    return wake, connections_idle, connections_waiting


async def measure(server: Server, redis_url: str, args: argparse.Namespace) -> Results:
    account_id = await asyncio.to_thread(new_account)
    key = await asyncio.to_thread(new_key, account_id)
    store = redis.Redis.from_url(redis_url)
    from shared.jobs.events import publisher_client

    publisher = publisher_client(redis_url)
    # Idle connections expire well before uvicorn's 5 s keep-alive timeout: reusing one the server
    # is closing at that moment fails the request.
    limits = httpx.Limits(max_connections=max(args.waiters, args.memory_waiters) + 10, keepalive_expiry=2)
    timeout = httpx.Timeout(WAIT_SECONDS + 15)
    async with httpx.AsyncClient(base_url=server.url, limits=limits, timeout=timeout) as client:
        [probe_job] = await asyncio.to_thread(running_jobs, account_id, 1)
        requests = await request_overhead(client, key, probe_job, args.requests)
        print("measured request overhead", file=sys.stderr)

        # Concurrent plain reads first, so the server's thread pool and DB pool are at their working
        # size before the idle samples: growth there is not a cost of waiting.
        await asyncio.gather(*(timed_get(client, f"/v1/jobs/{probe_job}", key.headers)
                               for _ in range(args.waiters)))

        # 3. Memory: RSS idle, then with many long polls waiting; then release them all at once.
        jobs = await asyncio.to_thread(running_jobs, account_id, args.memory_waiters)
        waiter_key = await asyncio.to_thread(new_key, account_id)
        await asyncio.sleep(0.5)
        rss_idle = rss_kb(server.pid)
        async with long_polls(client, store, waiter_key, jobs) as tasks:
            rss_waiting = rss_kb(server.pid)
            published = await asyncio.to_thread(complete_and_publish, publisher, jobs)
            arrived = await asyncio.wait_for(asyncio.gather(*tasks.values()), timeout=30)
        burst = [a - p for a, p in zip(arrived, published, strict=True)]
        print("measured memory per waiter", file=sys.stderr)

        # 2. Wake latency, one event at a time while the others keep waiting, and connections held.
        wake, connections_idle, connections_waiting = await wake_latency(client, store, publisher, account_id,
                                                                         args.waiters)
        print("measured wake latency", file=sys.stderr)
    store.close()
    publisher.close()
    return Results(requests, wake, args.waiters, connections_idle, connections_waiting, rss_idle, rss_waiting,
                   args.memory_waiters, burst)


# The report ---------------------------------------------------------------------------------------


def _stats(seconds: list[float]) -> tuple[float, float, float]:
    """(median, p95, max) in milliseconds."""
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1000, p95 * 1000, ordered[-1] * 1000


def report(results: Results, args: argparse.Namespace) -> None:
    header = f"{'':<52} {'median ms':>9} {'p95 ms':>7} {'max ms':>7} {'median ×':>9}"
    print(header)
    print("-" * len(header))

    def row(label: str, seconds: list[float], baseline: float, note: str = "") -> None:
        median, p95, peak = _stats(seconds)
        print(f"  {label:<50} {median:>9.2f} {p95:>7.2f} {peak:>7.2f} {median / baseline:>9.1f}{note}")

    print(f"Request overhead ({args.requests} sequential each, interleaved)")
    healthz = _stats(results.requests["GET /healthz"])[0]
    for label, seconds in results.requests.items():
        row(label, seconds, healthz, "  (baseline)" if label == "GET /healthz" else "")
    plain = _stats(results.requests["GET /v1/jobs/{id}"])[0]
    print(f"Long-poll wake, publish → response (× plain GET /v1/jobs/{{id}} = {plain:.2f} ms)")
    row(f"{results.waiters} waiting, woken one at a time", results.wake, plain)
    row(f"{results.memory_waiters} waiting, woken by one burst of events", results.burst, plain)
    (idle_total, idle_busy), (wait_total, wait_busy) = results.connections_idle, results.connections_waiting
    print(f"Connections to the run's database (pg_stat_activity, all processes)\n"
          f"  idle: {idle_total} ({idle_busy} busy)   while {results.waiters} long polls wait: "
          f"{wait_total} ({wait_busy} busy)")
    per_waiter = (results.rss_waiting - results.rss_idle) / results.memory_waiters
    print(f"Server memory (VmRSS)\n"
          f"  idle: {results.rss_idle:,} KB   with {results.memory_waiters} long polls waiting: "
          f"{results.rss_waiting:,} KB   → {per_waiter:.1f} KB per waiting request")
    print(f"\nRerun: .venv/bin/python -m bench.api --requests {args.requests} --waiters {args.waiters} "
          f"--memory-waiters {args.memory_waiters}  (real services: ATELIER_BENCH_DATABASE_URL, "
          f"ATELIER_BENCH_REDIS_URL; else embedded)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=300, help="measured requests per path")
    parser.add_argument("--waiters", type=int, default=50, help="long polls for the wake latency")
    parser.add_argument("--memory-waiters", type=int, default=200, help="long polls for the memory figure")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="atelier-bench-api-") as tmp:
        root = Path(tmp)
        with services(root) as (server_url, redis_url), fresh_database(server_url) as database_url:
            configure(database_url, redis_url, root)
            with api_server(root / "api.log") as server:
                results = asyncio.run(measure(server, redis_url, args))
    # Rate-limit counters left on a shared Redis expire by themselves within about a minute.
    report(results, args)


if __name__ == "__main__":
    main()
