"""Helpers for relay tests: an SDK client for a caller, and the ledger rows of its requests."""

from __future__ import annotations

import time
from typing import Any

import openai
from sqlalchemy import select

from shared.db.models import LedgerEntry
from shared.db.session import session_scope
from tests.support import Caller


def sdk(live_server: str, caller: Caller) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{live_server}/v1", api_key=caller.key, max_retries=0, timeout=30)


def request_rows(account_id: str) -> list[dict[str, Any]]:
    """The account's ledger rows that belong to relayed requests, oldest first."""
    with session_scope() as session:
        rows = session.scalars(select(LedgerEntry).where(LedgerEntry.account_id == account_id,
                                                         LedgerEntry.request_id.is_not(None))
                               .order_by(LedgerEntry.id)).all()
        return [{"kind": r.kind, "amount": r.amount, "held_change": r.held_change, "request_id": r.request_id,
                 "details": r.details or {}, "api_key_id": r.api_key_id} for r in rows]


def wait_for_rows(account_id: str, kind: str, count: int = 1, timeout: float = 10) -> list[dict[str, Any]]:
    """Rows of ``kind`` once ``count`` exist (a streamed request settles after its last byte)."""
    deadline = time.monotonic() + timeout
    while True:
        rows = [r for r in request_rows(account_id) if r["kind"] == kind]
        if len(rows) >= count or time.monotonic() > deadline:
            return rows
        time.sleep(0.05)
