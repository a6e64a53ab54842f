"""Sign-ups are throttled per client address: past the limit a 429 in the contract's shape, with
Retry-After, and no account is created."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from shared.db.models import Account
from shared.db.session import session_scope
from shared.redis_client import get_redis
from shared.settings import get_settings
from tests.people.support import PASSWORD, new_email, sign_up

OTHER_ADDRESS = "203.0.113.7"


def _key(address: str) -> str:
    return f"{get_settings().broker_prefix}atelier:signup:ip:{address}"


@pytest.fixture
def limit_of_three(client, monkeypatch):
    monkeypatch.setattr(get_settings(), "signups_per_address", 3)
    for address in ("testclient", OTHER_ADDRESS):
        get_redis().delete(_key(address))  # earlier tests' sign-ups from the same test client
    client.cookies.clear()
    yield
    for address in ("testclient", OTHER_ADDRESS):
        get_redis().delete(_key(address))
    client.cookies.clear()


def _accounts_with(email: str) -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(Account).where(Account.email == email)) or 0


def test_signups_past_the_limit_from_one_address_are_429_and_create_nothing(client, app, limit_of_three):
    first = sign_up(client)
    # A refused password costs nothing; an email already taken counts (409s must not probe freely).
    assert client.post("/v1/auth/signup", json={"email": new_email(), "password": "short"}).status_code == 400
    assert client.post("/v1/auth/signup", json={"email": first.email, "password": PASSWORD}).status_code == 409
    sign_up(client)
    email = new_email()
    blocked = client.post("/v1/auth/signup", json={"email": email, "password": PASSWORD})
    assert blocked.status_code == 429, blocked.text
    error = blocked.json()["error"]
    assert error["code"] == "RATE_LIMIT_EXCEEDED" and "sign-ups" in error["message"]
    retry_after = int(blocked.headers["Retry-After"])
    assert 1 <= retry_after <= 3600
    assert error["details"] == {"limit": 3, "window": "3600s", "retry_after": retry_after}
    assert "set-cookie" not in blocked.headers and _accounts_with(email) == 0
    # Logging in from the throttled address still works; another address may still sign up.
    assert client.post("/v1/auth/login", json={"email": first.email, "password": PASSWORD}).status_code == 200
    elsewhere = TestClient(app, client=(OTHER_ADDRESS, 50000))
    created = elsewhere.post("/v1/auth/signup", json={"email": email, "password": PASSWORD})
    assert created.status_code == 201, created.text
    assert _accounts_with(email) == 1


def test_the_count_lives_for_the_window_then_sign_ups_reopen(client, limit_of_three):
    for _ in range(3):
        sign_up(client)
    assert client.post("/v1/auth/signup", json={"email": new_email(), "password": PASSWORD}).status_code == 429
    assert 3600 - 60 < get_redis().ttl(_key("testclient")) <= 3600  # opened by the first, not renewed
    get_redis().pexpire(_key("testclient"), 100)  # the window's end, brought forward
    time.sleep(0.3)
    sign_up(client)
