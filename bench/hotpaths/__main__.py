"""Issue 13's hot paths, each against its bare baseline in the same run, printed as one table.

    python -m bench.hotpaths [--only P1 P2 P3 P4 P5 P6 P8 CG] [--rounds N] [--requests N] ...

Atelier and the bare baselines (``bench/hotpaths/bare_api.py``, ``bare_worker.py``) share the
database, Redis, uvicorn settings (1 worker, uvloop, httptools, no access log), Celery pool and
load client (httpx, 16 keep-alive connections). Rounds alternate between the two sides; each row
is the median of per-round ratios or differences. Services: ``ATELIER_BENCH_DATABASE_URL`` /
``ATELIER_BENCH_REDIS_URL``, else embedded. Figures vary with the machine's load: compare ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import time

from bench.hotpaths import pipeline, requests, upload, waiters
from bench.hotpaths.load import Row, print_table
from bench.hotpaths.stack import Stack, stack

ROWS = ("P1", "P2", "P3", "P4", "P5", "P6", "P8", "CG")


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", choices=ROWS, default=list(ROWS), help="rows to measure")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds per row")
    parser.add_argument("--requests", type=int, default=300, help="requests per side per round (P1, P2, CG)")
    parser.add_argument("--samples", type=int, default=10, help="submissions per side per round (P3)")
    parser.add_argument("--waiters", type=int, default=1000, help="long polls on one job (P4, P5)")
    parser.add_argument("--feasibility", type=int, default=10_000,
                        help="waiters for the feasibility check against 100 (P4); 0 skips it")
    parser.add_argument("--jobs", type=int, default=24, help="jobs per side per round (P6)")
    parser.add_argument("--cg-rows", type=int, default=100_000, help="rows behind the large account (CG)")
    return parser.parse_args()


async def measure(run: Stack, args: argparse.Namespace) -> list[Row]:
    wanted, rows = set(args.only), []
    steps = [
        ({"P1", "P2"}, lambda: requests.p1_p2(run, args.rounds, args.requests)),
        ({"P3"}, lambda: pipeline.p3(run, args.rounds, args.samples)),
        ({"P4", "P5"}, lambda: waiters.p4_p5(run, min(args.rounds, 3), args.waiters, args.feasibility)),
        ({"P6"}, lambda: pipeline.p6(run, min(args.rounds, 3), args.jobs)),
        ({"P8"}, lambda: upload.p8(run, min(args.rounds, 3))),
        ({"CG"}, lambda: requests.cg(run, args.rounds, args.requests, big=args.cg_rows)),
    ]
    for ids, step in steps:
        if ids & wanted:
            started = time.monotonic()
            found = await step()
            rows += [row for row in found if row.id in wanted]
            print(f"measured {', '.join(sorted(ids & wanted))} in {time.monotonic() - started:.0f} s",
                  file=sys.stderr)
    return rows


def raise_open_files_limit() -> None:
    """P4's long polls hold one socket each, here and (inherited) in the servers: up to the hard limit."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def main() -> None:
    args = parse()
    raise_open_files_limit()
    with stack() as run:
        rows = asyncio.run(measure(run, args))
    print_table(sorted(rows, key=lambda row: ROWS.index(row.id)))


if __name__ == "__main__":
    main()
