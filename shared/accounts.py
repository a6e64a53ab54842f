"""Accounts, API keys and authentication.

An API key is ``at_live_<key_id>.<secret>``. Only a SHA-256 of the secret is stored: the
secret is 256 random bits, so a slow password hash would add latency without adding safety.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, Connection, Integer, bindparam, func, literal_column, select
from sqlalchemy.orm import Session

from shared.credits import ledger
from shared.db.models import Account, ApiKey, Plan
from shared.errors import NotFound, Unauthenticated, ValidationError
from shared.ids import new_id
from shared.people import key_usage
from shared.webhooks.signing import new_secret

KEY_PREFIX = "at_live_"
_KEY_RE = re.compile(r"^at_live_([A-Za-z0-9_-]{12,64})\.([A-Za-z0-9_-]{32,128})$")
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PERIOD = timedelta(days=30)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_account(session: Session, email: str, plan_id: str = "free") -> Account:
    email = email.strip().lower()
    if not _EMAIL_RE.match(email):
        raise ValidationError.field("email", "is not an email address")
    plan = session.get(Plan, plan_id)
    if plan is None:
        names = session.scalars(select(Plan.id).order_by(Plan.monthly_credits)).all()
        raise ValidationError.field("plan", f"unknown plan {plan_id!r}; one of {', '.join(names)}")
    if session.scalar(select(Account.id).where(Account.email == email)):
        raise ValidationError.field("email", "an account with this email exists")
    now = datetime.now(UTC)
    account = Account(id=new_id("acc"), email=email, plan_id=plan.id, balance=0, held=0,
                      free_signup_remaining=0, overage_credits_period=0, period_start=now,
                      period_end=now + PERIOD, webhook_secret=new_secret())
    session.add(account)
    session.flush()
    if plan.signup_credits:
        ledger.grant(session, account.id, plan.signup_credits, kind="signup_grant", reason="signup credit")
    if plan.monthly_credits:
        ledger.grant(session, account.id, plan.monthly_credits, kind="monthly_grant",
                     reason=f"{plan.id} plan, first period")
    session.refresh(account)
    return account


def create_key(session: Session, account_id: str, name: str | None = None,
               daily_credit_limit: int | None = None) -> tuple[ApiKey, str]:
    """Create a key; returns the row and the full key, which is never shown again."""
    if session.get(Account, account_id) is None:
        raise NotFound(f"No account {account_id}.")
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    key = ApiKey(id=key_id, account_id=account_id, name=name, secret_hash=_hash(secret),
                 daily_credit_limit=daily_credit_limit)
    session.add(key)
    session.flush()
    return key, f"{KEY_PREFIX}{key_id}.{secret}"


def rotate_key(session: Session, key: ApiKey) -> str:
    """A new secret for the same key id; the old secret stops working with this commit."""
    secret = secrets.token_urlsafe(32)
    key.secret_hash = _hash(secret)
    session.flush()
    return f"{KEY_PREFIX}{key.id}.{secret}"


def revoke_key(session: Session, key_id: str) -> ApiKey:
    key = session.get(ApiKey, key_id)
    if key is None:
        raise NotFound(f"No API key {key_id}.")
    if key.revoked_at is None:
        key.revoked_at = datetime.now(UTC)
        session.flush()
    return key


@dataclass(frozen=True)
class Principal:
    """Who is calling: resolved once per request, holds no database state."""

    account_id: str
    key_id: str | None
    rate_limit_per_minute: int
    #: Spendable credits when the request was authenticated (``X-Credits-Remaining``).
    credits_remaining: int = 0
    #: Set when a person's session (not a key) authenticated the request.
    session_id: str | None = None
    via_cookie: bool = False
    #: Who acts, for the audit log: the person's email or the key id.
    actor: str = ""

    @property
    def rate_key(self) -> str:
        return self.key_id or f"acct:{self.account_id}"


def effective_rate_limit() -> ColumnElement[int]:
    return func.coalesce(Account.custom_rate_limit_per_minute, Plan.rate_limit_per_minute)


#: Every request's key check: only the columns it needs (no ApiKey object to build and track),
#: built once — constructing the statement per call cost more CPU than executing it.
_KEY_LOOKUP = (
    select(ApiKey.account_id, ApiKey.secret_hash, ApiKey.revoked_at, effective_rate_limit(),
           literal_column(ledger.CAPACITY_SQL, Integer))
    .join(Account, Account.id == ApiKey.account_id)
    .join(Plan, Plan.id == Account.plan_id)
    .where(ApiKey.id == bindparam("key_id"))
)


def authenticate(db: Session | Connection, raw_key: str | None) -> Principal:
    """The key's principal, read in one statement. ``db`` may be a bare connection (the request
    path's: no session to build), and the statement runs as Core either way (no ORM compile step,
    a fifth of the check's CPU)."""
    if not raw_key:
        raise Unauthenticated("An API key is required (Authorization: Bearer at_live_…).")
    match = _KEY_RE.match(raw_key.strip())
    if not match:
        raise Unauthenticated("The API key is malformed.")
    key_id, secret = match.groups()
    connection = db.connection() if isinstance(db, Session) else db
    row = connection.execute(_KEY_LOOKUP, {"key_id": key_id}).one_or_none()
    if row is None or not hmac.compare_digest(row[1], _hash(secret)):
        raise Unauthenticated("The API key is not valid.")
    account_id, _, revoked_at, limit, capacity = row
    if revoked_at is not None:
        raise Unauthenticated("The API key has been revoked.")
    key_usage.touch(key_id)
    return Principal(account_id=account_id, key_id=key_id, rate_limit_per_minute=limit,
                     credits_remaining=max(0, int(capacity)), actor=f"key_{key_id}")


def get_account(session: Session, account_id: str) -> Account:
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound(f"No account {account_id}.")
    return account


def rotate_webhook_secret(session: Session, account_id: str, overlap: timedelta = timedelta(hours=24)) -> Account:
    """New secret now; the old one keeps signing for ``overlap`` so receivers can switch over."""
    account = session.execute(select(Account).where(Account.id == account_id).with_for_update()).scalar_one()
    account.previous_webhook_secret = account.webhook_secret
    account.previous_secret_expires_at = datetime.now(UTC) + overlap
    account.webhook_secret = new_secret()
    session.flush()
    return account


def signing_secrets(account: Account, now: datetime | None = None) -> list[str]:
    now = now or datetime.now(UTC)
    found = [account.webhook_secret]
    if account.previous_webhook_secret and account.previous_secret_expires_at and \
            account.previous_secret_expires_at > now:
        found.append(account.previous_webhook_secret)
    return found
