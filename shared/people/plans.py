"""Plans: the catalogue, changes by a person or an operator, monthly renewal and statements.

Ledger kinds keep ``balance == sum(ledger)`` through renewals: ``monthly_grant`` adds the
period's credits, ``monthly_expiry`` removes what is left of them at the period end (bought
and granted credits roll over), ``overage_billed`` brings a balance below zero back to zero
once the overage is on the period's statement.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.accounts import PERIOD, get_account
from shared.credits import ledger
from shared.db.models import Account, Plan, Statement
from shared.db.pagination import Page, paginate
from shared.errors import ValidationError
from shared.ids import new_id
from shared.people import audit
from shared.views import iso

#: Plans whose limits an operator sets per account; people cannot pick them themselves.
OPERATOR_ONLY = frozenset({"enterprise"})


def list_plans(session: Session) -> list[Plan]:
    return list(session.scalars(select(Plan).order_by(Plan.monthly_credits, Plan.id)))


def plan_view(plan: Plan) -> dict[str, Any]:
    return {"id": plan.id, "object": "plan", "monthly_credits": plan.monthly_credits,
            "signup_credits": plan.signup_credits, "rate_limit_per_minute": plan.rate_limit_per_minute,
            "daily_credit_limit": plan.daily_credit_limit,
            "overage_rate_usd": float(plan.overage_rate_usd) if plan.overage_rate_usd is not None else None,
            "overage_limit_credits": plan.overage_limit_credits if plan.overage_enabled else 0,
            "self_service": plan.id not in OPERATOR_ONLY}


def _plan(session: Session, plan_id: str) -> Plan:
    plan = session.get(Plan, plan_id)
    if plan is None:
        names = ", ".join(p.id for p in list_plans(session))
        raise ValidationError.field("plan", f"unknown plan {plan_id!r}; one of {names}")
    return plan


def _locked(session: Session, account_id: str) -> Account:
    get_account(session, account_id)  # 404 for an unknown id
    return session.execute(select(Account).where(Account.id == account_id)
                           .with_for_update(key_share=True)).scalar_one()


def change_plan(session: Session, account_id: str, plan_id: str, ctx: audit.Context) -> Account:
    """An upgrade applies now and grants this period's difference; a downgrade waits for the period end."""
    plan = _plan(session, plan_id)
    if plan.id in OPERATOR_ONLY:
        raise ValidationError.field("plan", f"the {plan.id} plan is set up by an operator; contact us")
    account = _locked(session, account_id)
    before, grant_before = account.plan_id, account.monthly_grant
    if plan.monthly_credits < grant_before:
        account.pending_plan_id = plan.id
        audit.record(session, account.id, "plan.change_scheduled", ctx,
                     {"from": before, "to": plan.id, "effective_at": iso(account.period_end)})
        session.flush()
        return account
    account.plan_id, account.pending_plan_id = plan.id, None
    account.custom_monthly_credits = account.custom_rate_limit_per_minute = account.custom_daily_credit_limit = None
    session.flush()
    difference = plan.monthly_credits - grant_before
    if difference > 0:
        ledger.grant(session, account.id, difference, kind="monthly_grant",
                     reason=f"upgrade {before} → {plan.id}: this period's difference")
    audit.record(session, account.id, "plan.changed", ctx,
                 {"from": before, "to": plan.id, "credits_granted": max(0, difference)})
    session.expire(account)
    return account


