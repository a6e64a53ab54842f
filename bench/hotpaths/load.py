"""The one load client of the hot-path benchmarks, alternating rounds, and the result rows.

Every figure is measured against its bare baseline in the same run: rounds alternate (A B A B …)
so drift on this shared machine touches both sides alike, and a row reports the median of the
per-round ratios (or differences). Every loop has a count and every wait a timeout.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import httpx

CONNECTIONS = 16
REQUEST_TIMEOUT = 30.0
ROUND_TIMEOUT = 300.0

T = TypeVar("T")
Send = Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]


@asynccontextmanager
async def client(base_url: str, connections: int = CONNECTIONS,
                 timeout: float = REQUEST_TIMEOUT) -> AsyncIterator[httpx.AsyncClient]:
    """httpx over ``connections`` keep-alive loopback connections. Idle connections expire well
    before uvicorn's 5 s keep-alive, so one is never reused just as the server closes it."""
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections, keepalive_expiry=2)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=timeout) as http:
        yield http


def check(response: httpx.Response, expected: int | tuple[int, ...] = (200, 201, 202)) -> httpx.Response:
    codes = (expected,) if isinstance(expected, int) else expected
    if response.status_code not in codes:
        raise RuntimeError(f"{response.request.method} {response.request.url.path}: "
                           f"{response.status_code} {response.text[:300]}")
    return response


async def throughput(http: httpx.AsyncClient, send: Send, total: int, connections: int = CONNECTIONS) -> float:
    """Requests per second for ``total`` requests, ``connections`` of them in flight at once."""
    left = total

    async def worker() -> None:
        nonlocal left
        while left > 0:
            left -= 1
            check(await send(http))

    start = time.perf_counter()
    await asyncio.wait_for(asyncio.gather(*(worker() for _ in range(connections))), ROUND_TIMEOUT)
    return total / (time.perf_counter() - start)


def cpu_ticks(pid: int) -> int:
    """User + system CPU of a process (all its threads) so far, in clock ticks."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


@dataclass(frozen=True)
class Load:
    rate: float  # requests per second
    cpu_ms: float  # the server's CPU per request: far less sensitive to a busy machine than the rate


async def load(http: httpx.AsyncClient, send: Send, total: int, pid: int) -> Load:
    """``throughput``, and the server process's CPU time per request meanwhile."""
    before = cpu_ticks(pid)
    rate = await throughput(http, send, total)
    return Load(rate, (cpu_ticks(pid) - before) * 1000 / os.sysconf("SC_CLK_TCK") / total)


async def alternate(rounds: int, atelier: Callable[[], Awaitable[T]],
                    bare: Callable[[], Awaitable[T]]) -> list[tuple[T, T]]:
    """(Atelier, bare) per round; rounds alternate which side goes first (A B, B A, …)."""
    pairs = []
    for i in range(rounds):
        if i % 2 == 0:
            a = await atelier()
            b = await bare()
        else:
            b = await bare()
            a = await atelier()
        pairs.append((a, b))
    return pairs


def median_ratio(pairs: list[tuple[float, float]]) -> float:
    return statistics.median(a / b for a, b in pairs)


def spread(pairs: list[tuple[float, float]]) -> str:
    ratios = sorted(a / b for a, b in pairs)
    return f"{ratios[0]:.2f}–{ratios[-1]:.2f} over {len(ratios)} rounds"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@dataclass
class Row:
    id: str
    measure: str
    today: str
    goal: str
    met: bool
    detail: str
    rerun: str


def print_table(rows: list[Row]) -> None:
    print("\n| id | measure | today | goal | met |\n|---|---|---|---|---|")
    for row in rows:
        print(f"| {row.id} | {row.measure} | {row.today} | {row.goal} | {'yes' if row.met else 'no'} |")
    print()
    for row in rows:
        print(f"{row.id}: {row.detail}\n    rerun: {row.rerun}")
