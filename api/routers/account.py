from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy import select

from api.deps import DB, Auth
from shared import accounts
from shared.credits import ledger
from shared.db.models import Account, LedgerEntry
from shared.errors import ValidationError
from shared.views import iso

router = APIRouter(prefix="/v1/account", tags=["account"])


def account_view(account: Account) -> dict[str, Any]:
    plan = account.plan
    return {
        "id": account.id,
        "object": "account",
        "email": account.email,
        "premium": plan.monthly_credits > 0,
        "plan": {"name": plan.id, "monthly_credits": plan.monthly_credits,
                 "rate_limit_per_minute": plan.rate_limit_per_minute,
                 "overage_rate_usd": float(plan.overage_rate_usd) if plan.overage_rate_usd is not None else None},
        "credits": {"balance": account.balance, "remaining": account.balance - account.held,
                    "held": account.held, "monthly_grant": plan.monthly_credits,
                    "free_signup_remaining": account.free_signup_remaining},
        "overage": {"enabled": plan.overage_enabled, "limit": plan.overage_limit_credits if plan.overage_enabled else 0,
                    "credits_this_period": account.overage_credits_period},
        "period": {"start": iso(account.period_start), "end": iso(account.period_end)},
    }


@router.get("")
def get_account(principal: Auth, db: DB) -> dict[str, Any]:
    return account_view(accounts.get_account(db, principal.account_id))


def _ledger_view(entry: LedgerEntry) -> dict[str, Any]:
    return {"id": f"led_{entry.id}", "object": "ledger_entry", "kind": entry.kind, "amount": entry.amount,
            "held_change": entry.held_change, "balance_after": entry.balance_after,
            "held_after": entry.held_after, "job_id": entry.job_id, "reason": entry.reason,
            "details": entry.details, "created_at": iso(entry.created_at)}


@router.get("/usage")
def usage(principal: Auth, db: DB, from_: Annotated[datetime | None, Query(alias="from")] = None,
          to: datetime | None = None, limit: Annotated[int, Query(ge=1, le=100)] = 20,
          after: str | None = None) -> dict[str, Any]:
    stmt = select(LedgerEntry).where(LedgerEntry.account_id == principal.account_id)
    if from_:
        stmt = stmt.where(LedgerEntry.created_at >= from_)
    if to:
        stmt = stmt.where(LedgerEntry.created_at < to)
    if after:
        if not after.startswith("led_") or not after[4:].isdigit():
            raise ValidationError.field("after", f"unknown cursor {after}")
        stmt = stmt.where(LedgerEntry.id < int(after[4:]))
    rows = list(db.scalars(stmt.order_by(LedgerEntry.id.desc()).limit(limit + 1)))
    items = [_ledger_view(e) for e in rows[:limit]]
    return {"object": "list", "data": items, "has_more": len(rows) > limit,
            "next_cursor": items[-1]["id"] if len(rows) > limit else None,
            "available": ledger.available(db, principal.account_id)}


@router.get("/webhook-secret")
def webhook_secret(principal: Auth, db: DB) -> dict[str, Any]:
    return {"secret": accounts.get_account(db, principal.account_id).webhook_secret}


@router.post("/webhook-secret")
def rotate_webhook_secret(principal: Auth, db: DB) -> dict[str, Any]:
    account = accounts.rotate_webhook_secret(db, principal.account_id)
    return {"secret": account.webhook_secret,
            "previous_secret_expires_at": iso(account.previous_secret_expires_at)}
