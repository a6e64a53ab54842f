"""Issue 9 "Input" defect 6: a signing secret per installation; production refuses the default."""

from __future__ import annotations

import pytest

from cli.dev import signing_secret
from shared.settings import DEFAULT_SIGNING_SECRET, Settings


def test_production_refuses_the_built_in_or_a_short_signing_secret():
    with pytest.raises(RuntimeError, match="ATELIER_SIGNING_SECRET"):
        Settings(env="production").check_production()
    with pytest.raises(RuntimeError, match="ATELIER_SIGNING_SECRET"):
        Settings(env="production", signing_secret="short").check_production()
    Settings(env="production", signing_secret="x" * 48).check_production()
    Settings(signing_secret=DEFAULT_SIGNING_SECRET).check_production()  # development: allowed


def test_api_does_not_start_in_production_without_a_secret(stack_env, monkeypatch):
    from fastapi.testclient import TestClient

    import api.app

    monkeypatch.setattr(api.app, "get_settings", lambda: Settings(env="production"))
    with pytest.raises(RuntimeError, match="ATELIER_SIGNING_SECRET"):
        with TestClient(api.app.create_app()):
            pass


def test_dev_generates_a_secret_once_and_keeps_it(monkeypatch):
    monkeypatch.delenv("ATELIER_SIGNING_SECRET", raising=False)
    first, second = signing_secret({}), signing_secret({})
    assert first != second and len(first) >= 48 and first != DEFAULT_SIGNING_SECRET
    assert signing_secret({"ATELIER_SIGNING_SECRET": first}) == first
    monkeypatch.setenv("ATELIER_SIGNING_SECRET", "from-the-environment-" * 3)
    assert signing_secret({"ATELIER_SIGNING_SECRET": first}) == "from-the-environment-" * 3
