"""CPU the API's event hub spends per job event nobody in the process waits for.

    python -m bench.hotpaths.hub [--events N] [--rounds N]

Every API process receives every job's events; most concern jobs none of its requests wait on.
Feeds the hub's message handler realistic events (a completed job's view) for jobs without a
waiter, and, as the baseline in the same run, the same events for a job with one waiter.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from typing import Any

from shared.jobs.hub import JobEventHub

VIEW = {"id": "job_x", "object": "job", "mode": "text_to_image", "status": "completed", "model": "local-image",
        "provider": "local", "prompt": "snowy mountains above a lake at sunset", "inputs": {"n": 1, "size": "512x512"},
        "progress": 100, "estimated_credits": 4, "credits_charged": 4, "pricing": {"estimate": {"credits": 4}},
        "result": {"assets": [{"id": "ast_1", "object": "asset", "kind": "image", "bytes": 123456, "sha256": "ab" * 32,
                               "url": "http://127.0.0.1:8000/v1/assets/ast_1/content"}]},
        "error": None, "webhook_url": None, "webhook_events": [], "metadata": {}, "attempts": 1, "upstream": None,
        "created_at": "2026-11-30T07:00:00.000Z", "started_at": None, "completed_at": None}


def _messages(count: int, job_id: str | None) -> list[dict[str, Any]]:
    return [{"type": "message", "data": json.dumps({"job_id": job_id or f"job_{i:024d}", "status": "completed",
                                                    "progress": 100, "ts": 1.0, "job": VIEW})} for i in range(count)]


def _per_event_us(hub: JobEventHub, messages: list[dict[str, Any]]) -> float:
    start = time.perf_counter()
    for message in messages:
        hub._handle(message)
    return (time.perf_counter() - start) / len(messages) * 1e6


async def measure(events: int, rounds: int) -> tuple[float, float]:
    hub = JobEventHub("redis://127.0.0.1:1")  # never started: only its message handler runs
    unwatched, watched = _messages(events, None), _messages(events, "job_watched")
    async with hub.subscribe("job_watched") as waiter:
        pairs = []
        for _ in range(rounds):
            pairs.append((_per_event_us(hub, unwatched), _per_event_us(hub, watched)))
            while await waiter.next(0) is not None:  # drain
                pass
    return statistics.median(a for a, _ in pairs), statistics.median(b for _, b in pairs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    unwatched, watched = asyncio.run(measure(args.events, args.rounds))
    print(f"per event for a job nobody waits on: {unwatched:.2f} µs; for a watched job: {watched:.2f} µs "
          f"(ratio {unwatched / watched:.2f}; medians of {args.rounds} rounds × {args.events:,} events)\n"
          f"rerun: python -m bench.hotpaths.hub --events {args.events} --rounds {args.rounds}")


if __name__ == "__main__":
    main()
