"""The hold: the guarded account (and key) updates and its ledger row are one statement; a refused
hold writes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from shared.credits import ledger
from shared.db.models import ApiKey, LedgerEntry
from shared.db.session import session_scope
from shared.errors import DailyLimitReached, InsufficientCredits
from tests.support import ledger_sum, sql_sent_here


def _key_id(account_id: str) -> str:
    with session_scope() as session:
        return session.scalars(select(ApiKey.id).where(ApiKey.account_id == account_id)).one()


def _entries(account_id: str) -> list[LedgerEntry]:
    with session_scope() as session:
        return list(session.scalars(select(LedgerEntry).where(LedgerEntry.account_id == account_id,
                                                               LedgerEntry.kind == "hold")))


@pytest.mark.parametrize("with_key", [False, True])
def test_a_hold_writes_its_ledger_row_in_the_same_statement(make_account, with_key):
    caller = make_account(credits=10)
    key_id = _key_id(caller.account_id) if with_key else None
    breakdown = [{"rule": "per_image", "credits": 3}]
    with session_scope() as session:
        before = ledger.available(session, caller.account_id)

    with session_scope() as session, sql_sent_here() as sent:
        capacity = ledger.hold(session, caller.account_id, "job_hold_test", 3, breakdown, api_key_id=key_id)

    assert capacity == before - 3
    assert len(sent) == 1 and sent[0].startswith("WITH guarded AS (UPDATE accounts")
    [entry] = _entries(caller.account_id)
    assert (entry.job_id, entry.api_key_id, entry.amount, entry.held_change) == ("job_hold_test", key_id, 0, 3)
    assert (entry.balance_after, entry.held_after, entry.details) == (10, 3, {"breakdown": breakdown})
    assert ledger_sum(caller.account_id) == (10, 10)


def test_a_refused_hold_writes_no_row(make_account):
    caller = make_account(credits=2)
    with session_scope() as session:
        too_many = ledger.available(session, caller.account_id) + 1  # overage included
    with pytest.raises(InsufficientCredits), session_scope() as session:
        ledger.hold(session, caller.account_id, "job_too_dear", too_many, [])
    assert _entries(caller.account_id) == []


def test_a_hold_the_keys_daily_limit_refuses_writes_no_row(make_account):
    caller = make_account(credits=10)
    key_id = _key_id(caller.account_id)
    with session_scope() as session:
        session.execute(update(ApiKey).where(ApiKey.id == key_id).values(daily_credit_limit=2))
    with pytest.raises(DailyLimitReached), session_scope() as session:
        ledger.hold(session, caller.account_id, "job_over_limit", 3, [], api_key_id=key_id)
    assert _entries(caller.account_id) == []
