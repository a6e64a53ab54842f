"""Browser sessions: ``at_sess_<token>``, stored as a SHA-256, revocable, expiring after idling.

A session is accepted as a bearer token or as the ``atelier_session`` cookie. Cookie requests
that change something must also send ``X-CSRF-Token`` equal to the ``atelier_csrf`` cookie
(double submit); the CSRF token is an HMAC of the session id, so a planted cookie pair from
another session does not pass either.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import Integer, literal_column, select, update
from sqlalchemy.orm import Session

from shared.accounts import Principal, effective_rate_limit
from shared.credits import ledger
from shared.db.models import Account, Plan, UserSession
from shared.errors import CsrfFailed, Unauthenticated
from shared.ids import new_id
from shared.settings import get_settings

PREFIX = "at_sess_"
COOKIE = "atelier_session"
CSRF_COOKIE = "atelier_csrf"
CSRF_HEADER = "X-CSRF-Token"
#: ``last_seen_at`` is written at most this often per session, not on every request.
TOUCH_EVERY = timedelta(minutes=5)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def idle_limit() -> timedelta:
    return timedelta(days=get_settings().session_idle_days)


def create(session: Session, account_id: str, ip: str | None, user_agent: str | None) -> tuple[UserSession, str]:
    token = PREFIX + secrets.token_urlsafe(32)
    row = UserSession(id=new_id("sess"), account_id=account_id, token_hash=_hash(token), ip=ip,
                      user_agent=(user_agent or "")[:400] or None, last_seen_at=datetime.now(UTC))
    session.add(row)
    session.flush()
    return row, token


def authenticate(session: Session, token: str, *, via_cookie: bool = False,
                 now: datetime | None = None) -> Principal:
    now = now or datetime.now(UTC)
    row = session.execute(
        select(UserSession, Account.email, effective_rate_limit(), literal_column(ledger.CAPACITY_SQL, Integer))
        .join(Account, Account.id == UserSession.account_id)
        .join(Plan, Plan.id == Account.plan_id)
        .where(UserSession.token_hash == _hash(token.strip()))
    ).one_or_none()
    # The lookup is by hash: a timing difference reveals nothing about a valid token.
    if row is None or row[0].revoked_at is not None or now - row[0].last_seen_at > idle_limit():
        raise Unauthenticated("The session is not valid (expired, ended or unknown); log in again.")
    user_session, email, limit, capacity = row
    if now - user_session.last_seen_at > TOUCH_EVERY:
        session.execute(update(UserSession).where(UserSession.id == user_session.id).values(last_seen_at=now))
    return Principal(account_id=user_session.account_id, key_id=None, rate_limit_per_minute=limit,
                     credits_remaining=max(0, int(capacity)), session_id=user_session.id,
                     via_cookie=via_cookie, actor=email)


def end(session: Session, session_id: str) -> None:
    session.execute(update(UserSession).where(UserSession.id == session_id, UserSession.revoked_at.is_(None))
                    .values(revoked_at=datetime.now(UTC)))


def csrf_token(session_token: str) -> str:
    """The CSRF value bound to one session token (set as the ``atelier_csrf`` cookie)."""
    secret = get_settings().signing_secret.get_secret_value().encode()
    return hmac.new(secret, b"csrf:" + _hash(session_token).encode(), hashlib.sha256).hexdigest()


def check_csrf(session_token: str, cookie: str | None, header: str | None) -> None:
    expected = csrf_token(session_token)
    if not cookie or not header or not hmac.compare_digest(cookie.encode(), header.encode()) \
            or not hmac.compare_digest(header.encode(), expected.encode()):
        raise CsrfFailed(f"A request authenticated by the session cookie must send the {CSRF_HEADER} header "
                         f"equal to the {CSRF_COOKIE} cookie.")
