"""Webhook deliveries end to end: a job's events reach a real receiver, signed and retried."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update
from standardwebhooks.webhooks import Webhook

from shared.db.models import WebhookAttempt, WebhookEvent
from shared.db.session import session_scope
from shared.webhooks import outbox
from tests.support import wait_for_job
from tests.webhooks.support import answer


def submit(client, caller, url, **extra):
    response = client.post("/v1/jobs", json={"mode": "text_to_image", "prompt": "a signal fire", "size": "512x512",
                                             "webhook_url": url, **extra}, headers=caller.headers)
    assert response.status_code == 202, response.text
    return response.json()


def wait_until(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.05)


def secret_of(client, caller) -> str:
    return client.get("/v1/account/webhook-secret", headers=caller.headers).json()["secret"]


def make_due_and_dispatch(job_id: str) -> None:
    """Let the retry time arrive now, and run the dispatcher (what beat does every 2 s)."""
    with session_scope() as session:
        session.execute(update(WebhookEvent).where(WebhookEvent.job_id == job_id, WebhookEvent.status == "pending")
                        .values(next_attempt_at=datetime.now(UTC), dispatched_at=None))
    with session_scope() as session:
        outbox.dispatch_due(session)


def test_completed_event_is_signed_and_verifies(client, celery_worker, make_account, receiver):
    caller = make_account()
    job = submit(client, caller, receiver.url)
    assert wait_for_job(client, caller, job["id"])["status"] == "completed"
    wait_until(lambda: len(receiver.requests) >= 1)
    request = receiver.requests[0]
    payload = Webhook(secret_of(client, caller)).verify(request.body, request.headers)
    assert payload["type"] == "job.completed" and payload["id"] == request.headers["webhook-id"]
    assert payload["data"]["id"] == job["id"] and payload["data"]["status"] == "completed"
    assert payload["data"]["result"]["assets"][0]["content_type"] == "image/png"
    # The receiver answers before the worker commits the attempt: wait for the row.
    wait_until(lambda: client.get(f"/v1/jobs/{job['id']}/webhook-deliveries", headers=caller.headers).json()["data"])
    deliveries = client.get(f"/v1/jobs/{job['id']}/webhook-deliveries", headers=caller.headers).json()["data"]
    assert deliveries[0]["status_code"] == 200 and deliveries[0]["webhook_id"] == payload["id"]
    assert deliveries[0]["attempt"] == 1 and deliveries[0]["next_attempt_at"] is None


def test_subscribed_events_only(client, celery_worker, make_account, receiver):
    caller = make_account()
    job = submit(client, caller, receiver.url, webhook_events=["job.running", "job.completed"])
    wait_for_job(client, caller, job["id"])
    wait_until(lambda: len(receiver.requests) >= 2)
    time.sleep(0.3)
    types = sorted(json.loads(r.body)["type"] for r in receiver.requests)
    assert types == ["job.completed", "job.running"]


def fail_once(first: int, then: int):
    """A receiver that answers ``first`` to the first delivery and ``then`` to every other."""
    calls = {"n": 0}

    def respond(handler):
        calls["n"] += 1
        answer(first if calls["n"] == 1 else then)(handler)

    return respond


def test_a_failed_delivery_is_retried_with_the_same_webhook_id(client, celery_worker, make_account, make_receiver):
    receiver = make_receiver(fail_once(500, 204))
    caller = make_account()
    job = submit(client, caller, receiver.url)
    wait_for_job(client, caller, job["id"])
    wait_until(lambda: len(receiver.requests) == 1)

    def attempts_made() -> int:  # the receiver answers before the worker commits the attempt
        with session_scope() as session:
            return session.scalars(select(WebhookEvent.attempts).where(WebhookEvent.job_id == job["id"])).one()

    wait_until(lambda: attempts_made() == 1)
    with session_scope() as session:
        event = session.scalars(select(WebhookEvent).where(WebhookEvent.job_id == job["id"])).one()
        assert event.status == "pending" and event.attempts == 1
        first_attempt = session.scalars(select(WebhookAttempt).where(WebhookAttempt.event_id == event.id)).one()
        # The schedule's second step: 5 s ± 10 % after the attempt (plus the attempt's own latency).
        delay = (event.next_attempt_at - first_attempt.attempted_at).total_seconds()
        assert 4.4 < delay < 6.5, delay
    make_due_and_dispatch(job["id"])
    wait_until(lambda: len(receiver.requests) == 2)
    first, second = receiver.requests
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    Webhook(secret_of(client, caller)).verify(second.body, second.headers)
    wait_until(lambda: client.get(f"/v1/jobs/{job['id']}/webhook-deliveries",
                                  headers=caller.headers).json()["data"][0]["status_code"] == 204)
    attempts = client.get(f"/v1/jobs/{job['id']}/webhook-deliveries", headers=caller.headers).json()["data"]
    assert [a["attempt"] for a in attempts] == [2, 1] and [a["status_code"] for a in attempts] == [204, 500]


def test_a_retry_due_within_a_minute_goes_out_without_the_dispatcher(client, celery_worker, make_account,
                                                                     make_receiver):
    """The 5 s retry is sent with a countdown, so beat's dispatcher can run only every 30 s."""
    receiver = make_receiver(fail_once(503, 200))
    caller = make_account()
    job = submit(client, caller, receiver.url)
    wait_for_job(client, caller, job["id"])
    wait_until(lambda: len(receiver.requests) == 2, timeout=30)  # no dispatch_due call anywhere
    first, second = receiver.requests
    assert first.headers["webhook-id"] == second.headers["webhook-id"]


