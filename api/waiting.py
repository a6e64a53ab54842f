"""Waiting for a job to end without holding a thread or a database connection."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import Request
from fastapi.concurrency import run_in_threadpool

from shared.db.session import session_scope
from shared.jobs import service
from shared.settings import get_settings
from shared.views import TERMINAL, job_view


def read_job(account_id: str, job_id: str) -> dict[str, Any]:
    with session_scope() as session:
        return job_view(service.get_job(session, account_id, job_id), get_settings().base_url)


async def wait_for_job(request: Request, account_id: str, job_id: str, seconds: float) -> dict[str, Any]:
    """The job's view once it is terminal, or as it is after ``seconds``; the request sleeps on
    the job's events meanwhile."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    async with request.state.events.subscribe(job_id) as waiter:
        # Subscribed before reading, so a completion between the read and the wait is not missed.
        view = await run_in_threadpool(read_job, account_id, job_id)
        while view["status"] not in TERMINAL:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            event = await waiter.next(remaining)
            if event is None:
                break
            if event.get("status") in TERMINAL:
                view = event.get("job") or await run_in_threadpool(read_job, account_id, job_id)
    return view
