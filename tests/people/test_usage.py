"""Usage totals equal what jobs charged; credit headers on every authenticated response;
the summary query stays on its index with 100,000 ledger rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from shared.accounts import create_key
from shared.db.models import LedgerEntry
from shared.db.session import session_scope
from shared.people import usage
from tests.support import wait_for_job

JOB = {"mode": "text_to_image", "prompt": "a heron", "size": "512x512"}


def test_usage_totals_equal_what_jobs_charged(client, celery_worker, make_account):
    caller = make_account(plan="starter")
    with session_scope() as session:
        _, second_key = create_key(session, caller.account_id, "second")
    charged = 0
    for key, n in ((caller.key, 2), (second_key, 1), (caller.key, 1)):
        job = client.post("/v1/jobs", json={**JOB, "n": n}, headers={"Authorization": f"Bearer {key}"}).json()
        done = wait_for_job(client, caller, job["id"])
        assert done["status"] == "completed", done
        charged += done["credits_charged"]
    with session_scope() as session:  # a chat request as the OpenAI-compatible surface records it
        session.add(LedgerEntry(account_id=caller.account_id, kind="charge", amount=-1, balance_after=0,
                                held_after=0, details={"mode": "chat", "model": "gpt-test", "prompt_tokens": 12,
                                                       "completion_tokens": 30}))

    summary = client.get("/v1/usage", params={"group_by": "mode"}, headers=caller.headers).json()
    assert summary["object"] == "usage_summary"
    assert summary["total_credits"] == charged + 1 and summary["total_requests"] == 4
    by_mode = {g["key"]: g for g in summary["groups"]}
    assert by_mode["text_to_image"]["credits"] == charged == 4
    assert (by_mode["chat"]["prompt_tokens"], by_mode["chat"]["completion_tokens"]) == (12, 30)
    by_key = client.get("/v1/usage", params={"group_by": "key"}, headers=caller.headers).json()["groups"]
    assert sorted(g["credits"] for g in by_key) == [1, 1, 3]  # two keys, and the unattributed chat row
    by_model = client.get("/v1/usage", params={"group_by": "model"}, headers=caller.headers).json()["groups"]
    assert {g["key"]: g["credits"] for g in by_model} == {"gpt-test": 1, "local/sketch-1": 4}
    by_day = client.get("/v1/usage", headers=caller.headers).json()
    assert by_day["groups"][0]["key"] == datetime.now(UTC).strftime("%Y-%m-%d")
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%d")
    empty = client.get("/v1/usage", params={"from": f"{tomorrow}T00:00:00Z", "to": f"{tomorrow}T23:59:59Z"},
                       headers=caller.headers).json()
    assert empty["total_credits"] == 0 and empty["groups"] == []


def test_usage_rejects_a_bad_group_and_range(client, make_account):
    caller = make_account()
    bad = client.get("/v1/usage", params={"group_by": "color"}, headers=caller.headers)
    assert bad.status_code == 400 and bad.json()["error"]["details"]["errors"][0]["field"] == "group_by"
    backwards = client.get("/v1/usage", params={"from": "2026-02-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"},
                           headers=caller.headers)
    assert backwards.status_code == 400


def test_credit_headers_on_every_authenticated_response(client, make_account):
    caller = make_account(plan="starter", credits=10)
    read = client.get("/v1/account", headers=caller.headers)
    assert (read.headers["X-Credits-Used"], read.headers["X-Credits-Remaining"]) == ("0", "1010")  # + overage
    job = client.post("/v1/jobs", json={**JOB, "n": 3}, headers=caller.headers)
    assert job.status_code == 202
    assert (job.headers["X-Credits-Used"], job.headers["X-Credits-Remaining"]) == ("3", "1007")
    missing = client.get("/v1/jobs/job_missing", headers=caller.headers)
    assert missing.status_code == 404 and missing.headers["X-Credits-Used"] == "0"
    assert "X-Credits-Used" not in client.get("/v1/plans").headers  # not authenticated


def test_usage_query_stays_on_its_index_with_100k_ledger_rows(make_account):
    caller, neighbour = make_account(), make_account()
    with session_scope() as session:
        # 100,000 rows: other accounts' history and this account's holds, releases and old charges.
        session.execute(text(
            "INSERT INTO credit_ledger (account_id, kind, amount, held_change, balance_after, held_after,"
            " details, created_at) SELECT CASE WHEN g % 2 = 0 THEN :other ELSE :me END,"
            " CASE WHEN g % 3 = 0 THEN 'charge' ELSE 'hold' END, 0, 0, 0, 0, '{\"mode\": \"music\"}',"
            " now() - make_interval(days => 40 + g % 300) FROM generate_series(1, 100000) g"),
            {"me": caller.account_id, "other": neighbour.account_id})
        session.execute(text("ANALYZE credit_ledger"))
    with session_scope() as session:
        end = datetime.now(UTC)
        for group in usage.GROUPS:
            plan = usage.explain(session, caller.account_id, end - timedelta(days=30), end, group)
            assert "ix_credit_ledger_charges" in plan, plan
            assert "Seq Scan on credit_ledger" not in plan, plan
