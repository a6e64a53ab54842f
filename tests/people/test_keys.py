"""A person's own keys, end to end: sign up → key → job → rotate → revoke; last-used batching."""

from __future__ import annotations

from sqlalchemy import select

from shared.db.models import ApiKey
from shared.db.session import session_scope
from shared.people import key_usage
from tests.people.support import key_headers, sign_up
from tests.support import Caller, wait_for_job


def _grant(account_id: str, credits: int) -> None:
    from shared.credits.ledger import grant

    with session_scope() as session:
        grant(session, account_id, credits, reason="test")


def test_sign_up_key_job_rotate_revoke(client, celery_worker):
    person = sign_up(client)
    _grant(person.account_id, 10)
    created = client.post("/v1/keys", json={"name": "ci"}, headers=person.headers)
    assert created.status_code == 201, created.text
    key = created.json()
    assert key["id"].startswith("key_") and key["key"].startswith(key["prefix"] + ".")
    assert created.headers["cache-control"] == "no-store"
    listed = client.get("/v1/keys", headers=person.headers).json()["data"]
    assert [k["id"] for k in listed] == [key["id"]] and "key" not in listed[0]

    job = client.post("/v1/jobs", json={"mode": "text_to_image", "prompt": "a kite", "size": "512x512"},
                      headers=key_headers(key["key"]))
    assert job.status_code == 202, job.text
    done = wait_for_job(client, Caller(person.account_id, key["key"]), job.json()["id"])
    assert done["status"] == "completed" and done["credits_charged"] == 1

    rotated = client.post(f"/v1/keys/{key['id']}/rotate", headers=person.headers)
    assert rotated.status_code == 200 and rotated.json()["id"] == key["id"]
    assert rotated.json()["key"] != key["key"]
    assert client.get("/v1/account", headers=key_headers(key["key"])).status_code == 401
    assert client.get("/v1/account", headers=key_headers(rotated.json()["key"])).status_code == 200

    assert client.delete(f"/v1/keys/{key['id']}", headers=person.headers).status_code == 204
    assert client.get("/v1/account", headers=key_headers(rotated.json()["key"])).status_code == 401
    listed = client.get("/v1/keys", headers=person.headers).json()["data"]
    assert listed[0]["revoked_at"] is not None and listed[0]["last_used_at"] is not None
    actions = [e["action"] for e in client.get("/v1/audit-log", headers=person.headers).json()["data"]]
    assert actions[:3] == ["key.revoked", "key.rotated", "key.created"]


def test_keys_cannot_manage_keys(client):
    person = sign_up(client)
    key = client.post("/v1/keys", json={"name": "k"}, headers=person.headers).json()
    for method, path in (("GET", "/v1/keys"), ("POST", "/v1/keys"), ("POST", f"/v1/keys/{key['id']}/rotate"),
                         ("DELETE", f"/v1/keys/{key['id']}")):
        response = client.request(method, path, headers=key_headers(key["key"]), json={} if method == "POST" else None)
        assert response.status_code == 401, (method, path, response.text)
    other = sign_up(client)
    assert client.delete(f"/v1/keys/{key['id']}", headers=other.headers).status_code == 404
    assert client.post("/v1/keys/key_nothing/rotate", headers=person.headers).status_code == 404


def test_last_used_is_batched_through_redis_not_written_per_request(client):
    person = sign_up(client)
    key = client.post("/v1/keys", json={"name": "k"}, headers=person.headers).json()
    raw_id = key["id"].removeprefix("key_")
    for _ in range(3):
        assert client.get("/v1/account", headers=key_headers(key["key"])).status_code == 200
    with session_scope() as session:
        assert session.scalar(select(ApiKey.last_used_at).where(ApiKey.id == raw_id)) is None
    with session_scope() as session:
        assert key_usage.flush(session) >= 1  # what the beat task does every minute
    with session_scope() as session:
        assert session.scalar(select(ApiKey.last_used_at).where(ApiKey.id == raw_id)) is not None
        assert key_usage.flush(session) == 0  # the gate: one stamp per key per minute