def set_limits(session: Session, account_id: str, plan_id: str | None, *, monthly_credits: int | None,
               rate_limit_per_minute: int | None, daily_credit_limit: int | None) -> Account:
    """Operator: move an account to any plan now and/or set its own limits (enterprise)."""
    account = _locked(session, account_id)
    before: dict[str, Any] = {"plan": account.plan_id, "monthly_credits": account.monthly_grant,
              "rate_limit_per_minute": account.rate_limit_per_minute, "daily_credit_limit": account.daily_credit_limit}
    if plan_id is not None:
        account.plan_id, account.pending_plan_id = _plan(session, plan_id).id, None
    if monthly_credits is not None:
        account.custom_monthly_credits = monthly_credits
    if rate_limit_per_minute is not None:
        account.custom_rate_limit_per_minute = rate_limit_per_minute
    if daily_credit_limit is not None:
        account.custom_daily_credit_limit = daily_credit_limit if daily_credit_limit > 0 else None
    session.flush()
    session.refresh(account)
    difference = account.monthly_grant - int(before["monthly_credits"])
    if difference > 0:
        ledger.grant(session, account.id, difference, kind="monthly_grant",
                     reason=f"operator: monthly credits {before['monthly_credits']} → {account.monthly_grant}")
    after = {"plan": account.plan_id, "monthly_credits": account.monthly_grant,
             "rate_limit_per_minute": account.rate_limit_per_minute, "daily_credit_limit": account.daily_credit_limit}
    audit.record(session, account.id, "plan.limits_set", audit.OPERATOR, {"from": before, "to": after})
    session.expire(account)
    return account


def renew_due(session: Session, now: datetime | None = None) -> int:
    """Close and renew every account whose period ended (beat, every few minutes)."""
    now = now or datetime.now(UTC)
    due = session.scalars(
        select(Account).where(Account.period_end <= now).with_for_update(skip_locked=True, key_share=True)
        .limit(500)
    ).all()
    for account in due:
        renew(session, account, now)
    return len(due)


def renew(session: Session, account: Account, now: datetime) -> Statement:
    statement = _close(session, account)
    if account.balance < 0:
        ledger.grant(session, account.id, -account.balance, kind="overage_billed",
                     reason=f"overage on statement {statement.id}", details={"statement_id": statement.id})
        session.refresh(account)
    unused = min(account.monthly_remaining, max(0, account.balance))
    if unused:
        ledger.grant(session, account.id, -unused, kind="monthly_expiry",
                     reason="unused monthly credits do not roll over")
    session.refresh(account)
    if account.pending_plan_id:
        account.plan_id, account.pending_plan_id = account.pending_plan_id, None
    while account.period_end <= now:  # a stack that was down for a while skips empty periods
        account.period_start, account.period_end = account.period_end, account.period_end + PERIOD
    account.monthly_remaining = account.period_granted = account.period_used = 0
    account.overage_credits_period = 0
    account.alerts_sent = []
    session.flush()
    session.refresh(account)
    if account.monthly_grant:
        ledger.grant(session, account.id, account.monthly_grant, kind="monthly_grant",
                     reason=f"{account.plan_id} plan, period from {account.period_start:%Y-%m-%d}")
    session.refresh(account)
    return statement


def _close(session: Session, account: Account) -> Statement:
    rate = account.plan.overage_rate_usd
    due = (Decimal(account.overage_credits_period) * rate).quantize(Decimal("0.0001")) if rate else Decimal(0)
    statement = Statement(id=new_id("stmt"), account_id=account.id, plan_id=account.plan_id,
                          period_start=account.period_start, period_end=account.period_end,
                          granted=account.period_granted, used=account.period_used,
                          overage_credits=account.overage_credits_period, overage_rate_usd=rate,
                          amount_due_usd=due)
    session.add(statement)
    session.flush()
    return statement


def list_statements(session: Session, account_id: str, *, limit: int = 20, after: str | None = None) -> Page:
    stmt = select(Statement).where(Statement.account_id == account_id)
    return paginate(session, stmt, Statement, account_id=account_id, after=after, limit=limit)


def statement_view(statement: Statement) -> dict[str, Any]:
    rate = statement.overage_rate_usd
    return {"id": statement.id, "object": "statement", "plan": statement.plan_id,
            "period": {"start": iso(statement.period_start), "end": iso(statement.period_end)},
            "granted": statement.granted, "used": statement.used, "overage_credits": statement.overage_credits,
            "overage_rate_usd": float(rate) if rate is not None else None,
            "amount_due_usd": float(statement.amount_due_usd), "created_at": iso(statement.created_at)}
