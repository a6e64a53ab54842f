"""P4 and P5: many long polls on one job, woken by one event, against a bare pub/sub → asyncio fan-out.

Each round starts both servers fresh (so memory figures are not hidden by a previous round's
freed-but-kept heap), warms each with the load client, then per side: RSS idle, ``n`` waiters
registered (each on its own connection, ``CONNECTING`` opened at a time, counted by the server:
Atelier's ``atelier_event_waiters`` gauge, the bare app's ``/waiters``), RSS again once the
server's CPU is quiet, one event published, and every waiter's wake time (the last byte of its
response read, minus the publish). The long polls use a minimal asyncio client (``LongPoll``), so
that thousands of them measure the server rather than the client. P4 also measures both sides with
100, 1,000 and ``--feasibility`` waiters (one round each).
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx
import redis

from bench.common import Key, Server, complete_and_publish, new_key, rss_kb, running_jobs
from bench.hotpaths.bare_api import bare_channel
from bench.hotpaths.load import Row, client, cpu_ticks, percentile, throughput
from bench.hotpaths.stack import Stack, servers

WAIT = 60  # the longest wait the API accepts; registering must finish well within it
REGISTER_WITHIN = WAIT * 0.75
CONNECTING = 100  # connections being opened at once
WARMUP = 400
#: As many as the API's worker threads (anyio's 40): the warm-up grows the thread pool to its full
#: size, so the idle figure includes it and the memory per waiter does not. (64 made plain GETs
#: time out on the database pool: a request holds its connection between its two thread hops.)
WARMUP_CONNECTIONS = 40


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


class LongPoll(asyncio.Protocol):
    """One long poll on its own connection, as lean as a client can be: the request is written
    once, and the answer's arrival is stamped when its last byte is read. Thousands of these
    cost the bench far less CPU than an HTTP client library would, so the server is what is
    measured."""

    def __init__(self, request: bytes) -> None:
        self.request = request
        self.answered: asyncio.Future[tuple[float, bytes]] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None
        self._data = bytearray()
        self._length: int | None = None
        self._body_at = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        self._data += data
        if self._length is None:
            end = self._data.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self._data[:end]).lower()
            self._body_at = end + 4
            self._length = int(head.split(b"content-length:", 1)[1].split(b"\r\n", 1)[0])
        if len(self._data) - self._body_at >= self._length and not self.answered.done():
            self.answered.set_result((time.perf_counter(), bytes(self._data)))

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.answered.done():
            self.answered.set_exception(ConnectionError(f"closed before the answer ({exc})"))

    def close(self) -> None:
        """Hang up (the bench gave up on this poll, or is done with it)."""
        self.answered.cancel()
        if self.transport is not None:
            self.transport.close()


def _request(path: str, headers: dict[str, str]) -> bytes:
    lines = [f"GET {path}?wait={WAIT} HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in headers.items()), "", ""]
    return "\r\n".join(lines).encode()


def _answer(poll: LongPoll) -> float:
    arrived, raw = poll.answered.result()
    head, _, body = raw.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200") or json.loads(body)["status"] != "completed":
        raise RuntimeError(f"a long poll was not woken by the completion: {raw[:300]!r}")
    return arrived


async def _register(side: Side, count: int) -> list[LongPoll]:
    """``count`` long polls, each on its own connection, once the server has registered them all."""
    loop = asyncio.get_running_loop()
    host, port = side.server.url.removeprefix("http://").split(":")
    request = _request(side.path, side.headers)
    polls: list[LongPoll] = []
    gate = asyncio.Semaphore(CONNECTING)
    deadline = time.monotonic() + REGISTER_WITHIN

    async def connect() -> None:
        async with gate:
            _, poll = await loop.create_connection(lambda: LongPoll(request), host, int(port))
            polls.append(poll)

    connecting = [asyncio.create_task(connect()) for _ in range(count)]
    try:
        await asyncio.wait(connecting, timeout=REGISTER_WITHIN)
        while (seen := await asyncio.to_thread(side.registered)) < count:
            if time.monotonic() > deadline or any(p.answered.done() for p in polls):
                raise TimeoutError(f"{seen} of {count} long polls registered in {REGISTER_WITHIN:.0f} s "
                                   f"({len(polls)} connected)")
            await asyncio.sleep(0.2)
    except BaseException:
        for poll in polls:
            poll.close()
        raise
    finally:
        for task in connecting:
            task.cancel()
        await asyncio.gather(*connecting, return_exceptions=True)
    return polls


async def wake(side: Side, count: int) -> Wake:
    async with client(side.server.url, WARMUP_CONNECTIONS) as warm:  # thread pool and DB pool at full size
        await throughput(warm, lambda c: c.get(side.warm_path, headers=side.headers), WARMUP, WARMUP_CONNECTIONS)
    await quiet(side.server.pid)
    idle = rss_kb(side.server.pid)
    polls = await _register(side, count)
    try:
        await quiet(side.server.pid)
        waiting = rss_kb(side.server.pid)
        published = await asyncio.to_thread(side.publish)
        await asyncio.wait_for(asyncio.gather(*(p.answered for p in polls)), WAIT)
    finally:
        for poll in polls:
            poll.close()
    latencies = [(_answer(p) - published) * 1000 for p in polls]
    return Wake(percentile(latencies, 0.99), (waiting - idle) / count)


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


def _gauge(url: str, name: str) -> int:
    """A gauge of the server's ``/metrics`` (Prometheus text)."""
    for line in httpx.get(f"{url}/metrics", timeout=30).text.splitlines():
        if line.startswith(name + " "):
            return int(float(line.split()[1]))
    raise RuntimeError(f"{url}/metrics has no {name}")


