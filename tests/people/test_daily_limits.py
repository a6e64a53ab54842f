"""Daily credit limits per account (plan or operator) and per key, under concurrent submits."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import func, select

from shared.accounts import create_key
from shared.db.models import Job
from shared.db.session import session_scope
from shared.people import plans
from tests.support import ledger_sum

JOB = {"mode": "text_to_image", "prompt": "a lantern", "size": "512x512"}


def _burst(live_server: str, key: str, count: int = 20) -> list[httpx.Response]:
    def submit(_: int) -> httpx.Response:
        return httpx.post(f"{live_server}/v1/jobs", json=JOB, headers={"Authorization": f"Bearer {key}"},
                          timeout=30)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(submit, range(count)))


def _jobs_of(account_id: str) -> int:
    with session_scope() as session:
        return int(session.scalar(select(func.count()).select_from(Job).where(Job.account_id == account_id)) or 0)


def test_account_daily_limit_holds_under_20_concurrent_submits(live_server, make_account):
    caller = make_account(plan="professional", credits=100)
    with session_scope() as session:
        plans.set_limits(session, caller.account_id, None, monthly_credits=None, rate_limit_per_minute=None,
                         daily_credit_limit=5)
    responses = _burst(live_server, caller.key)
    accepted = [r for r in responses if r.status_code == 202]
    refused = [r for r in responses if r.status_code == 429]
    assert len(accepted) == 5 and len(refused) == 15, [r.status_code for r in responses]
    assert _jobs_of(caller.account_id) == 5
    error = refused[0].json()["error"]
    assert error["code"] == "DAILY_LIMIT_REACHED"
    assert error["details"]["limit"] == 5 and error["details"]["used"] == 5
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT00:00:00Z")
    assert error["details"]["reset_at"] == tomorrow
    assert int(refused[0].headers["Retry-After"]) >= 1
    total, balance = ledger_sum(caller.account_id)
    assert total == balance


def test_key_daily_limit_holds_under_20_concurrent_submits(live_server, make_account):
    caller = make_account(plan="professional", credits=100)
    with session_scope() as session:
        _, limited = create_key(session, caller.account_id, "limited", daily_credit_limit=3)
    responses = _burst(live_server, limited)
    assert sum(r.status_code == 202 for r in responses) == 3, [r.status_code for r in responses]
    refused = [r.json()["error"] for r in responses if r.status_code == 429]
    assert len(refused) == 17 and refused[0]["details"]["limit"] == 3
    assert refused[0]["details"]["scope"] == "key"
    # The account's other key is not limited by this one.
    other = httpx.post(f"{live_server}/v1/jobs", json=JOB, headers={"Authorization": f"Bearer {caller.key}"})
    assert other.status_code == 202, other.text


def test_a_failed_job_gives_its_credits_back_to_the_day(client, make_account):
    caller = make_account(plan="professional", credits=100)
    with session_scope() as session:
        plans.set_limits(session, caller.account_id, None, monthly_credits=None, rate_limit_per_minute=None,
                         daily_credit_limit=1)
    first = client.post("/v1/jobs", json=JOB, headers=caller.headers)
    assert first.status_code == 202
    assert client.post("/v1/jobs", json=JOB, headers=caller.headers).status_code == 429
    assert client.post(f"/v1/jobs/{first.json()['id']}/cancel", headers=caller.headers).status_code == 200
    account = client.get("/v1/account", headers=caller.headers).json()
    assert account["daily_limit"]["used"] == 0
    assert client.post("/v1/jobs", json=JOB, headers=caller.headers).status_code == 202
