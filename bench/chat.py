"""What Atelier's chat relay adds to the time to the first streamed chunk, against the same
fake upstream asked straight, in the same run.

    python -m bench.chat [--rounds N]

The fake OpenAI-compatible upstream (``tests.llm.fake_upstream``) runs in this process; the
API runs as a real uvicorn subprocess pointed at it (``ATELIER_OPENAI_BASE_URL``), against
real services (``ATELIER_BENCH_DATABASE_URL`` / ``ATELIER_BENCH_REDIS_URL``, else embedded).
Each round asks the fake directly, then through Atelier, with the same streamed request; the
clock runs from sending the request to the first byte of the body (the first SSE event).
Each stream is read to its end, so Atelier settles the request before the next round.
Through Atelier the path includes authentication, the rate limit and the 1-credit hold (up to
its guarded update: the hold's commit runs alongside the upstream request). The machine's load
average is printed with the figures: on a shared machine they move with it, so compare runs only
with their load in view.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.api import api_server, configure, fresh_database, new_account, new_key, services
from tests.llm.fake_upstream import FakeOpenAI

WARMUP = 20


def first_chunk(client: httpx.Client, url: str, headers: dict[str, str], body: dict[str, Any]) -> float:
    start = time.perf_counter()
    first: float | None = None
    with client.stream("POST", url, json=body, headers=headers) as response:
        if response.status_code != 200:
            raise RuntimeError(f"POST {url}: {response.status_code} {response.read()[:300]!r}")
        for chunk in response.iter_raw():
            if first is None and chunk:
                first = time.perf_counter() - start
    if first is None:
        raise RuntimeError(f"POST {url}: an empty stream")
    return first


def measure(fake: FakeOpenAI, atelier_url: str, key_headers: dict[str, str], rounds: int) -> dict[str, list[float]]:
    body = {"model": "gpt-4o-mini", "stream": True, "messages": [{"role": "user", "content": "hello bench"}]}
    direct_headers = {"Authorization": f"Bearer {fake.key}"}
    times: dict[str, list[float]] = {"direct": [], "atelier": [], "difference": []}
    with httpx.Client(timeout=30) as client:
        for i in range(WARMUP + rounds):
            direct = first_chunk(client, f"{fake.base_url}/chat/completions", direct_headers, body)
            relayed = first_chunk(client, f"{atelier_url}/v1/chat/completions", key_headers,
                                  {**body, "model": "openai/gpt-4o-mini"})
            if i >= WARMUP:
                times["direct"].append(direct * 1000)
                times["atelier"].append(relayed * 1000)
                times["difference"].append((relayed - direct) * 1000)
    return times


def report(times: dict[str, list[float]], rounds: int, loads: tuple[float, float]) -> None:
    print(f"Time to first streamed chunk, ms ({rounds} rounds, alternating; 1-minute load average "
          f"{loads[0]:.1f} before, {loads[1]:.1f} after, {os.cpu_count()} cores)")
    print(f"  {'path':<34} {'p50':>8} {'p99':>8}")
    for label, name in (("fake upstream, straight", "direct"), ("through Atelier", "atelier"),
                        ("Atelier minus straight (paired)", "difference")):
        values = sorted(times[name])
        p99 = values[min(len(values) - 1, int(len(values) * 0.99))]
        print(f"  {label:<34} {statistics.median(values):>8.2f} {p99:>8.2f}")
    print(f"\nRerun: .venv/bin/python -m bench.chat --rounds {rounds}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="atelier-bench-") as d, FakeOpenAI() as fake:
        tmp = Path(d)
        with services(tmp) as (server_url, redis_url), fresh_database(server_url) as database_url:
            configure(database_url, redis_url, tmp)
            os.environ.update({"ATELIER_OPENAI_API_KEY": fake.key, "ATELIER_OPENAI_BASE_URL": fake.base_url})
            key = new_key(new_account())
            with api_server(tmp / "api.log") as server:
                print("measuring", file=sys.stderr)
                before = os.getloadavg()[0]
                times = measure(fake, server.url, key.headers, args.rounds)
                after = os.getloadavg()[0]
    report(times, args.rounds, (before, after))


if __name__ == "__main__":
    main()
