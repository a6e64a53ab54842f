"""Plans (public), a person's plan change, and the period statements."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from api.deps import DB, Auth, Person, audit_context
from api.people_schemas import AUTHENTICATED, PlanChange, PlanChangeOut, PlanList, StatementList, errors
from api.schemas import page
from shared.people import plans
from shared.people.views import account_view

router = APIRouter(tags=["plans"])


@router.get("/v1/plans", response_model=PlanList, responses=errors(503))
def list_plans(db: DB) -> dict[str, Any]:
    return {"object": "list", "data": [plans.plan_view(p) for p in plans.list_plans(db)],
            "has_more": False, "next_cursor": None}


@router.post("/v1/account/plan", response_model=PlanChangeOut, responses=errors(*AUTHENTICATED, 403, 413))
def change_plan(body: PlanChange, principal: Person, request: Request, db: DB) -> dict[str, Any]:
    account = plans.change_plan(db, principal.account_id, body.plan, audit_context(request, principal.actor))
    return {"account": account_view(account), "pending_plan": account.pending_plan_id}


@router.get("/v1/account/statements", response_model=StatementList, responses=errors(*AUTHENTICATED))
def statements(principal: Auth, db: DB, limit: Annotated[int, Query(ge=1, le=100)] = 20,
               after: str | None = None) -> dict[str, Any]:
    result = plans.list_statements(db, principal.account_id, limit=limit, after=after)
    return page([plans.statement_view(s) for s in result.items], result.has_more)
