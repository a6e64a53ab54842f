"""Credit alerts end to end: a real worker delivers ``account.credits_threshold`` to a loopback
receiver, signed so that the ``standardwebhooks`` verifier accepts it; once per threshold per period."""

from __future__ import annotations

import json
import time

from standardwebhooks.webhooks import Webhook

from shared.db.session import session_scope
from shared.people import plans
from tests.support import wait_for_job

JOB = {"mode": "text_to_image", "prompt": "a gull", "size": "512x512"}


def _wait_for(receiver, count: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while len(receiver.requests) < count and time.monotonic() < deadline:
        time.sleep(0.1)


def test_thresholds_are_announced_once_per_period_and_verify(client, celery_worker, make_account, receiver):
    caller = make_account(plan="starter")
    with session_scope() as session:  # a small monthly grant so a few images cross the thresholds
        plans.set_limits(session, caller.account_id, None, monthly_credits=4, rate_limit_per_minute=None,
                         daily_credit_limit=None)
    put = client.put("/v1/account/alerts", json={"webhook_url": receiver.url, "thresholds_percent": [100, 50]},
                     headers=caller.headers)
    assert put.status_code == 200, put.text
    assert put.json()["thresholds_percent"] == [50, 100]
    assert client.get("/v1/account/alerts", headers=caller.headers).json()["webhook_url"] == receiver.url

    for n in (1, 1, 2, 1):  # used: 1, 2 (50 %), 4 (100 %), 5 (nothing new)
        job = client.post("/v1/jobs", json={**JOB, "n": n}, headers=caller.headers).json()
        assert wait_for_job(client, caller, job["id"])["status"] == "completed"
    _wait_for(receiver, 2)
    time.sleep(0.5)
    assert len(receiver.requests) == 2
    secret = client.get("/v1/account/webhook-secret", headers=caller.headers).json()["secret"]
    events = []
    for request in receiver.requests:
        headers = {k.lower(): v for k, v in request.headers.items()}
        payload = Webhook(secret).verify(request.body, headers)
        assert payload == json.loads(request.body)
        events.append(payload)
    assert [e["type"] for e in events] == ["account.credits_threshold"] * 2
    assert sorted(e["data"]["threshold_percent"] for e in events) == [50, 100]
    hundred = next(e["data"] for e in events if e["data"]["threshold_percent"] == 100)
    assert (hundred["account_id"], hundred["used"], hundred["monthly_grant"]) == (caller.account_id, 4, 4)
    assert client.get("/v1/account/alerts", headers=caller.headers).json()["sent_this_period"] == [50, 100]


def test_alert_settings_are_validated_and_audited(client, make_account):
    caller = make_account()
    no_url = client.put("/v1/account/alerts", json={"thresholds_percent": [80]}, headers=caller.headers)
    assert no_url.status_code == 400
    bad = client.put("/v1/account/alerts", json={"webhook_url": "http://169.254.169.254/x",
                                                 "thresholds_percent": [80]}, headers=caller.headers)
    assert bad.status_code == 400
    zero = client.put("/v1/account/alerts", json={"webhook_url": "http://127.0.0.1:9/h", "thresholds_percent": [0]},
                      headers=caller.headers)
    assert zero.status_code == 400
    ok = client.put("/v1/account/alerts", json={"webhook_url": "http://127.0.0.1:9/h", "thresholds_percent": [80]},
                    headers=caller.headers)
    assert ok.status_code == 200
    log = client.get("/v1/audit-log", headers=caller.headers).json()["data"]
    assert log[0]["action"] == "alerts.updated" and log[0]["details"]["thresholds_percent"] == [80]
