from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from api.deps import DB, Auth, audit_context
from api.openapi import AUTHENTICATED, errors
from api.schemas import Account as AccountOut
from api.schemas import UsagePage, WebhookSecret, page
from shared import accounts
from shared.credits import ledger
from shared.credits import usage as usage_list
from shared.people import audit
from shared.people.views import account_view
from shared.views import iso

router = APIRouter(prefix="/v1/account", tags=["account"])


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
def rotate_webhook_secret(principal: Auth, request: Request, db: DB) -> dict[str, Any]:
    account = accounts.rotate_webhook_secret(db, principal.account_id)
    audit.record(db, account.id, "webhook_secret.rotated", audit_context(request, principal.actor))
    return {"secret": account.webhook_secret,
            "previous_secret_expires_at": iso(account.previous_secret_expires_at)}
