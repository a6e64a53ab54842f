"""Usage totals: credits charged (grants and holds are not usage), grouped by day, mode, model or key.

One grouped query over the partial index ``ix_credit_ledger_charges`` (account, time; charge
rows only): its cost follows the rows in the asked range, not the size of the ledger.
Job charges carry ``mode``/``model`` in ``details``; chat and embedding charges add
``prompt_tokens``/``completion_tokens``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from shared.errors import ValidationError
from shared.views import iso

GROUPS: dict[str, str] = {
    "day": "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')",
    "mode": "COALESCE(details->>'mode', 'unknown')",
    "model": "COALESCE(details->>'model', 'unknown')",
    "key": "COALESCE('key_' || api_key_id, 'session')",
}
MAX_SPAN = timedelta(days=366)
DEFAULT_SPAN = timedelta(days=30)


def _tokens(name: str) -> str:
    return f"COALESCE(SUM((details->>'{name}')::bigint), 0)"


def _query(group_by: str) -> str:
    return (f"SELECT {GROUPS[group_by]} AS key, COALESCE(SUM(-amount), 0) AS credits, COUNT(*) AS requests,"
            f" {_tokens('prompt_tokens')} AS prompt_tokens, {_tokens('completion_tokens')} AS completion_tokens"
            " FROM credit_ledger WHERE account_id = :account_id AND kind = 'charge'"
            " AND created_at >= :start AND created_at < :end GROUP BY 1 ORDER BY 1")


def window(start: datetime | None, end: datetime | None, now: datetime | None = None) -> tuple[datetime, datetime]:
    end = _utc(end) if end else (now or datetime.now(UTC))
    start = _utc(start) if start else end - DEFAULT_SPAN
    if start >= end:
        raise ValidationError.field("from", "must be before `to`")
    if end - start > MAX_SPAN:
        raise ValidationError.field("from", f"the range is at most {MAX_SPAN.days} days")
    return start, end


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def summary(session: Session, account_id: str, start: datetime, end: datetime, group_by: str) -> dict[str, Any]:
    if group_by not in GROUPS:
        raise ValidationError.field("group_by", f"one of {', '.join(GROUPS)}")
    rows = session.execute(text(_query(group_by)), {"account_id": account_id, "start": start, "end": end}).all()
    groups = [{"key": r.key, "credits": int(r.credits), "requests": int(r.requests),
               "prompt_tokens": int(r.prompt_tokens), "completion_tokens": int(r.completion_tokens)} for r in rows]
    return {"object": "usage_summary", "from": iso(start), "to": iso(end), "group_by": group_by,
            "total_credits": sum(g["credits"] for g in groups), "total_requests": sum(g["requests"] for g in groups),
            "prompt_tokens": sum(g["prompt_tokens"] for g in groups),
            "completion_tokens": sum(g["completion_tokens"] for g in groups), "groups": groups}


def explain(session: Session, account_id: str, start: datetime, end: datetime, group_by: str) -> str:
    """The query plan (for the test and the bench that keep the query on its index)."""
    rows = session.execute(text("EXPLAIN " + _query(group_by)),
                           {"account_id": account_id, "start": start, "end": end}).scalars()
    return "\n".join(rows)
