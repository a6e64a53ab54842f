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
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import redis
from sqlalchemy import func, select, text, update

from shared.embedded import free_port, start_postgres, start_redis

ROOT = Path(__file__).resolve().parents[1]
WAIT_SECONDS = 30  # the long polls' ?wait=; every measured wake must come long before it
WARMUP = 30  # requests per path before measuring: connection set-up, first-use imports, caches
RATE_LIMIT = 10_000_000  # per minute, for the bench's plan: the bench must never see a 429


# Services and data --------------------------------------------------------------------------------


@contextmanager
def services(tmp: Path) -> Iterator[tuple[str, str]]:
    """(Postgres server URL, Redis URL): the configured servers, else embedded ones."""
    with ExitStack() as stack:
        database_url = os.environ.get("ATELIER_BENCH_DATABASE_URL")
        if not database_url:
            pg = start_postgres(tmp / "pg", cleanup="delete")
            stack.callback(pg.stop)
            database_url = pg.url
        redis_url = os.environ.get("ATELIER_BENCH_REDIS_URL")
        if not redis_url:
            embedded = start_redis(tmp / "redis.db")
            stack.callback(embedded.stop)
            redis_url = embedded.url
        yield database_url, redis_url


@contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """A database of this run's own, dropped afterwards."""
    from shared.db.session import reset_engine
    from shared.embedded import scratch_database

    with scratch_database(server_url, "atelier_bench") as url:
        try:
            yield url
        finally:
            reset_engine()


def configure(database_url: str, redis_url: str, tmp: Path) -> None:
    """Point Atelier at the run's services, in this process and (inherited) in the server's; migrate."""
    from shared.db.migrate import upgrade

    os.environ.update({
        "ATELIER_DATABASE_URL": database_url,
        "ATELIER_REDIS_URL": redis_url,
        "ATELIER_HOME": str(tmp / "home"),
        "ATELIER_STORAGE": "local",
        "ATELIER_STORAGE_DIR": str(tmp / "storage"),
        # Nothing is enqueued (see running_jobs), but a shared Redis must never mix runs anyway.
        "ATELIER_BROKER_PREFIX": f"atelier-bench-{uuid.uuid4().hex[:8]}:",
    })
    upgrade(database_url)


@dataclass(frozen=True)
class Key:
    account_id: str
    key_id: str
    secret: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret}"}


def new_account() -> str:
    """A professional account with ample credits, its plan's rate limit raised (a throwaway DB)."""
    from shared.accounts import create_account
    from shared.credits.ledger import grant
    from shared.db.models import Plan
    from shared.db.session import session_scope

    with session_scope() as session:
        session.execute(update(Plan).where(Plan.id == "professional").values(rate_limit_per_minute=RATE_LIMIT))
        account = create_account(session, f"bench-{uuid.uuid4().hex[:12]}@example.com", "professional")
        grant(session, account.id, 10**9, kind="adjustment", reason="bench")
        return account.id


def new_key(account_id: str) -> Key:
    from shared.accounts import create_key
    from shared.db.session import session_scope

    with session_scope() as session:
        key, secret = create_key(session, account_id, "bench")
        return Key(account_id, key.id, secret)


def running_jobs(account_id: str, count: int) -> list[str]:
    """Jobs as a worker leaves them mid-run. Nothing is queued, so no worker is needed."""
    from api.deps import get_catalog
    from shared.db.models import Job
    from shared.db.session import session_scope
    from shared.jobs import modes
    from shared.jobs.service import create_job
    from shared.settings import get_settings

    with session_scope() as session:
        ids = [create_job(session, account_id, modes.parse({"mode": "text_to_image", "prompt": f"bench {i}"}),
                          get_catalog(), get_settings()).id for i in range(count)]
        session.execute(update(Job).where(Job.id.in_(ids))
                        .values(status="running", attempts=1, started_at=func.now()))
        session.info.pop("atelier_after_commit", None)  # drop the Celery send and the "queued" events
    return ids


def complete_and_publish(publisher: redis.Redis, job_ids: list[str]) -> list[float]:
    """Commit the jobs ``completed``, then announce each as a worker does — the event carries the
    job's view, serialized in the completing transaction; returns each publish time."""
    from shared.db.models import Job
    from shared.db.session import session_scope
    from shared.events import publish_job_event
    from shared.settings import get_settings
    from shared.views import job_view

    with session_scope() as session:
        session.execute(update(Job).where(Job.id.in_(job_ids))
                        .values(status="completed", progress=100, completed_at=func.now()))
        views = {job.id: job_view(job, get_settings().base_url)
                 for job in session.scalars(select(Job).where(Job.id.in_(job_ids)))}
    published = []
    for job_id in job_ids:
        published.append(time.perf_counter())
        publish_job_event(publisher, job_id, "completed", 100, job=views[job_id])
    return published


def db_connections() -> tuple[int, int]:
    """(connections to the run's database, how many of them are in a query or a transaction),
    not counting the one asking."""
    from shared.db.session import get_engine

    with get_engine().connect() as conn:
        total, busy = conn.execute(text(
            "SELECT count(*), count(*) FILTER (WHERE state <> 'idle') FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()")).one()
    return int(total), int(busy)


# The server ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Server:
    url: str
    pid: int


@contextmanager
def api_server(log_path: Path) -> Iterator[Server]:
    """The API under uvicorn (as `atelier api` runs it) in a subprocess on a free loopback port."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory", "--host", "127.0.0.1",
               "--port", str(port), "--log-level", "warning", "--no-access-log"]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the API server did not start:\n{log_path.read_text()}")
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        yield Server(url, process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


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


async def measure(server: Server, redis_url: str, args: argparse.Namespace) -> Results:
    account_id = await asyncio.to_thread(new_account)
    key = await asyncio.to_thread(new_key, account_id)
    store = redis.Redis.from_url(redis_url)
    from shared.events import publisher_client

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
        jobs = await asyncio.to_thread(running_jobs, account_id, args.waiters)
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