def test_410_stops_retries(client, celery_worker, make_account, make_receiver):
    receiver = make_receiver(answer(410))
    caller = make_account()
    job = submit(client, caller, receiver.url)
    wait_for_job(client, caller, job["id"])
    wait_until(lambda: len(receiver.requests) == 1)

    def status():
        with session_scope() as session:
            return session.scalars(select(WebhookEvent.status).where(WebhookEvent.job_id == job["id"])).one()

    wait_until(lambda: status() == "gone")
    make_due_and_dispatch(job["id"])
    time.sleep(0.5)
    assert len(receiver.requests) == 1


def test_redirects_are_not_followed(client, celery_worker, make_account, make_receiver):
    target = make_receiver()
    receiver = make_receiver(answer(302, headers={"Location": target.url}))
    caller = make_account()
    job = submit(client, caller, receiver.url)
    wait_for_job(client, caller, job["id"])
    wait_until(lambda: client.get(f"/v1/jobs/{job['id']}/webhook-deliveries", headers=caller.headers).json()["data"])
    attempt = client.get(f"/v1/jobs/{job['id']}/webhook-deliveries", headers=caller.headers).json()["data"][0]
    assert attempt["status_code"] == 302 and attempt["next_attempt_at"] is not None
    assert target.requests == []


def test_redeliver_sends_the_last_event_again(client, celery_worker, make_account, receiver):
    caller = make_account()
    job = submit(client, caller, receiver.url)
    wait_for_job(client, caller, job["id"])
    wait_until(lambda: len(receiver.requests) == 1)
    response = client.post(f"/v1/jobs/{job['id']}/webhook-deliveries/redeliver", headers=caller.headers)
    assert response.status_code == 202
    wait_until(lambda: len(receiver.requests) == 2)
    assert receiver.requests[0].headers["webhook-id"] == receiver.requests[1].headers["webhook-id"]


def test_rotation_signs_with_both_secrets(client, celery_worker, make_account, receiver):
    caller = make_account()
    old = secret_of(client, caller)
    rotated = client.post("/v1/account/webhook-secret", headers=caller.headers).json()
    assert rotated["secret"] != old and rotated["secret"].startswith("whsec_")
    job = submit(client, caller, receiver.url)
    wait_for_job(client, caller, job["id"])
    wait_until(lambda: len(receiver.requests) == 1)
    request = receiver.requests[0]
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    Webhook(old).verify(request.body, request.headers)
    Webhook(rotated["secret"]).verify(request.body, request.headers)


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/hook", "http://[::ffff:127.0.0.1]/hook", "http://0x7f000001/hook", "http://2130706433/hook",
    "http://100.64.0.1/hook", "http://10.1.2.3/hook", "http://169.254.169.254/latest/meta-data",
    "http://metadata.google.internal/", "ftp://example.com/hook",
])
def test_private_webhook_urls_are_refused_at_submit(client, make_account, monkeypatch, url):
    from shared.settings import get_settings

    monkeypatch.setattr(get_settings(), "webhook_allow_private", False)
    caller = make_account()
    response = client.post("/v1/jobs", json={"mode": "text_to_image", "prompt": "x", "webhook_url": url},
                           headers=caller.headers)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["details"]["errors"][0]["field"] == "webhook_url"
    assert client.get("/v1/jobs", headers=caller.headers).json()["data"] == []


def test_metadata_address_refused_even_when_private_is_allowed(client, make_account):
    caller = make_account()  # the suite runs with ATELIER_WEBHOOK_ALLOW_PRIVATE=true
    response = client.post("/v1/jobs", json={"mode": "text_to_image", "prompt": "x",
                                             "webhook_url": "http://169.254.169.254/"}, headers=caller.headers)
    assert response.status_code == 400
