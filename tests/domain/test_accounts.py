"""Accounts, keys, monthly periods and webhook secrets against the real database."""

from __future__ import annotations

import hashlib
import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text, update

from shared.accounts import (
    authenticate,
    create_account,
    create_key,
    revoke_key,
    rotate_webhook_secret,
    signing_secrets,
)
from shared.db.models import Account, LedgerEntry
from shared.db.session import session_scope
from shared.errors import Unauthenticated, ValidationError
from shared.people.plans import renew_due
from tests.support import ledger_sum


@pytest.fixture
def db(stack_env):
    with session_scope() as session:
        yield session


def email() -> str:
    return f"{uuid.uuid4().hex[:12]}@example.com"


def ledger(session, account_id: str) -> list[tuple[str, int]]:
    rows = session.execute(select(LedgerEntry.kind, LedgerEntry.amount)
                           .where(LedgerEntry.account_id == account_id).order_by(LedgerEntry.id))
    return [tuple(row) for row in rows]


@pytest.mark.parametrize(("plan", "balance", "entries"), [
    ("free", 1, [("signup_grant", 1)]),
    ("starter", 1001, [("signup_grant", 1), ("monthly_grant", 1000)]),
    ("professional", 5001, [("signup_grant", 1), ("monthly_grant", 5000)]),
])
def test_a_new_account_gets_the_signup_credit_and_its_plans_monthly_grant(db, plan, balance, entries):
    account = create_account(db, email(), plan)
    assert (account.plan_id, account.balance, account.held, account.free_signup_remaining) == (plan, balance, 0, 1)
    assert ledger(db, account.id) == entries
    assert account.period_end - account.period_start == timedelta(days=30)


def test_an_email_can_only_have_one_account(db):
    address = email()
    create_account(db, address)
    with pytest.raises(ValidationError, match="exists"):
        create_account(db, address.upper())  # emails are compared case-insensitively


def test_an_unknown_plan_is_refused_with_the_plans_listed(db):
    with pytest.raises(ValidationError) as caught:
        create_account(db, email(), "platinum")
    assert all(name in caught.value.message for name in ("free", "starter", "professional"))
    assert caught.value.details["errors"][0]["field"] == "plan"


def test_a_key_authenticates_and_only_its_hash_is_stored(db):
    account = create_account(db, email())
    row, key = create_key(db, account.id, "ci")
    match = re.fullmatch(r"at_live_([A-Za-z0-9_-]{12,})\.([A-Za-z0-9_-]{32,})", key)
    assert match and match.group(1) == row.id
    secret = match.group(2)

    principal = authenticate(db, key)
    assert (principal.account_id, principal.key_id) == (account.id, row.id)
    stored = db.execute(text("SELECT row_to_json(k)::text FROM api_keys k WHERE id = :id"), {"id": row.id}).scalar()
    assert secret not in stored
    assert row.secret_hash == hashlib.sha256(secret.encode()).hexdigest()


def test_a_wrong_secret_or_a_revoked_key_is_refused(db):
    account = create_account(db, email())
    row, key = create_key(db, account.id)
    forged = key[:-1] + ("A" if key[-1] != "A" else "B")
    with pytest.raises(Unauthenticated):
        authenticate(db, forged)
    revoke_key(db, row.id)
    with pytest.raises(Unauthenticated, match="revoked"):
        authenticate(db, key)


def test_rolling_an_ended_period_renews_the_monthly_credits_once(stack_env):
    now = datetime.now(UTC)
    with session_scope() as session:
        account = create_account(session, email(), "starter")
        session.execute(update(Account).where(Account.id == account.id)
                        .values(period_start=now - timedelta(days=75), period_end=now - timedelta(days=45),
                                overage_credits_period=17))
    account_id = account.id

    with session_scope() as session:
        assert renew_due(session, now=now) >= 1
    with session_scope() as session:
        assert renew_due(session, now=now) == 0  # nothing is due at the same instant twice
        account = session.get(Account, account_id)
        grants = session.scalars(select(LedgerEntry.amount).where(LedgerEntry.account_id == account_id,
                                                                  LedgerEntry.kind == "monthly_grant")).all()
    assert grants == [1000, 1000]  # the first period's, and one for this roll
    # The unused first grant expired (no roll-over); the signup credit stays.
    assert account.balance == 1001 and ledger_sum(account_id) == (1001, 1001)
    assert account.period_start <= now < account.period_end
    assert account.period_end - account.period_start == timedelta(days=30)
    assert account.overage_credits_period == 0


def test_a_rotated_webhook_secret_keeps_the_old_one_for_a_day(db):
    account = create_account(db, email())
    old = account.webhook_secret
    rotated = rotate_webhook_secret(db, account.id)
    new = rotated.webhook_secret
    assert new != old and new.startswith("whsec_")
    now = datetime.now(UTC)
    assert signing_secrets(rotated, now=now + timedelta(hours=23)) == [new, old]
    assert signing_secrets(rotated, now=now + timedelta(hours=25)) == [new]
