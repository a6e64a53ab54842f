from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.deps import DB, Auth
from api.openapi import AUTHENTICATED, errors
from api.schemas import Account as AccountOut
from api.schemas import UsagePage, WebhookSecret, page
from shared import accounts
from shared.credits import ledger
from shared.credits import usage as usage_list
from shared.db.models import Account
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


@router.get("", response_model=AccountOut, responses=errors(*AUTHENTICATED))
def get_account(principal: Auth, db: DB) -> dict[str, Any]:
    return account_view(accounts.get_account(db, principal.account_id))


@router.get("/usage", response_model=UsagePage, responses=errors(*AUTHENTICATED))
def usage(principal: Auth, db: DB, from_: Annotated[datetime | None, Query(alias="from")] = None,
          to: datetime | None = None, limit: Annotated[int, Query(ge=1, le=100)] = 20,
          after: Annotated[str | None, Query(max_length=80)] = None) -> dict[str, Any]:
    result = usage_list.list_entries(db, principal.account_id, start=from_, end=to, limit=limit, after=after)
    return {**page([usage_list.ledger_view(e) for e in result.items], result.has_more),
            "available": ledger.available(db, principal.account_id)}


@router.get("/webhook-secret", response_model=WebhookSecret, responses=errors(*AUTHENTICATED))
def webhook_secret(principal: Auth, db: DB) -> dict[str, Any]:
    return {"secret": accounts.get_account(db, principal.account_id).webhook_secret}


@router.post("/webhook-secret", response_model=WebhookSecret, responses=errors(*AUTHENTICATED))
def rotate_webhook_secret(principal: Auth, db: DB) -> dict[str, Any]:
    account = accounts.rotate_webhook_secret(db, principal.account_id)
    return {"secret": account.webhook_secret,
            "previous_secret_expires_at": iso(account.previous_secret_expires_at)}
