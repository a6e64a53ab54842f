"""What the typed responses cost: a page of 100 jobs as FastAPI answers it with
``response_model=Page[Job]`` (validate the view dicts, serialize the model once) against the
bare baseline of ``json.dumps`` on the same dicts (what a ``JSONResponse`` does), in one run.

    python -m bench.responses [--rounds N]
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from pydantic import TypeAdapter

from api.schemas import Job, Page


def _job(i: int) -> dict[str, Any]:
    asset = {"id": f"ast_{i:022d}", "object": "asset", "kind": "image", "content_type": "image/png",
             "bytes": 48213, "sha256": "ab" * 32, "width": 1024, "height": 1024, "duration_seconds": None,
             "source": "job", "job_id": f"job_{i:022d}", "filename": "out.png",
             "url": f"http://127.0.0.1:8000/v1/assets/ast_{i:022d}/content", "created_at": "2026-11-30T08:00:00.000Z"}
    return {"id": f"job_{i:022d}", "object": "job", "mode": "text_to_image", "status": "completed",
            "model": "local/sketch-1", "provider": "local", "prompt": "a lighthouse at dusk",
            "inputs": {"n": 1, "size": "1024x1024", "seed": i}, "progress": 100, "estimated_credits": 1,
            "credits_charged": 1, "pricing": {"estimate": {"credits": 1}}, "result": {"assets": [asset]},
            "error": None, "webhook_url": None, "webhook_events": ["job.completed"], "metadata": {"k": "v"},
            "attempts": 1, "upstream": None, "created_at": "2026-11-30T08:00:00.000Z",
            "started_at": "2026-11-30T08:00:00.100Z", "completed_at": "2026-11-30T08:00:01.000Z"}


def _time(fn: Any, rounds: int) -> float:
    started = time.perf_counter()
    for _ in range(rounds):
        fn()
    return (time.perf_counter() - started) / rounds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=300)
    rounds = parser.parse_args().rounds
    page = {"object": "list", "data": [_job(i) for i in range(100)], "has_more": True, "next_cursor": "job_x"}
    adapter = TypeAdapter(Page[Job])

    def bare() -> bytes:
        return json.dumps(page, ensure_ascii=False, separators=(",", ":")).encode()

    def typed_once() -> bytes:  # what FastAPI does with response_model and a returned dict
        return adapter.dump_json(adapter.validate_python(page))

    for fn in (bare, typed_once):
        fn()  # warm up
    base = _time(bare, rounds)
    print(f"page of 100 jobs, {rounds} rounds")
    print(f"  json.dumps (JSONResponse)          {base * 1e3:7.3f} ms  1.00x")
    spent = _time(typed_once, rounds)
    print(f"  response_model (validate + dump)   {spent * 1e3:7.3f} ms  {spent / base:.2f}x")


if __name__ == "__main__":
    main()
