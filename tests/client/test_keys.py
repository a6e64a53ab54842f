"""A person manages keys from the terminal: ``login`` for a session token, then ``keys``."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest

from atelier.client import Atelier, AuthenticationError, login
from atelier.client.cli import main

PASSWORD = "correct horse battery"


@pytest.fixture
def person(live_server) -> str:
    email = f"{uuid.uuid4().hex[:10]}@example.com"
    created = httpx.post(f"{live_server}/v1/auth/signup", json={"email": email, "password": PASSWORD})
    assert created.status_code == 201, created.text
    return email


def _cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _works(server: str, key: str) -> bool:
    with Atelier(api_key=key, base_url=server, max_retries=0) as client:
        try:
            client.account.get()
        except AuthenticationError:
            return False
    return True


def test_login_then_create_rotate_revoke_from_the_cli(capsys, monkeypatch, live_server, person):
    monkeypatch.setenv("ATELIER_PASSWORD", PASSWORD)
    code, out, _ = _cli(capsys, "--api-url", live_server, "login", person, "--json")
    assert code == 0
    session = json.loads(out)["session_token"]
    assert session.startswith("at_sess_")

    as_person = ("--api-url", live_server, "--api-key", session)
    code, out, _ = _cli(capsys, *as_person, "keys", "create", "--name", "ci", "--daily-limit", "5", "--json")
    assert code == 0
    created = json.loads(out)
    assert created["key"].startswith("at_live_") and created["daily_credit_limit"] == 5
    assert _works(live_server, created["key"])

    code, out, _ = _cli(capsys, *as_person, "keys", "ls", "--json")
    listed = {k["id"]: k for k in json.loads(out)}
    assert code == 0 and created["id"] in listed and "key" not in listed[created["id"]]

    code, out, _ = _cli(capsys, *as_person, "keys", "rotate", created["id"])
    rotated = out.split(": ", 1)[1].split()[0]
    assert code == 0 and rotated.startswith("at_live_")
    assert not _works(live_server, created["key"]) and _works(live_server, rotated)

    code, out, _ = _cli(capsys, *as_person, "keys", "revoke", created["id"])
    assert code == 0 and not _works(live_server, rotated)


def test_keys_need_a_person_and_a_wrong_password_is_refused(capsys, monkeypatch, live_server, person,
                                                              make_account):
    caller = make_account()
    code, _, err = _cli(capsys, "--api-url", live_server, "--api-key", caller.key, "keys", "ls")
    assert code == 1 and "session" in err
    with pytest.raises(AuthenticationError):
        login(person, "not the password", base_url=live_server)
