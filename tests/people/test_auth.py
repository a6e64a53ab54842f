"""Sign-up, login, logout, sessions by bearer and cookie, CSRF, enumeration resistance, throttling."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal

import pytest
from argon2 import PasswordHasher
from sqlalchemy import update

from shared.db.models import UserSession
from shared.db.session import session_scope
from shared.people import auth as auth_domain
from tests.people.support import PASSWORD, new_email, sign_up


@pytest.fixture(autouse=True)
def _fresh_cookies(client):
    client.cookies.clear()
    yield
    client.cookies.clear()


def test_signup_makes_a_free_account_with_one_credit_and_a_session(client):
    email = new_email()
    response = client.post("/v1/auth/signup", json={"email": email, "password": PASSWORD})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["session_token"].startswith("at_sess_")
    assert body["account"]["email"] == email and body["account"]["plan"]["name"] == "free"
    assert body["account"]["credits"]["remaining"] == 1
    cookies = response.headers.get_list("set-cookie")
    session_cookie = next(c for c in cookies if c.startswith("atelier_session="))
    assert "HttpOnly" in session_cookie and "SameSite=lax" in session_cookie
    assert "Secure" not in session_cookie  # plain http test server
    csrf_cookie = next(c for c in cookies if c.startswith("atelier_csrf="))
    assert "HttpOnly" not in csrf_cookie
    client.cookies.clear()
    me = client.get("/v1/account", headers={"Authorization": f"Bearer {body['session_token']}"})
    assert me.status_code == 200 and me.json()["id"] == body["account"]["id"]


def test_existing_email_is_409_and_short_password_is_400(client):
    person = sign_up(client)
    again = client.post("/v1/auth/signup", json={"email": person.email.upper(), "password": PASSWORD})
    assert again.status_code == 409 and again.json()["error"]["code"] == "EMAIL_TAKEN"
    short = client.post("/v1/auth/signup", json={"email": new_email(), "password": "short"})
    assert short.status_code == 400 and short.json()["error"]["details"]["errors"][0]["field"] == "password"


def test_login_answers_the_same_for_unknown_email_and_wrong_password(client, monkeypatch):
    person = sign_up(client)
    verified: list[str] = []

    class CountingHasher(PasswordHasher):
        def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
            verified.append(str(hash))
            return super().verify(hash, password)

    monkeypatch.setattr(auth_domain, "_HASHER", CountingHasher())
    wrong = client.post("/v1/auth/login", json={"email": person.email, "password": "wrong password!"})
    unknown = client.post("/v1/auth/login", json={"email": new_email(), "password": PASSWORD})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    # Both paths cost one Argon2 verification (the unknown email against a dummy hash): similar time.
    assert len(verified) == 2 and all(h.startswith("$argon2id$") for h in verified)
    ok = client.post("/v1/auth/login", json={"email": person.email, "password": PASSWORD})
    assert ok.status_code == 200 and ok.json()["account"]["id"] == person.account_id


def test_cookie_requests_that_change_something_need_the_csrf_token(client):
    response = client.post("/v1/auth/signup", json={"email": new_email(), "password": PASSWORD})
    assert response.status_code == 201
    csrf = client.cookies.get("atelier_csrf")
    assert client.get("/v1/account").status_code == 200  # cookie, safe method: no token needed
    refused = client.post("/v1/keys", json={"name": "ci"})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "CSRF_FAILED"
    forged = client.post("/v1/keys", json={"name": "ci"}, headers={"X-CSRF-Token": "0" * 64})
    assert forged.status_code == 403
    accepted = client.post("/v1/keys", json={"name": "ci"}, headers={"X-CSRF-Token": csrf})
    assert accepted.status_code == 201, accepted.text
    # A bearer session needs no CSRF token.
    client.cookies.clear()
    bearer = {"Authorization": f"Bearer {response.json()['session_token']}"}
    assert client.post("/v1/keys", json={"name": "bearer"}, headers=bearer).status_code == 201


def test_logout_ends_the_session_and_clears_cookies(client):
    person = sign_up(client)
    out = client.post("/v1/auth/logout", headers=person.headers)
    assert out.status_code == 204
    assert any(c.startswith("atelier_session=") for c in out.headers.get_list("set-cookie"))
    after = client.get("/v1/account", headers=person.headers)
    assert after.status_code == 401 and after.json()["error"]["code"] == "UNAUTHENTICATED"


def test_sessions_expire_after_14_days_idle(client):
    person = sign_up(client)
    with session_scope() as session:
        session.execute(update(UserSession).where(UserSession.account_id == person.account_id)
                        .values(last_seen_at=datetime.now(UTC) - timedelta(days=14, minutes=1)))
    assert client.get("/v1/account", headers=person.headers).status_code == 401


def test_repeated_failures_for_one_email_are_throttled(client):
    person = sign_up(client)
    for _ in range(5):
        assert client.post("/v1/auth/login", json={"email": person.email, "password": "nope nope nope"}
                           ).status_code == 401
    blocked = client.post("/v1/auth/login", json={"email": person.email, "password": PASSWORD})
    assert blocked.status_code == 429
    assert blocked.json()["error"]["code"] == "RATE_LIMIT_EXCEEDED"
    assert 1 <= int(blocked.headers["Retry-After"]) <= 900
    # Another email from the same address is not locked out by this one.
    other = sign_up(client)
    assert client.post("/v1/auth/login", json={"email": other.email, "password": PASSWORD}).status_code == 200


def test_repeated_failures_from_one_address_are_throttled(client, monkeypatch):
    from shared.redis_client import get_redis
    from shared.settings import get_settings

    monkeypatch.setattr(get_settings(), "login_failures_per_address", 4)
    address_key = f"{get_settings().broker_prefix}atelier:login:ip:testclient"
    get_redis().delete(address_key)  # earlier tests' failures from the same test client
    try:
        for _ in range(4):
            assert client.post("/v1/auth/login", json={"email": new_email(), "password": PASSWORD}
                               ).status_code == 401
        blocked = client.post("/v1/auth/login", json={"email": new_email(), "password": PASSWORD})
        assert blocked.status_code == 429 and "address" in blocked.json()["error"]["message"]
    finally:
        get_redis().delete(address_key)


def test_audit_log_records_signup_logins_failures_and_logout(client):
    person = sign_up(client)
    client.post("/v1/auth/login", json={"email": person.email, "password": "not the password"},
                headers={"User-Agent": "pytest-agent"})
    login = client.post("/v1/auth/login", json={"email": person.email, "password": PASSWORD})
    token = login.json()["session_token"]
    client.cookies.clear()
    client.post("/v1/auth/logout", headers={"Authorization": f"Bearer {token}"})
    log = client.get("/v1/audit-log", headers=person.headers).json()
    actions = [e["action"] for e in log["data"]]
    assert actions == ["logout", "login", "login_failed", "signup"]
    failed = log["data"][2]
    assert failed["actor"] == person.email and failed["ip"] == "testclient"
    assert failed["user_agent"] == "pytest-agent"
