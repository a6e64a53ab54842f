"""Usage totals, credit alerts and the audit log of the calling account."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from api.deps import DB, AppSettings, Auth, audit_context
from api.people_schemas import AUTHENTICATED, AlertSettings, AlertsOut, AuditList, UsageSummary, errors
from api.schemas import page
from shared import accounts
from shared.people import alerts, audit, usage

router = APIRouter(tags=["usage"])


@router.get("/v1/usage", response_model=UsageSummary, responses=errors(*AUTHENTICATED))
def usage_summary(principal: Auth, db: DB, from_: Annotated[datetime | None, Query(alias="from")] = None,
                  to: datetime | None = None,
                  group_by: Annotated[str, Query(pattern="^(day|mode|model|key)$")] = "day") -> dict[str, Any]:
    start, end = usage.window(from_, to)
    return usage.summary(db, principal.account_id, start, end, group_by)


@router.get("/v1/account/alerts", response_model=AlertsOut, responses=errors(*AUTHENTICATED))
def get_alerts(principal: Auth, db: DB) -> dict[str, Any]:
    return alerts.view(accounts.get_account(db, principal.account_id))


@router.put("/v1/account/alerts", response_model=AlertsOut, responses=errors(*AUTHENTICATED, 403, 413))
def put_alerts(body: AlertSettings, principal: Auth, request: Request, db: DB,
               settings: AppSettings) -> dict[str, Any]:
    account = accounts.get_account(db, principal.account_id)
    alerts.configure(db, account, body.webhook_url, body.thresholds_percent,
                     audit_context(request, principal.actor), allow_private=settings.webhook_allow_private)
    return alerts.view(account)


@router.get("/v1/audit-log", response_model=AuditList, responses=errors(*AUTHENTICATED))
def audit_log(principal: Auth, db: DB, limit: Annotated[int, Query(ge=1, le=100)] = 20,
              after: str | None = None) -> dict[str, Any]:
    result = audit.list_events(db, principal.account_id, limit=limit, after=after)
    return page([audit.view(e) for e in result.items], result.has_more)
