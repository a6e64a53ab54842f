from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from api.errors import render
from api.openapi import errors
from api.schemas import Health, Readiness
from shared.db.session import get_engine
from shared.errors import ServiceUnavailable
from shared.redis_client import get_redis
from shared.settings import get_settings
from shared.storage import get_storage

router = APIRouter(tags=["ops"])


@router.get("/healthz", response_model=Health)
def healthz() -> dict[str, Any]:
    return {"status": "ok"}


def _ping_database() -> None:
    with get_engine().connect() as conn:
        conn.execute(text("SELECT 1"))


def _checks() -> dict[str, str]:
    results = {}
    probes = {
        "database": _ping_database,
        "broker": lambda: get_redis().ping(),
        "storage": lambda: get_storage(get_settings()).check(),
    }
    for name, probe in probes.items():
        try:
            probe()
            results[name] = "ok"
        except Exception as exc:  # readiness reports, it does not raise
            results[name] = f"unavailable: {type(exc).__name__}"
    return results


@router.get("/readyz", response_model=Readiness, responses=errors(503))
async def readyz() -> JSONResponse:
    checks = await run_in_threadpool(_checks)
    if all(v == "ok" for v in checks.values()):
        return JSONResponse({"status": "ready", "checks": checks})
    return render(ServiceUnavailable("Not ready: a backing service is unavailable.", details={"checks": checks}))


@router.get("/metrics", response_class=Response, responses={
    200: {"description": "Prometheus text exposition.", "content": {"text/plain": {"schema": {"type": "string"}}}}})
def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
