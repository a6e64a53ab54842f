"""Sign-up and login with Argon2 password hashes; no answer tells whether an email exists."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shared import accounts
from shared.db.models import Account
from shared.db.session import session_scope
from shared.errors import EmailTaken, Unauthenticated, ValidationError
from shared.people import audit, sessions, throttle

MIN_PASSWORD = 10
MAX_PASSWORD = 1024  # hashing cost is bounded; a megabyte "password" is refused, not hashed
_HASHER = PasswordHasher()


@lru_cache
def _dummy_hash() -> str:
    """Verified against when the email is unknown, so both failures cost one Argon2 check."""
    return _HASHER.hash("not-a-password-anyone-has")


@dataclass(frozen=True)
class LoggedIn:
    account: Account
    token: str


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise ValidationError.field("password", f"must be at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise ValidationError.field("password", f"must be at most {MAX_PASSWORD} characters")


def signup(session: Session, email: str, password: str, ctx: audit.Context) -> LoggedIn:
    _check_password(password)
    throttle.signup_attempt(ctx.ip)  # before the email check: 409s would otherwise probe emails freely
    email = email.strip().lower()
    if session.scalar(select(Account.id).where(Account.email == email)):
        raise EmailTaken("An account with this email exists; log in instead.")
    try:
        with session.begin_nested():  # two sign-ups racing for one email: the loser gets 409, not 500
            account = accounts.create_account(session, email, "free")
    except IntegrityError as exc:
        raise EmailTaken("An account with this email exists; log in instead.") from exc
    account.password_hash = _HASHER.hash(password)
    _, token = sessions.create(session, account.id, ctx.ip, ctx.user_agent)
    audit.record(session, account.id, "signup", audit.Context(email, ctx.ip, ctx.user_agent))
    session.flush()
    return LoggedIn(account, token)


def _verify(stored: str | None, password: str) -> bool:
    try:
        return _HASHER.verify(stored or _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return False


def login(session: Session, email: str, password: str, ctx: audit.Context) -> LoggedIn:
    email = email.strip().lower()
    throttle.attempt(email, ctx.ip)
    account = session.scalar(select(Account).where(Account.email == email))
    ok = _verify(account.password_hash if account else None, password[:MAX_PASSWORD])
    if account is None or account.password_hash is None or not ok:
        if account is not None:
            _record_failure(account.id, audit.Context(email, ctx.ip, ctx.user_agent))
        raise Unauthenticated("The email or password is not correct.")
    throttle.succeeded(email, ctx.ip)
    if _HASHER.check_needs_rehash(account.password_hash):
        account.password_hash = _HASHER.hash(password)
    _, token = sessions.create(session, account.id, ctx.ip, ctx.user_agent)
    audit.record(session, account.id, "login", audit.Context(email, ctx.ip, ctx.user_agent))
    return LoggedIn(account, token)


def _record_failure(account_id: str, ctx: audit.Context) -> None:
    # Its own transaction: the request fails (401) and rolls back, the record must stay.
    with session_scope() as own:
        audit.record(own, account_id, "login_failed", ctx)


def logout(session: Session, session_id: str, account_id: str, ctx: audit.Context) -> None:
    sessions.end(session, session_id)
    audit.record(session, account_id, "logout", ctx)
