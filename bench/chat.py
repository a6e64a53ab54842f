"""What Atelier's chat relay adds to the time to the first streamed chunk, against the same
fake upstream asked straight, in the same run.

    python -m bench.chat [--rounds N] [--baseline DIR]

The fake OpenAI-compatible upstream (``tests.llm.fake_upstream``) runs in this process; the
API runs as a real uvicorn subprocess pointed at it (``ATELIER_OPENAI_BASE_URL``), against
real services (``ATELIER_BENCH_DATABASE_URL`` / ``ATELIER_BENCH_REDIS_URL``, else embedded).
Each round asks the fake directly, then through Atelier, with the same streamed request; the
clock runs from sending the request to the first byte of the body (the first SSE event).
Each stream is read to its end, so Atelier settles the request before the next round.
Through Atelier the path includes authentication, the rate limit and the 1-credit hold (up to
its guarded update: the hold's commit runs alongside the upstream request).

On a shared machine the figures move with its load (printed with them). ``--baseline DIR``
serves a second checkout of Atelier (e.g. ``git worktree add /tmp/base <commit>``; same
database schema) beside this one, asked in the same rounds, so a before/after comparison
sees the same load. The server's CPU time per streamed request (whole request: relay, settle)
does not depend on the load.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx

from bench.common import Server, api_server, configure, fresh_database, new_account, new_key, services
from tests.llm.fake_upstream import FakeOpenAI

WARMUP = 20
BODY = {"model": "gpt-4o-mini", "stream": True, "messages": [{"role": "user", "content": "hello bench"}]}


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


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(fake: FakeOpenAI, servers: dict[str, Server], key_headers: dict[str, str],
            rounds: int) -> dict[str, list[float]]:
    """First-chunk times (ms): ``direct``, and per server its time and its difference to the
    round's direct one; ``<name> cpu``: the server's CPU ms per request over the measured rounds."""
    direct_headers = {"Authorization": f"Bearer {fake.key}"}
    times: dict[str, list[float]] = {"direct": []}
    cpu: dict[str, float] = {}
    with httpx.Client(timeout=30) as client:
        for i in range(WARMUP + rounds):
            if i == WARMUP:
                cpu = {name: cpu_seconds(server.pid) for name, server in servers.items()}
            direct = first_chunk(client, f"{fake.base_url}/chat/completions", direct_headers, BODY)
            relayed = {name: first_chunk(client, f"{server.url}/v1/chat/completions", key_headers,
                                         {**BODY, "model": "openai/gpt-4o-mini"})
                       for name, server in servers.items()}
            if i >= WARMUP:
                times["direct"].append(direct * 1000)
                for name, seconds in relayed.items():
                    times.setdefault(name, []).append(seconds * 1000)
                    times.setdefault(f"{name} minus straight", []).append((seconds - direct) * 1000)
    for name, server in servers.items():
        times[f"{name} cpu"] = [(cpu_seconds(server.pid) - cpu[name]) * 1000 / rounds]
    return times


def report(times: dict[str, list[float]], names: list[str], rounds: int, loads: tuple[float, float],
           rerun: str) -> None:
    print(f"Time to first streamed chunk, ms ({rounds} rounds, alternating; 1-minute load average "
          f"{loads[0]:.1f} before, {loads[1]:.1f} after, {os.cpu_count()} cores)")
    print(f"  {'path':<40} {'p50':>8} {'p99':>8}")
    rows = [("fake upstream, straight", "direct")]
    for name in names:
        rows += [(f"through {name}", name), (f"{name} minus straight (paired)", f"{name} minus straight")]
    for label, key in rows:
        values = sorted(times[key])
        p99 = values[min(len(values) - 1, int(len(values) * 0.99))]
        print(f"  {label:<40} {statistics.median(values):>8.2f} {p99:>8.2f}")
    for name in names:
        print(f"  {name} server CPU per streamed request: {times[f'{name} cpu'][0]:.2f} ms")
    print(f"\nRerun: {rerun}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--baseline", type=Path, help="another checkout of Atelier, measured in the same rounds")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="atelier-bench-") as d, FakeOpenAI() as fake, ExitStack() as stack:
        tmp = Path(d)
        server_url, redis_url = stack.enter_context(services(tmp))
        configure(stack.enter_context(fresh_database(server_url)), redis_url, tmp)
        os.environ.update({"ATELIER_OPENAI_API_KEY": fake.key, "ATELIER_OPENAI_BASE_URL": fake.base_url})
        key = new_key(new_account())
        servers = {"Atelier": stack.enter_context(api_server(tmp / "api.log"))}
        if args.baseline:
            servers["baseline"] = stack.enter_context(api_server(tmp / "baseline.log",
                                                                 checkout=args.baseline.resolve()))
        print("measuring", file=sys.stderr)
        before = os.getloadavg()[0]
        times = measure(fake, servers, key.headers, args.rounds)
        after = os.getloadavg()[0]
    rerun = f".venv/bin/python -m bench.chat --rounds {args.rounds}"
    report(times, list(servers), args.rounds, (before, after),
           rerun + (f" --baseline {args.baseline}" if args.baseline else ""))


if __name__ == "__main__":
    main()