def _atelier(run: Stack, server: Server, publisher: redis.Redis) -> Side:
    [job_id] = running_jobs(run.account_id, 1)
    key: Key = new_key(run.account_id)  # a rate-limit window of its own

    def registered() -> int:  # waiters in the API's job-event hub
        return _gauge(server.url, "atelier_event_waiters")

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


async def _round(run: Stack, count: int, atelier_first: bool) -> tuple[Wake, Wake]:
    from shared.jobs.events import publisher_client

    publisher = publisher_client(run.redis_url)
    with servers(run) as (atelier, bare):
        sides: list[Callable[[], Awaitable[Wake]]] = [
            lambda: wake(_atelier(run, atelier, publisher), count), lambda: wake(_bare(run, bare, publisher), count)]
        if atelier_first:
            a = await sides[0]()
            return a, await sides[1]()
        b = await sides[1]()
        return await sides[0](), b


async def p4_p5(run: Stack, rounds: int, waiters: int, feasibility: int) -> list[Row]:
    results = [await _round(run, waiters, atelier_first=i % 2 == 0) for i in range(rounds)]
    a = [x for x, _ in results]
    b = [y for _, y in results]
    diff = statistics.median(x.p99_ms - y.p99_ms for x, y in results)
    rerun = f"python -m bench.hotpaths --only P4 P5 --rounds {rounds} --waiters {waiters} --feasibility {feasibility}"
    feasible, note = await _scaling(run, feasibility)
    kib_a, kib_b = statistics.median(x.kib_per_waiter for x in a), statistics.median(y.kib_per_waiter for y in b)
    return [
        Row("P4", f"commit → {waiters:,} long polls answered, p99 minus bare fan-out", f"{diff:+.1f} ms",
            f"≤ +5 ms; {feasibility:,} feasible, p99 ≤ 1.5× of 100", diff <= 5 and feasible,
            f"Atelier p99 {statistics.median(x.p99_ms for x in a):.1f} ms, bare "
            f"{statistics.median(y.p99_ms for y in b):.1f} ms (medians of {rounds} rounds; per round "
            f"{', '.join(f'{x.p99_ms - y.p99_ms:+.1f}' for x, y in results)} ms); {note}", rerun),
        Row("P5", "API memory per idle long poll", f"{kib_a:.1f} KiB (bare uvicorn {kib_b:.1f})", "≤ 20 KiB",
            kib_a <= 20, f"VmRSS with {waiters:,} waiting minus idle, per waiter, median of {rounds} fresh servers "
                         f"(per round {', '.join(f'{x.kib_per_waiter:.1f}' for x in a)} KiB)", rerun),
    ]


async def _scaling(run: Stack, many: int) -> tuple[bool, str]:
    """p99 with 100, 1,000 and ``many`` waiters, each size one round of fresh servers per side."""
    if many <= 0:
        return True, "scaling not measured (--feasibility 0)"
    sizes = sorted({100, 1000, many})
    found: dict[int, tuple[Wake, Wake] | str] = {}
    for size in sizes:
        try:
            found[size] = await _round(run, size, atelier_first=True)
        except TimeoutError as exc:
            found[size] = str(exc)
    parts = []
    for size in sizes:
        result = found[size]
        parts.append(f"{size:,}: {result}" if isinstance(result, str) else
                     f"{size:,}: p99 {result[0].p99_ms:.1f} ms (bare {result[1].p99_ms:.1f}), "
                     f"{result[0].kib_per_waiter:.1f} KiB each (bare {result[1].kib_per_waiter:.1f})")
    few, lots = found[100], found[many]
    if isinstance(few, str) or isinstance(lots, str):
        return False, f"{many:,} waiters not feasible; " + "; ".join(parts)
    ratio, bare_ratio = lots[0].p99_ms / few[0].p99_ms, lots[1].p99_ms / few[1].p99_ms
    return ratio <= 1.5, (f"{many:,} ÷ 100 waiters p99 {ratio:.2f} (bare {bare_ratio:.2f}); " + "; ".join(parts))
