"""An account's ledger as a list (``GET /v1/account/usage``), on the shared cursor pagination."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.db.models import LedgerEntry
from shared.db.pagination import Page, paginate
from shared.errors import ValidationError
from shared.views import iso

_CURSOR = re.compile(r"led_([0-9]{1,18})", re.ASCII)  # 18 digits always fit a BIGINT


def ledger_id(cursor: str) -> int:
    match = _CURSOR.fullmatch(cursor)
    if match is None:
        raise ValidationError.field("after", "is not a ledger entry id (led_<digits>)")
    return int(match.group(1))


def ledger_view(entry: LedgerEntry) -> dict[str, Any]:
    return {"id": f"led_{entry.id}", "object": "ledger_entry", "kind": entry.kind, "amount": entry.amount,
            "held_change": entry.held_change, "balance_after": entry.balance_after,
            "held_after": entry.held_after, "job_id": entry.job_id, "reason": entry.reason,
            "details": entry.details, "created_at": iso(entry.created_at)}


def list_entries(session: Session, account_id: str, *, start: datetime | None, end: datetime | None,
                 limit: int, after: str | None) -> Page:
    stmt = select(LedgerEntry).where(LedgerEntry.account_id == account_id)
    if start:
        stmt = stmt.where(LedgerEntry.created_at >= start)
    if end:
        stmt = stmt.where(LedgerEntry.created_at < end)
    return paginate(session, stmt, LedgerEntry, account_id=account_id, after=after, limit=limit,
                    parse_cursor=ledger_id)
