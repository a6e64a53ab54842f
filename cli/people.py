"""Operator commands for people: ``atelier accounts list/show``, ``atelier plans set``, ``atelier audit``."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
plans_app = typer.Typer(help="Operator: plans and per-account limits.", no_args_is_help=True)


def _operate(fn: Any) -> Any:
    from cli.main import _operate as operate

    return operate(fn)


def _out(as_json: bool, data: dict[str, Any], text: str) -> None:
    typer.echo(json.dumps(data) if as_json else text)


def accounts_list(limit: Annotated[int, typer.Option(min=1, max=1000, help="At most this many, newest first.")] = 50,
                  email: Annotated[str | None, typer.Option(help="Only emails containing this.")] = None,
                  as_json: JsonOpt = False) -> None:
    """List accounts (newest first)."""
    from sqlalchemy import select

    from shared.db.models import Account

    def act(session: Any) -> dict[str, Any]:
        stmt = select(Account).order_by(Account.created_at.desc(), Account.id.desc()).limit(limit)
        if email:
            stmt = stmt.where(Account.email.contains(email.lower()))
        rows = session.scalars(stmt).all()
        return {"object": "list", "data": [{"id": a.id, "email": a.email, "plan": a.plan_id, "balance": a.balance,
                                            "created_at": a.created_at.isoformat()} for a in rows]}

    data = _operate(act)
    lines = [f"{a['id']}  {a['email']}  {a['plan']}  {a['balance']} credits" for a in data["data"]]
    _out(as_json, data, "\n".join(lines) or "no accounts")


def accounts_show(account_id: str, as_json: JsonOpt = False) -> None:
    """One account: plan, limits, credits, period, keys."""
    from shared.accounts import get_account
    from shared.people import keys
    from shared.people.views import account_view

    def act(session: Any) -> dict[str, Any]:
        view = account_view(get_account(session, account_id))
        view["keys"] = [keys.view(k) for k in keys.list_keys(session, account_id)]
        return view

    data = _operate(act)
    plan, credits = data["plan"], data["credits"]
    _out(as_json, data, f"{data['id']}  {data['email']}\nplan {plan['name']} ({plan['monthly_credits']}/month, "
                        f"{plan['rate_limit_per_minute']} req/min, daily limit {plan['daily_credit_limit']})\n"
                        f"balance {credits['balance']}, held {credits['held']}, "
                        f"period {data['period']['start']} → {data['period']['end']}\n"
                        f"{len(data['keys'])} key(s)")


@plans_app.command("set")
def plans_set(account: Annotated[str, typer.Option(help="Account id (acc_…).")],
              plan: Annotated[str | None, typer.Option(help="Move the account to this plan now.")] = None,
              monthly_credits: Annotated[int | None, typer.Option(min=0, help="This account's monthly grant.")] = None,
              rate_limit: Annotated[int | None, typer.Option(min=1, help="Requests per minute.")] = None,
              daily_limit: Annotated[int | None, typer.Option(min=0, help="Credits per UTC day; 0 removes it.")]
              = None,
              as_json: JsonOpt = False) -> None:
    """Set an account's plan and/or its own limits (enterprise); an increase of the monthly grant
    is granted for the current period at once."""
    from shared.people import plans
    from shared.people.views import account_view

    if plan is None and monthly_credits is None and rate_limit is None and daily_limit is None:
        typer.echo("error: give --plan, --monthly-credits, --rate-limit or --daily-limit", err=True)
        raise typer.Exit(2)
    data = _operate(lambda s: account_view(plans.set_limits(
        s, account, plan, monthly_credits=monthly_credits, rate_limit_per_minute=rate_limit,
        daily_credit_limit=daily_limit)))
    p = data["plan"]
    _out(as_json, data, f"{data['id']}: plan {p['name']}, {p['monthly_credits']}/month, "
                        f"{p['rate_limit_per_minute']} req/min, daily limit {p['daily_credit_limit']}")


def audit(account: Annotated[str, typer.Option(help="Account id (acc_…).")],
          limit: Annotated[int, typer.Option(min=1, max=100)] = 50, as_json: JsonOpt = False) -> None:
    """The account's audit log, newest first."""
    from shared.accounts import get_account
    from shared.people import audit as audit_log

    def act(session: Any) -> dict[str, Any]:
        get_account(session, account)
        page = audit_log.list_events(session, account, limit=limit)
        return {"object": "list", "data": [audit_log.view(e) for e in page.items], "has_more": page.has_more}

    data = _operate(act)
    lines = [f"{e['created_at']}  {e['action']:<22} {e['actor']}  {e['ip'] or '-'}" for e in data["data"]]
    _out(as_json, data, "\n".join(lines) or "no audit events")
