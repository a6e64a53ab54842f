"""Helpers for tests: data factories and small HTTP conveniences."""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event

from shared.accounts import create_account, create_key
from shared.credits.ledger import grant
from shared.db.session import get_engine, session_scope


@dataclass(frozen=True)
class Caller:
    account_id: str
    key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


def create_account_with_key(plan: str = "starter", credits: int | None = None) -> Caller:
    """An account on ``plan``; with ``credits`` its balance is topped up (or drained) to exactly that."""
    with session_scope() as session:
        account = create_account(session, f"{uuid.uuid4().hex[:12]}@example.com", plan)
        if credits is not None and credits != account.balance:
            grant(session, account.id, credits - account.balance, kind="adjustment", reason="test")
        _, key = create_key(session, account.id, "test")
        return Caller(account.id, key)


def wait_for_job(client: Any, caller: Caller, job_id: str, timeout: float = 60.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(f"/v1/jobs/{job_id}", params={"wait": 10}, headers=caller.headers)
        assert response.status_code == 200, response.text
        job = response.json()
        if job["status"] in ("completed", "failed", "aborted") or time.monotonic() > deadline:
            return job


def ledger_sum(account_id: str) -> tuple[int, int]:
    """(sum of the ledger, the account's balance) — equal by the ledger's invariant."""
    from sqlalchemy import func, select

    from shared.db.models import Account, LedgerEntry

    with session_scope() as session:
        total = session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount), 0))
                               .where(LedgerEntry.account_id == account_id))
        balance = session.get(Account, account_id).balance  # type: ignore[union-attr]
        return int(total or 0), int(balance)


def set_sync_wait(seconds: str | None) -> None:
    """How long synchronous compatible calls wait for their job (``ATELIER_SYNC_WAIT_SECONDS``);
    ``None`` restores the default."""
    from shared.settings import reset_settings

    if seconds is None:
        os.environ.pop("ATELIER_SYNC_WAIT_SECONDS", None)
    else:
        os.environ["ATELIER_SYNC_WAIT_SECONDS"] = seconds
    reset_settings()


@contextmanager
def sql_sent(keep: Callable[[Any], bool]) -> Iterator[list[str]]:
    """The SQL statements the engine sends meanwhile (whitespace collapsed) for which
    ``keep(parameters)`` holds, called in the sending thread."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        if keep(parameters):
            seen.append(" ".join(statement.split()))

    event.listen(get_engine(), "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(get_engine(), "before_cursor_execute", record)


def sql_sent_here() -> AbstractContextManager[list[str]]:
    """``sql_sent``: what this thread sends."""
    me = threading.get_ident()
    return sql_sent(lambda _parameters: threading.get_ident() == me)
