"""Plans: the public list, upgrades now, downgrades at the period end, renewal and statements."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from shared.credits import ledger
from shared.db.models import Account, LedgerEntry
from shared.db.session import session_scope
from shared.people import plans
from tests.people.support import sign_up
from tests.support import ledger_sum


def _end_period(account_id: str) -> datetime:
    """Move the account's period into the past, as if 30 days had gone by; returns 'now'."""
    now = datetime.now(UTC)
    with session_scope() as session:
        session.execute(update(Account).where(Account.id == account_id)
                        .values(period_start=now - timedelta(days=30, minutes=1),
                                period_end=now - timedelta(minutes=1)))
    return now


def _charge(account_id: str, credits: int) -> None:
    with session_scope() as session:
        ledger.settle(session, account_id, "job_test", 0, credits, [])


def test_plans_are_listed_without_authentication(client):
    response = client.get("/v1/plans")
    assert response.status_code == 200
    found = {p["id"]: p for p in response.json()["data"]}
    assert set(found) >= {"free", "starter", "professional", "business", "enterprise"}
    assert (found["business"]["monthly_credits"], found["business"]["rate_limit_per_minute"],
            found["business"]["overage_rate_usd"]) == (500, 60, 0.03)
    assert found["enterprise"]["self_service"] is False


def test_upgrade_applies_now_with_this_periods_difference(client):
    person = sign_up(client)
    up = client.post("/v1/account/plan", json={"plan": "business"}, headers=person.headers)
    assert up.status_code == 200, up.text
    assert up.json()["account"]["plan"]["name"] == "business" and up.json()["pending_plan"] is None
    assert up.json()["account"]["credits"]["balance"] == 501  # 500 this period + the signup credit
    again = client.post("/v1/account/plan", json={"plan": "professional"}, headers=person.headers).json()
    assert again["account"]["credits"]["monthly_grant"] == 5000
    assert again["account"]["credits"]["balance"] == 5001  # only the difference (4500) was added
    assert ledger_sum(person.account_id) == (5001, 5001)
    refused = client.post("/v1/account/plan", json={"plan": "enterprise"}, headers=person.headers)
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "VALIDATION_ERROR"


def test_downgrade_waits_for_the_period_end(client):
    person = sign_up(client)
    client.post("/v1/account/plan", json={"plan": "starter"}, headers=person.headers)
    down = client.post("/v1/account/plan", json={"plan": "free"}, headers=person.headers).json()
    assert down["account"]["plan"]["name"] == "starter" and down["pending_plan"] == "free"
    now = _end_period(person.account_id)
    with session_scope() as session:
        assert plans.renew_due(session, now) >= 1
    account = client.get("/v1/account", headers=person.headers).json()
    assert account["plan"]["name"] == "free" and account["plan"]["pending"] is None
    assert account["credits"]["balance"] == 1  # the starter grant expired; the signup credit stays
    actions = [e["action"] for e in client.get("/v1/audit-log", headers=person.headers).json()["data"]]
    assert actions[:2] == ["plan.change_scheduled", "plan.changed"]


def test_renewal_across_a_period_boundary_keeps_the_ledger_equal_to_the_balance(make_account, client):
    caller = make_account(plan="starter")  # 1000 monthly + 1 signup credit
    with session_scope() as session:
        ledger.grant(session, caller.account_id, 50, kind="grant", reason="bought")
    _charge(caller.account_id, 300)  # 1 from the signup credit, 299 from the monthly grant
    now = _end_period(caller.account_id)
    with session_scope() as session:
        assert plans.renew_due(session, now) >= 1
    total, balance = ledger_sum(caller.account_id)
    # 701 monthly credits unused expire; the 50 bought roll over; a fresh 1000 is granted.
    assert total == balance == 1050
    statements = client.get("/v1/account/statements", headers=caller.headers).json()["data"]
    assert len(statements) == 1
    s = statements[0]
    assert (s["granted"], s["used"], s["overage_credits"], s["amount_due_usd"]) == (1000, 300, 0, 0.0)

    # Next period: spend past zero into overage, then renew again.
    _charge(caller.account_id, 1100)  # 50 over the balance of 1050
    now = _end_period(caller.account_id)
    with session_scope() as session:
        plans.renew_due(session, now)
        kinds = session.scalars(select(LedgerEntry.kind).where(LedgerEntry.account_id == caller.account_id)
                                .order_by(LedgerEntry.id)).all()
    assert kinds[-3:] == ["charge", "overage_billed", "monthly_grant"]
    total, balance = ledger_sum(caller.account_id)
    assert total == balance == 1000
    latest = client.get("/v1/account/statements", headers=caller.headers).json()["data"][0]
    assert (latest["used"], latest["overage_credits"], latest["overage_rate_usd"]) == (1100, 50, 0.04)
    assert latest["amount_due_usd"] == 2.0


def test_operator_sets_enterprise_limits_per_account(make_account, client):
    caller = make_account(plan="starter")
    with session_scope() as session:
        plans.set_limits(session, caller.account_id, "enterprise", monthly_credits=20000,
                         rate_limit_per_minute=900, daily_credit_limit=7000)
    account = client.get("/v1/account", headers=caller.headers)
    assert account.headers["X-RateLimit-Limit"] == "900"
    body = account.json()
    assert body["plan"]["name"] == "enterprise" and body["plan"]["monthly_credits"] == 20000
    assert body["daily_limit"]["limit"] == 7000
    assert body["credits"]["balance"] == 20001  # 1000 this period + the 19000 raise + 1 signup
    assert ledger_sum(caller.account_id) == (20001, 20001)
