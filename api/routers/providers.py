"""Upstream providers' completion webhooks.

The URL carries a token we signed for (provider, job), so only the provider we gave it to
can reach a job through it. The body is not trusted: a callback only triggers an immediate
status check through the provider's API, exactly as a scheduled poll would.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import AppSettings
from api.openapi import errors
from api.schemas import CallbackReceived
from shared import queue, signed
from shared.errors import NotFound

router = APIRouter(prefix="/v1/providers", tags=["providers"])


@router.post("/{provider}/callback/{token}", status_code=202, response_model=CallbackReceived,
             responses=errors(400, 404, 413, 503))
def provider_callback(provider: str, token: str, settings: AppSettings) -> JSONResponse:
    job_id = signed.verify_callback(settings, provider, token)
    if job_id is None:
        raise NotFound("Unknown callback.")
    queue.send(queue.POLL_JOB, [job_id], queue.FAST, kwargs={"reschedule": False})
    return JSONResponse({"received": True}, status_code=202)
