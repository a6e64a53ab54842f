"""Fixtures shared by the sweeper tests."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update

from shared import queue
from shared.db.models import Job
from shared.db.session import session_scope


@pytest.fixture
def sent(monkeypatch) -> list[tuple[str, list[Any], str]]:
    """Every task published after commit, instead of sending it to the broker."""
    calls: list[tuple[str, list[Any], str]] = []
    monkeypatch.setattr(queue, "send", lambda name, args, q, **_: calls.append((name, args, q)))
    return calls


@pytest.fixture
def account(make_account):
    caller = make_account(plan="starter")
    yield caller.account_id
    # Leave nothing non-terminal behind for a later sweep in this session to find.
    with session_scope() as session:
        session.execute(update(Job).where(Job.account_id == caller.account_id,
                                          Job.status.in_(("queued", "running")))
                        .values(status="aborted", held_credits=0))
