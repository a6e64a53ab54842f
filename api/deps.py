"""Request dependencies: the transaction boundary, authentication (keys and sessions, CSRF for
cookies), rate limiting, and the credit headers of every authenticated response."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyCookie, APIKeyHeader, APIKeyQuery, HTTPBearer
from sqlalchemy.orm import Session

from shared import logs, ratelimit
from shared.accounts import Principal, authenticate
from shared.catalog import Catalog, get_catalog
from shared.credits import ledger
from shared.db.session import session_scope
from shared.errors import RateLimited, Unauthenticated
from shared.people import audit, sessions
from shared.redis_client import get_redis
from shared.settings import Settings, get_settings
from shared.storage import get_storage
from shared.storage.base import Storage

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_db(request: Request) -> Iterator[Session]:
    # scope="function" below: commit (or rollback) happens before the response is sent, so
    # a client never sees a 202 for a job that is not yet durable.
    with session_scope() as session:
        yield session
        report_credits(request, session)


def credit_headers(used: int, remaining: int) -> dict[str, str]:
    return {"X-Credits-Used": str(used), "X-Credits-Remaining": str(max(0, remaining))}


def report_credits(request: Request, session: Session) -> None:
    """``X-Credits-Used``/``-Remaining`` once the request held or charged credits (same transaction)."""
    principal: Principal | None = getattr(request.state, "principal", None)
    used = session.info.get(ledger.CREDITS_USED)
    if principal is None or used is None:
        return
    headers = getattr(request.state, "response_headers", None) or {}
    headers.update(credit_headers(used, ledger.available(session, principal.account_id)))
    request.state.response_headers = headers


def api_key_from(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header and header[:7].lower() == "bearer ":
        return header[7:].strip()
    return request.headers.get("x-api-key") or request.query_params.get("api_key")


def _authenticate(request: Request) -> Principal:
    token = api_key_from(request)
    cookie = None if token else request.cookies.get(sessions.COOKIE)
    with session_scope() as session:
        if cookie:
            principal = sessions.authenticate(session, cookie, via_cookie=True)
        elif token and token.startswith(sessions.PREFIX):
            principal = sessions.authenticate(session, token)
        else:
            principal = authenticate(session, token)
    if cookie and request.method not in SAFE_METHODS:
        sessions.check_csrf(cookie, request.cookies.get(sessions.CSRF_COOKIE),
                            request.headers.get(sessions.CSRF_HEADER))
    return principal


# Declared for the OpenAPI document (any one of the three); ``api_key_from`` reads them.
BEARER = HTTPBearer(auto_error=False, description="`Authorization: Bearer at_live_…` or `at_sess_…`")
API_KEY_HEADER = APIKeyHeader(name="X-API-Key", auto_error=False)
API_KEY_QUERY = APIKeyQuery(name="api_key", auto_error=False, description="For tools that cannot set headers")
SESSION_COOKIE = APIKeyCookie(name=sessions.COOKIE, auto_error=False,
                              description="A person's session (needs X-CSRF-Token on changes)")


def get_principal(request: Request, _b: Annotated[object, Security(BEARER)] = None,
                  _h: Annotated[object, Security(API_KEY_HEADER)] = None,
                  _q: Annotated[object, Security(API_KEY_QUERY)] = None,
                  _c: Annotated[object, Security(SESSION_COOKIE)] = None) -> Principal:
    """Authenticate with a short session of its own, so waiting routes hold no connection."""
    principal = _authenticate(request)
    logs.bind(account_id=principal.account_id)
    request.state.principal = principal
    request.state.response_headers = credit_headers(0, principal.credits_remaining)
    state = ratelimit.check(get_redis(), principal.rate_key, principal.rate_limit_per_minute, method=request.method)
    if state is None:  # Redis down and a read: served without a limit (see shared/ratelimit.py)
        return principal
    request.state.response_headers.update(state.headers())
    if not state.allowed:
        raise RateLimited(
            f"Rate limit of {state.limit} requests per minute exceeded.",
            details={"limit": state.limit, "window": "1m", "retry_after": state.retry_after},
            headers={"Retry-After": str(state.retry_after)},
        )
    return principal


def get_person(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
    if principal.session_id is None:
        raise Unauthenticated("This needs a person's session (log in); an API key cannot manage keys, "
                              "plans or alerts.")
    return principal


def client_address(request: Request) -> str | None:
    return request.client.host if request.client else None


def audit_context(request: Request, actor: str) -> audit.Context:
    return audit.Context(actor=actor, ip=client_address(request),
                         user_agent=(request.headers.get("user-agent") or "")[:400] or None)


DB = Annotated[Session, Depends(get_db, scope="function")]
Auth = Annotated[Principal, Depends(get_principal)]
Person = Annotated[Principal, Depends(get_person)]
AppSettings = Annotated[Settings, Depends(get_settings)]
CatalogDep = Annotated[Catalog, Depends(get_catalog)]
StorageDep = Annotated[Storage, Depends(lambda: get_storage(get_settings()))]
