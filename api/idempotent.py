"""The Idempotency-Key flow shared by the creating endpoints."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from shared import idempotency


def respond(db: Session, account_id: str, key: str | None, endpoint: str, *, status: int,
            fingerprint: Callable[[], str], create: Callable[[], dict[str, Any]]) -> JSONResponse:
    """Run ``create`` once per key: a repeat replays the first answer (same transaction as the
    creation, so concurrent repeats wait for it and then replay)."""
    if key is None:
        return JSONResponse(create(), status_code=status)
    replay = idempotency.claim(db, account_id, key, endpoint, fingerprint())
    if replay:
        return JSONResponse(replay.body, status_code=replay.status, headers={"Idempotent-Replayed": "true"})
    body = create()
    idempotency.store(db, account_id, key, status, body)
    return JSONResponse(body, status_code=status)
