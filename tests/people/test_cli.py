"""Operator commands: accounts list/show, plans set, audit — each with --json."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from cli.main import app
from tests.people.support import sign_up


@pytest.fixture
def atelier(stack_env):
    runner = CliRunner()

    def run(*args: str, code: int = 0):
        result = runner.invoke(app, list(args))
        assert result.exit_code == code, (result.stdout, result.stderr, result.exception)
        return result

    return run


def _json(result) -> dict:
    (line,) = result.stdout.splitlines()
    return json.loads(line)


def test_accounts_list_and_show(atelier, client):
    person = sign_up(client)
    client.post("/v1/keys", json={"name": "laptop"}, headers=person.headers)
    listed = _json(atelier("accounts", "list", "--email", person.email, "--json"))
    assert [a["id"] for a in listed["data"]] == [person.account_id]
    shown = _json(atelier("accounts", "show", person.account_id, "--json"))
    assert shown["email"] == person.email and [k["name"] for k in shown["keys"]] == ["laptop"]
    assert "key" not in shown["keys"][0]
    assert person.account_id in atelier("accounts", "show", person.account_id).stdout
    atelier("accounts", "show", "acc_missing", code=1)


def test_plans_set_and_audit(atelier, client):
    person = sign_up(client)
    data = _json(atelier("plans", "set", "--account", person.account_id, "--plan", "enterprise",
                         "--monthly-credits", "25000", "--rate-limit", "1200", "--daily-limit", "9000", "--json"))
    assert (data["plan"]["name"], data["plan"]["monthly_credits"], data["plan"]["rate_limit_per_minute"],
            data["plan"]["daily_credit_limit"]) == ("enterprise", 25000, 1200, 9000)
    atelier("plans", "set", "--account", person.account_id, code=2)
    atelier("plans", "set", "--account", person.account_id, "--plan", "gold", code=1)
    log = _json(atelier("audit", "--account", person.account_id, "--json"))
    assert [e["action"] for e in log["data"]] == ["plan.limits_set", "signup"]
    assert log["data"][0]["actor"] == "operator"
    assert "plan.limits_set" in atelier("audit", "--account", person.account_id).stdout
