"""Daily credit limits (per plan or account, and per key), counted in UTC days.

The counters live on the account and key rows and move in the same transaction as the hold,
inside the same conditional UPDATE as the balance check: concurrent submits queue on the row
lock, and each sees the others' holds, so a burst never overshoots the limit.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from shared.errors import DailyLimitReached

#: The account's effective daily limit: the operator's per-account value, else the plan's.
ACCOUNT_LIMIT = "COALESCE(accounts.custom_daily_credit_limit, plans.daily_credit_limit)"


def used_today(table: str) -> str:
    return f"(CASE WHEN {table}.daily_used_on = :today THEN {table}.daily_used ELSE 0 END)"


def today(now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(UTC).date()


def reset_at(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0), UTC)


def refuse(scope: str, limit: int, used: int, amount: int, day: date) -> DailyLimitReached:
    reset = reset_at(day)
    return DailyLimitReached(
        f"This request needs {amount} credits; the {scope}'s daily limit of {limit} has {max(0, limit - used)} "
        f"left until {reset:%Y-%m-%dT%H:%M:%SZ}.",
        details={"limit": limit, "used": used, "reset_at": reset.strftime("%Y-%m-%dT%H:%M:%SZ"), "scope": scope},
        headers={"Retry-After": str(max(1, int((reset - datetime.now(UTC)).total_seconds())))},
    )


def account_refusal(session: Session, account_id: str, amount: int, day: date) -> DailyLimitReached | None:
    """After a refused hold: the daily-limit error if that is why (else the balance was short)."""
    row = session.execute(
        text(f"SELECT {ACCOUNT_LIMIT} AS lim, {used_today('accounts')} AS used FROM accounts"
             " JOIN plans ON plans.id = accounts.plan_id WHERE accounts.id = :id"),
        {"id": account_id, "today": day},
    ).one()
    if row.lim is not None and row.used + amount > row.lim:
        return refuse("account", int(row.lim), int(row.used), amount, day)
    return None


#: Counts ``:amount`` against key ``:key_id``'s day (``:today``) unless that passes its limit; a
#: statement to append conditions to (the hold makes it depend on the account's update).
KEY_HOLD = (f"UPDATE api_keys SET daily_used = {used_today('api_keys')} + :amount, daily_used_on = :today"
            " WHERE id = :key_id AND (daily_credit_limit IS NULL"
            f" OR {used_today('api_keys')} + :amount <= daily_credit_limit)")


def key_refusal(session: Session, key_id: str, amount: int, day: date) -> DailyLimitReached:
    """After a refused key update: the key's daily-limit error."""
    key = session.execute(
        text(f"SELECT daily_credit_limit AS lim, {used_today('api_keys')} AS used FROM api_keys WHERE id = :id"),
        {"id": key_id, "today": day},
    ).one()
    return refuse("key", int(key.lim), int(key.used), amount, day)


def adjust(session: Session, account_id: str, key_id: str | None, delta: int, day: date) -> None:
    """Correct the counters of ``day`` once a hold became a charge (or nothing)."""
    if delta == 0:
        return
    params = {"delta": delta, "day": day}
    session.execute(text("UPDATE accounts SET daily_used = GREATEST(0, daily_used + :delta)"
                         " WHERE id = :id AND daily_used_on = :day"), {**params, "id": account_id})
    if key_id:
        session.execute(text("UPDATE api_keys SET daily_used = GREATEST(0, daily_used + :delta)"
                             " WHERE id = :id AND daily_used_on = :day"), {**params, "id": key_id})
