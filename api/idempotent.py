"""The HTTP side of an idempotent creation (``shared.idempotency.once``): a replay says so."""

from __future__ import annotations

from fastapi.responses import JSONResponse

from shared.idempotency import Outcome


def answer(outcome: Outcome) -> JSONResponse:
    headers = {"Idempotent-Replayed": "true"} if outcome.replayed else None
    return JSONResponse(outcome.body, status_code=outcome.status, headers=headers)
