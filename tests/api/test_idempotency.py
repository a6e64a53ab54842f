"""Idempotency-Key on POST /v1/jobs and POST /v1/assets."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
from sqlalchemy import func, insert, select

from shared.db.models import IdempotencyRecord, Job, LedgerEntry
from shared.db.session import new_session, session_scope
from tests.media_samples import png_bytes
from tests.support import ledger_sum


def test_replay_returns_the_first_response(client, make_account):
    caller = make_account(credits=20)
    headers = {**caller.headers, "Idempotency-Key": "order-1"}
    body = {"mode": "text_to_image", "prompt": "a kite"}
    first = client.post("/v1/jobs", json=body, headers=headers)
    second = client.post("/v1/jobs", json=body, headers=headers)
    assert first.status_code == second.status_code == 202
    assert second.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert second.json() == first.json()
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Job)
                              .where(Job.account_id == caller.account_id)) == 1


def test_same_key_different_request_is_422(client, make_account):
    caller = make_account(credits=20)
    headers = {**caller.headers, "Idempotency-Key": "order-2"}
    client.post("/v1/jobs", json={"mode": "text_to_image", "prompt": "a kite"}, headers=headers)
    response = client.post("/v1/jobs", json={"mode": "text_to_image", "prompt": "a boat"}, headers=headers)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"


def test_keys_are_scoped_per_account(client, make_account):
    a, b = make_account(credits=5), make_account(credits=5)
    body = {"mode": "text_to_image", "prompt": "a kite"}
    ja = client.post("/v1/jobs", json=body, headers={**a.headers, "Idempotency-Key": "k"}).json()
    jb = client.post("/v1/jobs", json=body, headers={**b.headers, "Idempotency-Key": "k"}).json()
    assert ja["id"] != jb["id"]


def test_in_flight_request_is_409(client, make_account):
    """A first request still holding the key (its transaction open) makes the second wait, then 409."""
    caller = make_account(credits=5)
    holder = new_session()
    try:
        holder.execute(insert(IdempotencyRecord).values(
            account_id=caller.account_id, key="busy", endpoint="POST /v1/jobs", fingerprint="x",
            expires_at=func.now() + func.make_interval(0, 0, 0, 1)))
        response = client.post("/v1/jobs", json={"mode": "text_to_image", "prompt": "a kite"},
                               headers={**caller.headers, "Idempotency-Key": "busy"})
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "IDEMPOTENCY_IN_PROGRESS"
    finally:
        holder.rollback()
        holder.close()


def test_50_concurrent_identical_submits_make_one_job_and_one_hold(live_server, make_account):
    caller = make_account(plan="professional", credits=100)
    headers = {**caller.headers, "Idempotency-Key": "burst-1"}
    body = {"mode": "text_to_image", "prompt": "fifty at once", "n": 2}

    def post(_: int) -> httpx.Response:
        with httpx.Client(base_url=live_server, timeout=30) as http:
            return http.post("/v1/jobs", json=body, headers=headers)

    with ThreadPoolExecutor(max_workers=50) as pool:
        responses = list(pool.map(post, range(50)))
    assert {r.status_code for r in responses} == {202}, {r.status_code: r.text for r in responses}
    assert len({r.json()["id"] for r in responses}) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in responses) == 49
    with session_scope() as session:
        jobs = session.scalar(select(func.count()).select_from(Job).where(Job.account_id == caller.account_id))
        holds = session.scalar(select(func.count()).select_from(LedgerEntry).where(
            LedgerEntry.account_id == caller.account_id, LedgerEntry.kind == "hold"))
    assert (jobs, holds) == (1, 1)
    assert ledger_sum(caller.account_id)[0] == ledger_sum(caller.account_id)[1]


def test_asset_upload_replay(client, make_account):
    caller = make_account()
    headers = {**caller.headers, "Idempotency-Key": "upload-1"}
    data = png_bytes(20, 10)
    first = client.post("/v1/assets", data={"kind": "image"}, files={"file": ("a.png", data)}, headers=headers)
    second = client.post("/v1/assets", data={"kind": "image"}, files={"file": ("a.png", data)}, headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.json()["id"] == first.json()["id"]
    assert second.headers["Idempotent-Replayed"] == "true"
    other = client.post("/v1/assets", data={"kind": "image"}, files={"file": ("a.png", png_bytes(21, 10))},
                        headers=headers)
    assert other.status_code == 422


def test_expired_records_are_purged(make_account):
    from datetime import UTC, datetime, timedelta

    from shared import idempotency

    caller = make_account()
    with session_scope() as session:
        session.add(IdempotencyRecord(account_id=caller.account_id, key="old", endpoint="POST /v1/jobs",
                                      fingerprint="f", response_status=202, response_body={},
                                      expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    with session_scope() as session:
        assert idempotency.purge_expired(session) >= 1
        assert session.get(IdempotencyRecord, (caller.account_id, "old")) is None
