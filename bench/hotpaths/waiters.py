"""P4 and P5: many long polls on one job, woken by one event, against a bare pub/sub → asyncio fan-out.

Each round starts both servers fresh (so memory figures are not hidden by a previous round's
freed-but-kept heap), warms each with the load client, then per side: RSS idle, ``n`` waiters
registered (ramped in batches, counted by the server), RSS again once the server's CPU is quiet,
one event published, and every waiter's wake time (response arrival minus publish).
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass

import httpx
import redis

from bench.common import Key, Server, complete_and_publish, new_key, rss_kb, running_jobs
from bench.hotpaths.bare_api import bare_channel
from bench.hotpaths.load import Row, check, client, cpu_ticks, percentile, throughput
from bench.hotpaths.stack import Stack, servers

WAIT = 60  # the longest wait the API accepts; registering must finish well within it
BATCH = 500  # waiters per client (and per ramp step)
WARMUP = 200


@dataclass
class Wake:
    p99_ms: float
    kib_per_waiter: float


@dataclass
class Side:
    server: Server
    path: str
    warm_path: str  # a plain read, for the warm-up
    headers: dict[str, str]
    registered: Callable[[], int]
    publish: Callable[[], float]


async def quiet(pid: int, timeout: float = 30.0) -> None:
    """Until the process used (almost) no CPU for 300 ms: its queued work is done."""
    deadline = time.monotonic() + timeout
    before = cpu_ticks(pid)
    while time.monotonic() < deadline:
        await asyncio.sleep(0.3)
        now = cpu_ticks(pid)
        if now - before <= 1:
            return
        before = now


async def _register(side: Side, count: int) -> tuple[list[asyncio.Task[float]], AsyncExitStack]:
    async def poll(http: httpx.AsyncClient) -> float:
        response = check(await http.get(side.path, params={"wait": WAIT}, headers=side.headers))
        if response.json()["status"] != "completed":
            raise RuntimeError(f"a long poll returned {response.json()['status']!r}, not woken")
        return time.perf_counter()

    clients = AsyncExitStack()
    tasks: list[asyncio.Task[float]] = []
    deadline = time.monotonic() + WAIT * 0.75
    for start in range(0, count, BATCH):
        http = await clients.enter_async_context(client(side.server.url, BATCH + 5, WAIT + 30))
        tasks += [asyncio.create_task(poll(http)) for _ in range(min(BATCH, count - start))]
        while await asyncio.to_thread(side.registered) < len(tasks) - (BATCH if len(tasks) < count else 0):
            if time.monotonic() > deadline or any(t.done() for t in tasks):
                for task in tasks:
                    task.cancel()
                await clients.aclose()
                raise TimeoutError(f"{await asyncio.to_thread(side.registered)} of {count} long polls "
                                   f"registered in {WAIT * 0.75:.0f} s")
            await asyncio.sleep(0.05)
    return tasks, clients


async def wake(side: Side, count: int) -> Wake:
    async with client(side.server.url) as warm:  # the thread pool and DB pool at working size
        await throughput(warm, lambda c: c.get(side.warm_path, headers=side.headers), WARMUP)
    await quiet(side.server.pid)
    idle = rss_kb(side.server.pid)
    tasks, clients = await _register(side, count)
    async with clients:
        await quiet(side.server.pid)
        waiting = rss_kb(side.server.pid)
        published = await asyncio.to_thread(side.publish)
        arrived = await asyncio.wait_for(asyncio.gather(*tasks), WAIT)
    latencies = [(a - published) * 1000 for a in arrived]
    return Wake(percentile(latencies, 0.99), (waiting - idle) / count)


def _atelier(run: Stack, server: Server, publisher: redis.Redis) -> Side:
    [job_id] = running_jobs(run.account_id, 1)
    key: Key = new_key(run.account_id)  # its rate-limit counter counts this side's requests

    def registered() -> int:
        names = list(publisher.scan_iter(match=f"atelier:rl:{key.key_id}:*", count=100))
        return sum(int(v) for v in publisher.mget(names) if v) - WARMUP if names else 0

    return Side(server, f"/v1/jobs/{job_id}", f"/v1/jobs/{job_id}", key.headers, registered,
                lambda: complete_and_publish(publisher, [job_id])[0])


def _bare(run: Stack, server: Server, publisher: redis.Redis) -> Side:
    from shared.jobs.events import publish_job_event
    from shared.settings import get_settings
    from shared.views import job_view

    [job_id] = running_jobs(run.account_id, 1)
    view = {**_view(job_id, job_view, get_settings().base_url), "status": "completed"}

    def registered() -> int:
        return int(httpx.get(f"{server.url}/waiters", timeout=10).json()["count"])

    def publish() -> float:
        sent = time.perf_counter()
        publish_job_event(publisher, job_id, "completed", 100, channel=bare_channel(), job=view)
        return sent

    return Side(server, f"/wait/{job_id}", f"/jobs/{job_id}", run.key.headers, registered, publish)


def _view(job_id: str, job_view: Callable[..., dict[str, object]], base_url: str) -> dict[str, object]:
    from shared.db.models import Job
    from shared.db.session import session_scope

    with session_scope() as session:
        return job_view(session.get(Job, job_id), base_url)


async def _round(run: Stack, count: int, atelier_first: bool,
                 only_atelier: bool = False) -> tuple[Wake, Wake | None]:
    from shared.jobs.events import publisher_client

    publisher = publisher_client(run.redis_url)
    with servers(run) as (atelier, bare):
        sides: list[Callable[[], Awaitable[Wake]]] = [
            lambda: wake(_atelier(run, atelier, publisher), count), lambda: wake(_bare(run, bare, publisher), count)]
        if only_atelier:
            return await sides[0](), None
        if atelier_first:
            a = await sides[0]()
            return a, await sides[1]()
        b = await sides[1]()
        return await sides[0](), b


async def p4_p5(run: Stack, rounds: int, waiters: int, feasibility: int) -> list[Row]:
    results = [await _round(run, waiters, atelier_first=i % 2 == 0) for i in range(rounds)]
    a = [x for x, _ in results]
    b = [y for _, y in results if y is not None]
    diff = statistics.median(x.p99_ms - y.p99_ms for x, y in zip(a, b, strict=True))
    rerun = f"python -m bench.hotpaths --only P4 P5 --rounds {rounds} --waiters {waiters} --feasibility {feasibility}"
    feasible, note = await _feasibility(run, feasibility)
    kib_a, kib_b = statistics.median(x.kib_per_waiter for x in a), statistics.median(y.kib_per_waiter for y in b)
    return [
        Row("P4", f"commit → {waiters:,} long polls answered, p99 minus bare fan-out", f"{diff:+.1f} ms",
            f"≤ +5 ms; {feasibility:,} feasible, p99 ≤ 1.5× of 100", diff <= 5 and feasible,
            f"Atelier p99 {statistics.median(x.p99_ms for x in a):.1f} ms, bare "
            f"{statistics.median(y.p99_ms for y in b):.1f} ms (medians of {rounds} rounds); {note}", rerun),
        Row("P5", "API memory per idle long poll", f"{kib_a:.1f} KiB (bare uvicorn {kib_b:.1f})", "≤ 20 KiB",
            kib_a <= 20, f"VmRSS with {waiters:,} waiting minus idle, per waiter, median of {rounds} fresh servers",
            rerun),
    ]


async def _feasibility(run: Stack, many: int) -> tuple[bool, str]:
    if many <= 0:
        return True, "feasibility not measured (--feasibility 0)"
    few, _ = await _round(run, 100, True, only_atelier=True)
    try:
        lots, _ = await _round(run, many, True, only_atelier=True)
    except TimeoutError as exc:
        return False, f"{many:,} waiters not feasible: {exc}"
    ratio = lots.p99_ms / few.p99_ms
    return ratio <= 1.5, (f"{many:,} waiters: p99 {lots.p99_ms:.1f} ms ÷ {few.p99_ms:.1f} ms at 100 = {ratio:.2f}; "
                          f"{lots.kib_per_waiter:.1f} KiB each")
