"""The operator commands of the real ``atelier`` CLI, against the test database and the API."""

from __future__ import annotations

import json
import uuid

import pytest
from typer.testing import CliRunner

from cli.main import app
from tests.support import ledger_sum


@pytest.fixture
def atelier(stack_env):
    """Run ``atelier ARGS…`` in-process; the test services are in os.environ via stack_env."""
    runner = CliRunner()

    def run(*args: str, code: int = 0):
        result = runner.invoke(app, list(args))
        assert result.exit_code == code, (result.stdout, result.stderr, result.exception)
        return result

    return run


def as_json(result) -> dict:
    (line,) = result.stdout.splitlines()  # exactly one JSON object
    return json.loads(line)


def new_email() -> str:
    return f"{uuid.uuid4().hex[:12]}@example.com"


@pytest.fixture
def account_id(atelier) -> str:
    return as_json(atelier("accounts", "create", "--email", new_email(), "--plan", "starter", "--json"))["id"]


def test_accounts_create_prints_the_new_account(atelier):
    email = new_email()
    created = as_json(atelier("accounts", "create", "--email", email, "--plan", "starter", "--json"))
    assert created["id"].startswith("acc_")
    assert (created["email"], created["plan"], created["balance"]) == (email, "starter", 1001)


def test_a_created_key_authenticates_against_the_api(atelier, account_id, client):
    created = as_json(atelier("keys", "create", "--account", account_id, "--name", "ci", "--json"))
    assert (created["account_id"], created["name"]) == (account_id, "ci")
    response = client.get("/v1/account", headers={"Authorization": f"Bearer {created['key']}"})
    assert response.status_code == 200, response.text
    assert response.json()["id"] == account_id


def test_granting_credits_raises_the_balance(atelier, account_id):
    granted = as_json(atelier("credits", "grant", "--account", account_id, "--amount", "5", "--reason", "r",
                              "--json"))
    assert granted["balance"] == 1001 + 5
    assert ledger_sum(account_id) == (1006, 1006)


def test_a_revoked_key_is_refused_by_the_api(atelier, account_id, client):
    created = as_json(atelier("keys", "create", "--account", account_id, "--json"))
    headers = {"Authorization": f"Bearer {created['key']}"}
    assert client.get("/v1/account", headers=headers).status_code == 200

    revoked = as_json(atelier("keys", "revoke", created["id"], "--json"))
    assert revoked["id"] == created["id"] and revoked["revoked"] is True

    response = client.get("/v1/account", headers=headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize("args", [
    ("keys", "create", "--account", "acc_missing"),
    ("credits", "grant", "--account", "acc_missing", "--amount", "5"),
])
def test_an_unknown_account_exits_1_with_a_message(atelier, args):
    result = atelier(*args, "--json", code=1)
    assert result.stderr.strip() == "error: No account acc_missing."
    assert result.stdout == "" and "Traceback" not in result.output


def test_the_readable_output_shows_the_key_once(atelier, account_id):
    result = atelier("keys", "create", "--account", account_id)
    assert "at_live_" in result.stdout and "shown once" in result.stdout
