"""``POST /v1/jobs`` with ``Prefer: wait=N`` (RFC 7240, Replicate's reading): 200 with the job
once it is terminal, 202 with it as it is after N seconds, ``Preference-Applied`` either way;
the wait holds no database connection."""

from __future__ import annotations

import threading
import time

import httpx
import pytest
from sqlalchemy import text

from shared.db.session import session_scope
from tests.support import ledger_sum, wait_for_job

pytestmark = pytest.mark.slow
SPEECH = {"mode": "audio", "voice_text": "Waiting on create.", "output_format": "wav"}
#: The longest local render (seconds of CPU even on an idle machine), so a 1 s wait ends first.
SLOW = {"mode": "text_to_video", "prompt": "a slow sunrise over hills", "duration_seconds": 10,
        "resolution": "1080p", "fps": 30, "loop": True}


def _lingering_transactions() -> int:
    """Connections of this database inside a transaction that has been idle for over a second."""
    with session_scope() as session:
        return int(session.scalar(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND state LIKE 'idle in transaction%' AND now() - state_change > interval '1 second'")) or 0)


def test_a_job_that_ends_within_the_wait_is_answered_200(client, celery_worker, make_account):
    caller = make_account(credits=10)
    wait_for_job(client, caller, client.post("/v1/jobs", json=SPEECH, headers=caller.headers).json()["id"],
                 timeout=300)  # the worker is warm and idle: the timed call below is the job alone
    response = client.post("/v1/jobs", json=SPEECH, headers={**caller.headers, "Prefer": "wait=60"})
    assert response.status_code == 200, response.text
    assert response.headers["Preference-Applied"] == "wait=60"
    job = response.json()
    assert job["status"] == "completed" and job["credits_charged"] == 1
    assert job["result"]["assets"][0]["content_type"] == "audio/wav"
    assert ledger_sum(caller.account_id) == (8, 8)


def test_a_job_still_running_after_the_wait_is_202_and_no_connection_is_held(client, live_server, celery_worker,
                                                                             make_account):
    caller = make_account(credits=500)
    answers: list[httpx.Response] = []
    started = time.monotonic()
    waiter = threading.Thread(target=lambda: answers.append(httpx.post(
        f"{live_server}/v1/jobs", json=SLOW, headers={**caller.headers, "Prefer": "wait=1"}, timeout=30)))
    waiter.start()
    time.sleep(0.5)
    assert _lingering_transactions() == 0  # the waiting request holds no transaction open
    waiter.join(30)
    elapsed = time.monotonic() - started
    response = answers[0]
    assert response.status_code == 202, response.text
    assert response.headers["Preference-Applied"] == "wait=1" and 1 <= elapsed < 10
    job = response.json()
    assert job["status"] in ("queued", "running") and job["object"] == "job"
    assert client.post(f"/v1/jobs/{job['id']}/cancel", headers=caller.headers).status_code == 200


@pytest.mark.parametrize("prefer", ["wait=0", "wait=61", "wait=abc", "wait=1.5", "wait", "respond-async, wait=-1"])
def test_a_wait_outside_1_to_60_is_a_400_naming_prefer_and_creates_nothing(client, make_account, prefer):
    caller = make_account(credits=10)
    response = client.post("/v1/jobs", json=SPEECH, headers={**caller.headers, "Prefer": prefer})
    assert response.status_code == 400, response.text
    assert response.json()["error"]["details"]["errors"][0]["field"] == "Prefer"
    assert client.get("/v1/jobs", headers=caller.headers).json()["data"] == []
    assert ledger_sum(caller.account_id) == (10, 10)


def test_other_preferences_are_ignored_and_wait_is_found_among_them(client, celery_worker, make_account):
    caller = make_account(credits=10)
    plain = client.post("/v1/jobs", json=SPEECH, headers={**caller.headers, "Prefer": "respond-async"})
    assert plain.status_code == 202 and "Preference-Applied" not in plain.headers
    listed = client.post("/v1/jobs", json=SPEECH,
                         headers={**caller.headers, "Prefer": 'return=minimal, WAIT="2"; foo=bar'})
    assert listed.status_code in (200, 202) and listed.headers["Preference-Applied"] == "wait=2"


def test_an_idempotent_repeat_waits_on_the_same_job(client, celery_worker, make_account):
    caller = make_account(credits=10)
    headers = {**caller.headers, "Idempotency-Key": "prefer-repeat-1"}
    first = client.post("/v1/jobs", json=SPEECH, headers=headers)
    assert first.status_code == 202
    wait_for_job(client, caller, first.json()["id"], timeout=300)
    again = client.post("/v1/jobs", json=SPEECH, headers={**headers, "Prefer": "wait=5"})
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"] and again.json()["status"] == "completed"
    assert ledger_sum(caller.account_id) == (9, 9)
