from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response, StreamingResponse

from api.deps import DB, AppSettings, Auth, CatalogDep, StorageDep
from api.idempotent import answer
from api.openapi import AUTHENTICATED, errors
from api.schemas import Job, JobStatus, Page, Redelivery, WebhookDelivery, page
from api.transaction import ReadTx, RequestTransaction, Tx
from api.waiting import LongPoll, prefer_wait, read_job, read_status, wait_for_job
from shared.jobs import lifecycle, service
from shared.jobs.modes import JobRequest, Mode
from shared.jobs.submit import submit
from shared.settings import get_settings
from shared.views import TERMINAL, job_view
from shared.webhooks import outbox

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])
KEEPALIVE_SECONDS = 15.0


_PREFER = ("RFC 7240 preferences. `wait=N` (1–60): hold the request until the job is terminal (200) or N "
           "seconds pass (202), holding no database connection; `Preference-Applied: wait=N` says so. "
           "Other preferences are ignored; a `wait` outside 1–60 is a 400.")


@router.post("", status_code=202, response_model=Job, responses={
    200: {"model": Job, "description": "With `Prefer: wait=N`: the job ended within N seconds."},
    202: {"description": "The job, queued (or, with `Prefer: wait=N`, still running after N seconds)."},
    **errors(*AUTHENTICATED, 402, 404, 409, 413, 422)})
async def create_job(body: JobRequest, request: Request, principal: Auth, tx: Tx, settings: AppSettings,
                     catalog: CatalogDep, storage: StorageDep,
                     idempotency_key: Annotated[str | None, Header()] = None,
                     prefer: Annotated[str | None, Header(description=_PREFER)] = None) -> JSONResponse:
    wait = prefer_wait(prefer)
    # In the transaction the key was checked in, committed in the same worker thread.
    outcome = await run_in_threadpool(tx.run, lambda session: submit(
        session, storage, principal.account_id, body, catalog, settings, idempotency_key=idempotency_key,
        api_key_id=principal.key_id))
    if wait is None:
        return answer(outcome)
    # The creation is committed and the connection returned: the wait holds neither.
    view = await wait_for_job(request, principal.account_id, outcome.body["id"], wait)
    headers = {"Preference-Applied": f"wait={wait}"}
    if outcome.replayed:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(view, status_code=200 if view["status"] in TERMINAL else 202, headers=headers)


@router.get("", response_model=Page[Job], responses=errors(*AUTHENTICATED))
def list_jobs(principal: Auth, db: DB, settings: AppSettings,
              limit: Annotated[int, Query(ge=1, le=100)] = 20,
              after: Annotated[str | None, Query(max_length=80)] = None,
              status: JobStatus | None = None, mode: Mode | None = None) -> dict[str, Any]:
    result = service.list_jobs(db, principal.account_id, limit=limit, after=after, status=status, mode=mode)
    return page([job_view(j, settings.base_url) for j in result.items], result.has_more)


@router.get("/{job_id}", response_model=Job, responses=errors(*AUTHENTICATED, 404))
async def get_job(job_id: str, principal: Auth, tx: ReadTx, request: Request,
                  wait: Annotated[float | None, Query(ge=0, le=60)] = None,
                  poll: bool = False) -> Any:
    """The job; with ``wait``/``poll`` the request sleeps on a job event (no connection, no thread)."""
    seconds = wait if wait is not None else (30.0 if poll else 0.0)
    if seconds <= 0:  # read on the connection the key was checked on, given back in the same thread
        return await run_in_threadpool(_read_and_end, tx, principal.account_id, job_id)
    tx.end()  # read-only: sends nothing; the connection goes back to the pool before the wait
    return LongPoll(request.state.events, principal.account_id, job_id, seconds)


def _read_and_end(tx: RequestTransaction, account_id: str, job_id: str) -> dict[str, Any]:
    view = job_view(service.get_job(tx.session, account_id, job_id), get_settings().base_url)
    tx.end()
    return view


def _sse(view: dict[str, Any]) -> str:
    return f"event: job\nid: {view['status']}-{view['progress']}\ndata: {json.dumps(view)}\n\n"


class EventStream(StreamingResponse):
    media_type = "text/event-stream"


@router.get("/{job_id}/events", response_class=EventStream, responses={
    **errors(*AUTHENTICATED, 404),
    200: {"description": "Server-Sent Events: one `job` event (data: the Job as JSON) per change of status "
                         "or progress; the stream ends at a terminal state. Comments keep it alive.",
          "content": {"text/event-stream": {"schema": {"type": "string"}}}}})
async def job_events(job_id: str, principal: Auth, request: Request) -> StreamingResponse:
    await run_in_threadpool(read_status, principal.account_id, job_id)  # 404 before the stream starts
    hub = request.state.events

    async def stream() -> AsyncIterator[str]:
        async with hub.subscribe(job_id) as waiter:
            view = await run_in_threadpool(read_job, principal.account_id, job_id)
            yield _sse(view)
            last = (view["status"], view["progress"])
            while view["status"] not in TERMINAL:
                event = await waiter.next(KEEPALIVE_SECONDS)
                if event is None:
                    if await request.is_disconnected():
                        return
                    yield ": keep-alive\n\n"
                    continue
                if event.view is not None:  # one serialization per event, shared by its streams
                    view, chunk = event.view, event.derive(_sse)
                else:
                    view = await run_in_threadpool(read_job, principal.account_id, job_id)
                    chunk = _sse(view)
                if (view["status"], view["progress"]) != last:
                    last = (view["status"], view["progress"])
                    yield chunk

    return EventStream(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@router.post("/{job_id}/cancel", response_model=Job, responses=errors(*AUTHENTICATED, 404, 409))
def cancel_job(job_id: str, principal: Auth, db: DB, settings: AppSettings) -> dict[str, Any]:
    job = lifecycle.cancel_job(db, principal.account_id, job_id)
    return job_view(job, settings.base_url)


@router.delete("/{job_id}", status_code=204, response_class=Response, responses=errors(*AUTHENTICATED, 404, 409))
def delete_job(job_id: str, principal: Auth, db: DB, storage: StorageDep) -> Response:
    lifecycle.delete_job(db, storage, principal.account_id, job_id)
    return Response(status_code=204)


@router.get("/{job_id}/webhook-deliveries", response_model=Page[WebhookDelivery],
            responses=errors(*AUTHENTICATED, 404))
def list_deliveries(job_id: str, principal: Auth, db: DB) -> dict[str, Any]:
    job = service.get_job(db, principal.account_id, job_id)
    items = [outbox.delivery_view(d) for d in outbox.deliveries_for(db, job.id)]
    return {"object": "list", "data": items, "has_more": False, "next_cursor": None}


@router.post("/{job_id}/webhook-deliveries/redeliver", status_code=202, response_model=Redelivery,
             responses=errors(*AUTHENTICATED, 404))
def redeliver(job_id: str, principal: Auth, db: DB) -> dict[str, Any]:
    job = service.get_job(db, principal.account_id, job_id)
    return outbox.redeliver_last(db, job)
