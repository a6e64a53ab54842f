"""P3 and P6: the way from a request to a worker, and jobs all the way through, against bare Celery.

Both sides run a prefork Celery worker of the same concurrency on the run's broker; every start and
completion is timed when its announcement reaches this process over Redis (Atelier's job events,
the bare tasks' own channel), by one clock.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

import httpx
from sqlalchemy import func, select

from bench.hotpaths.bare_api import BARE_QUEUE, bare_channel, producer
from bench.hotpaths.load import Row, alternate, check, client, percentile
from bench.hotpaths.stack import EventClock, Stack, celery_worker, servers
from shared.jobs.events import CHANNEL

PROMPT = "bench snowy mountains above a lake"
PARAMS = {"n": 1, "size": "512x512"}
#: A job not completed this long after its batch was sent counts as stuck (no sweeper runs here).
STUCK_AFTER = 120.0


@dataclass
class Pipeline:
    run: Stack
    clock: EventClock
    atelier: httpx.AsyncClient
    bare: httpx.AsyncClient


@asynccontextmanager
async def pipeline(run: Stack) -> AsyncIterator[Pipeline]:
    async with AsyncExitStack() as stack:
        atelier, bare = stack.enter_context(servers(run))
        stack.enter_context(celery_worker(run, "workers.celery_app", "media.fast"))
        stack.enter_context(celery_worker(run, "bench.hotpaths.bare_worker", BARE_QUEUE))
        clock = await stack.enter_async_context(EventClock(run.redis_url, [CHANNEL, bare_channel()]))
        a = await stack.enter_async_context(client(atelier.url))
        b = await stack.enter_async_context(client(bare.url))
        yield Pipeline(run, clock, a, b)


def _body(seed: int) -> dict[str, object]:
    return {"mode": "text_to_image", "prompt": PROMPT, "seed": seed, **PARAMS}


# P3 -----------------------------------------------------------------------------------------------


async def _start_latency(p: Pipeline, http: httpx.AsyncClient, path: str, seed: int) -> float:
    """Seconds from sending the request to the announcement that its task runs; returns once the
    worker is idle again, so the next sample starts from the same state."""
    headers = p.run.key.headers if path.startswith("/v1/") else {}
    sent = time.perf_counter()
    job_id = check(await http.post(path, json=_body(seed), headers=headers)).json()["id"]
    done = [(job_id, "running")] + ([(job_id, "completed")] if path.startswith("/v1/") else [])
    if missing := await p.clock.wait(done, STUCK_AFTER):
        raise RuntimeError(f"{path}: never saw {missing}")
    return p.clock.seen[(job_id, "running")] - sent


async def p3(run: Stack, rounds: int, samples: int) -> list[Row]:
    async with pipeline(run) as p:
        async def side(http: httpx.AsyncClient, path: str) -> list[float]:
            return [await _start_latency(p, http, path, i) for i in range(samples)]

        await side(p.atelier, "/v1/jobs")
        await side(p.bare, "/enqueue")
        pairs = await alternate(rounds, lambda: side(p.atelier, "/v1/jobs"), lambda: side(p.bare, "/enqueue"))
    a = [x * 1000 for pair in pairs for x in pair[0]]
    b = [x * 1000 for pair in pairs for x in pair[1]]
    d50 = statistics.median(a) - statistics.median(b)
    d99 = percentile(a, 0.99) - percentile(b, 0.99)
    per_round = [(statistics.median(x) - statistics.median(y)) * 1000 for x, y in pairs]
    return [Row("P3", "submit → running, minus INSERT + bare apply_async → task start (p50 / p99)",
                f"{d50:+.1f} / {d99:+.1f} ms", "≤ +5 / +20 ms", d50 <= 5 and d99 <= 20,
                f"Atelier p50 {statistics.median(a):.1f} p99 {percentile(a, 0.99):.1f} ms; bare p50 "
                f"{statistics.median(b):.1f} p99 {percentile(b, 0.99):.1f} ms; {len(a)} samples each; "
                f"per-round p50 difference {min(per_round):+.1f}…{max(per_round):+.1f} ms",
                f"python -m bench.hotpaths --only P3 --rounds {rounds} --samples {samples}")]


# P6 -----------------------------------------------------------------------------------------------


@dataclass
class Batch:
    rate: float
    stuck: int


async def _atelier_batch(p: Pipeline, jobs: int) -> Batch:
    start = time.perf_counter()
    sem = asyncio.Semaphore(16)

    async def submit(seed: int) -> str:
        async with sem:
            response = await p.atelier.post("/v1/jobs", json=_body(seed), headers=p.run.key.headers)
        return str(check(response).json()["id"])

    ids = await asyncio.gather(*(submit(i) for i in range(jobs)))
    await p.clock.wait([(job_id, "completed") for job_id in ids], STUCK_AFTER)
    return Batch(_rate(p, start, ids), await asyncio.to_thread(_not_completed, ids))


async def _bare_batch(p: Pipeline, jobs: int) -> Batch:
    start = time.perf_counter()
    celery, channel = producer(), bare_channel()
    ids = [f"bare{time.monotonic_ns()}-{i}" for i in range(jobs)]
    for seed, job_id in enumerate(ids):
        celery.send_task("bench.render", args=[job_id, channel, PROMPT, {**PARAMS, "seed": seed}], queue=BARE_QUEUE)
    missing = await p.clock.wait([(job_id, "completed") for job_id in ids], STUCK_AFTER)
    return Batch(_rate(p, start, ids), len(missing))


def _rate(p: Pipeline, start: float, ids: list[str]) -> float:
    done = [p.clock.seen[(i, "completed")] for i in ids if (i, "completed") in p.clock.seen]
    return len(done) / (max(done) - start) if done else 0.0


def _not_completed(ids: list[str]) -> int:
    from shared.db.models import Job
    from shared.db.session import session_scope

    with session_scope() as session:
        done = session.scalar(select(func.count()).where(Job.id.in_(ids), Job.status == "completed"))
    return len(ids) - int(done or 0)


async def p6(run: Stack, rounds: int, jobs: int) -> list[Row]:
    async with pipeline(run) as p:
        await _atelier_batch(p, 4)
        await _bare_batch(p, 4)
        pairs = await alternate(rounds, lambda: _atelier_batch(p, jobs), lambda: _bare_batch(p, jobs))
    ratio = statistics.median(a.rate / b.rate for a, b in pairs)
    stuck = sum(a.stuck for a, _ in pairs)
    return [Row("P6", "jobs/s API → worker → storage → completed ÷ bare Celery render + write",
                f"{ratio:.2f}, {stuck} of {rounds * jobs} stuck", "≥ 0.75, none stuck", ratio >= 0.75 and not stuck,
                f"median {statistics.median(a.rate for a, _ in pairs):.2f} vs "
                f"{statistics.median(b.rate for _, b in pairs):.2f} jobs/s ({jobs} text_to_image 512² per round, "
                f"2 prefork processes each side); bare tasks lost: {sum(b.stuck for _, b in pairs)}",
                f"python -m bench.hotpaths --only P6 --rounds {rounds} --jobs {jobs}")]
