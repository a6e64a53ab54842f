"""Waiting for a job to end without holding a thread or a database connection.

A long poll (``GET /v1/jobs/{id}?wait=N``) registers with the process's job-event hub, reads the
job's status alone (one small read, shared by the waiters of one job), and then keeps nothing but
the job id, its status and the newest event. When the job's event comes, every waiter of the job
answers with the same bytes: the event's view is validated and serialized once (``job_body``),
not once per waiter.

``Prefer: wait=N`` asks for the same wait when a job is created (RFC 7240, as Replicate reads it).
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import TypeAdapter
from starlette.types import Receive, Scope, Send

from api.schemas import Job
from shared.db.session import autocommit_connection, session_scope
from shared.errors import ValidationError
from shared.jobs import service
from shared.jobs.hub import JobEvent, JobEventHub, JobEventWaiter
from shared.settings import get_settings
from shared.views import TERMINAL, job_view

_JOB = TypeAdapter(Job)


def read_job(account_id: str, job_id: str) -> dict[str, Any]:
    with session_scope() as session:
        return job_view(service.get_job(session, account_id, job_id), get_settings().base_url)


def read_status(account_id: str, job_id: str) -> str:
    """The job's status alone: one statement, no transaction around it (404 if not the caller's)."""
    with autocommit_connection() as connection:
        return service.job_status(connection, account_id, job_id)


def job_body(view: dict[str, Any]) -> bytes:
    """The JSON body FastAPI answers for ``response_model=Job``: validated, then serialized."""
    return _JOB.dump_json(_JOB.validate_python(view), by_alias=True)


def job_response(body: bytes) -> Response:
    return Response(body, media_type="application/json")


async def _newest(waiter: JobEventWaiter, status: str, seconds: float) -> JobEvent | None:
    """The newest event until one is terminal or ``seconds`` pass (None if there was none)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    newest = None
    while status not in TERMINAL and (remaining := deadline - loop.time()) > 0:
        event = await waiter.next(remaining)
        if event is None:
            break
        newest, status = event, event.status or status
    return newest


async def _answer(hub: JobEventHub, account_id: str, job_id: str, seconds: float) -> bytes:
    """The job once it is terminal, or as it is after ``seconds``: a response body shared by every
    waiter woken by the same event."""
    async with hub.subscribe(job_id) as waiter:
        # Subscribed before reading, so a completion between the read and the wait is not missed;
        # of many waiters on one job, one reads (JobEventHub.status).
        status = await hub.status(waiter, account_id, lambda: run_in_threadpool(read_status, account_id, job_id))
        event = None if status in TERMINAL else await _newest(waiter, status, seconds)
    if event is not None and event.view is not None:
        return event.derive(job_body)
    # Terminal before we waited, a quiet job, or a progress report (no view): read it as it is.
    return job_body(await run_in_threadpool(read_job, account_id, job_id))


class LongPoll(Response):
    """A long poll's answer, waited for when the response is sent: the route has returned by then,
    so the request's dependencies and the route's frames are not kept for the whole wait. What
    can go wrong (an unknown job) is raised before anything is sent, and answered as usual."""

    media_type = "application/json"

    def __init__(self, hub: JobEventHub, account_id: str, job_id: str, seconds: float) -> None:
        super().__init__()
        self._wait = (hub, account_id, job_id, seconds)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        hub, account_id, job_id, seconds = self._wait
        body = await _answer(hub, account_id, job_id, seconds)
        await job_response(body)(scope, receive, send)


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
            if event.status in TERMINAL:
                view = event.view or await run_in_threadpool(read_job, account_id, job_id)
    return view


#: ``Prefer: wait=N``: how long a creating request may wait for its job, in seconds.
PREFER_WAIT = (1, 60)


def prefer_wait(header: str | None) -> int | None:
    """The seconds a ``Prefer`` header's ``wait`` preference asks for, or None without one.

    Other preferences are ignored, as RFC 7240 lets a server do (``Preference-Applied`` names
    only what was applied). A ``wait`` that is not a whole number of seconds from 1 to 60 is a
    400 naming ``Prefer``: the contract bounds it, and a client asking for 300 s should learn
    that it did not get them rather than receive a 202 it did not expect.
    """
    for preference in (header or "").split(","):
        token, _, value = preference.split(";", 1)[0].partition("=")
        if token.strip().lower() != "wait":
            continue
        seconds = value.strip().strip('"')
        low, high = PREFER_WAIT
        if not seconds.isascii() or not seconds.isdigit() or not low <= int(seconds) <= high:
            raise ValidationError.field("Prefer", f"wait must be a whole number of seconds from {low} to {high}")
        return int(seconds)
    return None
