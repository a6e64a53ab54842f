"""A keep-alive comment after an event with an ``id:`` is not an event (httpx-sse would hand it
over as an empty ``message``, which broke ``jobs.stream`` whenever a job took over 15 s)."""

from __future__ import annotations

import json

import httpx

from atelier.client import Atelier


def _job(status: str, progress: int) -> dict:
    return {"id": "job_1", "object": "job", "mode": "text_to_image", "status": status, "model": "local/sketch-1",
            "provider": "local", "prompt": "p", "inputs": {}, "progress": progress, "estimated_credits": 1,
            "credits_charged": 0, "pricing": {}, "result": {"assets": []} if status == "completed" else None,
            "error": None, "webhook_url": None, "webhook_events": [], "metadata": {}, "attempts": 1,
            "upstream": None, "created_at": "2026-11-30T08:00:00.000Z", "started_at": None, "completed_at": None}


def _events(request: httpx.Request) -> httpx.Response:
    body = (f"event: job\nid: running-10\ndata: {json.dumps(_job('running', 10))}\n\n"
            ": keep-alive\n\n"
            f"event: job\nid: completed-100\ndata: {json.dumps(_job('completed', 100))}\n\n")
    return httpx.Response(200, content=body.encode(), headers={"content-type": "text/event-stream"})


def test_stream_skips_keep_alive_comments():
    with Atelier(api_key="at_live_abcdefghijkl." + "s" * 32, base_url="http://atelier.test",
                 http_client=httpx.Client(transport=httpx.MockTransport(_events))) as atelier:
        statuses = [event.job.status for event in atelier.jobs.stream("job_1")]
    assert statuses == ["running", "completed"]
