"""Request dependencies: the transaction boundary, authentication (keys and sessions, CSRF for
cookies), rate limiting, and the credit headers of every authenticated response."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyCookie, APIKeyHeader, APIKeyQuery, HTTPBearer
from sqlalchemy.orm import Session

from api.transaction import Tx, credit_headers
from shared import logs, ratelimit
from shared.accounts import Principal, authenticate
from shared.catalog import Catalog, get_catalog
from shared.db.session import autocommit_connection, session_scope
from shared.errors import RateLimited, Unauthenticated
from shared.people import audit, sessions
from shared.redis_client import get_redis
from shared.settings import Settings, get_settings
from shared.storage import get_storage
from shared.storage.base import Storage

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def get_db(tx: Tx) -> Session:
    """The request's session: the transaction authentication by key used, committed before the
    response is sent (``api/transaction.py``)."""
    return tx.session


def api_key_from(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header and header[:7].lower() == "bearer ":
        return header[7:].strip()
    return request.headers.get("x-api-key") or request.query_params.get("api_key")


def _authenticate(request: Request) -> Principal:
    """A key on a short autocommit connection of its own (one read, no BEGIN/COMMIT), given back to
    the pool before the route's own worker-thread hop: a request that kept its connection while
    waiting for its next thread starved the pool once every thread was blocked on a checkout
    (500s from about 60 concurrent GETs). A person's session in a short transaction, since its
    last-seen stamp must commit whatever the route does."""
    token = api_key_from(request)
    cookie = None if token else request.cookies.get(sessions.COOKIE)
    if not cookie and not (token and token.startswith(sessions.PREFIX)):
        with autocommit_connection() as connection:
            return authenticate(connection, token)
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


# The credentials ``api_key_from`` and the session cookie read. Declared in the OpenAPI document for
# every route that authenticates (api/openapi.py), not as route dependencies: four security
# dependencies resolved per request were CPU spent on values nothing used (issue 13).
BEARER = HTTPBearer(auto_error=False, description="`Authorization: Bearer at_live_…` or `at_sess_…`")
API_KEY_HEADER = APIKeyHeader(name="X-API-Key", auto_error=False)
API_KEY_QUERY = APIKeyQuery(name="api_key", auto_error=False, description="For tools that cannot set headers")
SESSION_COOKIE = APIKeyCookie(name=sessions.COOKIE, auto_error=False,
                              description="A person's session (needs X-CSRF-Token on changes)")
CREDENTIALS = (BEARER, API_KEY_HEADER, API_KEY_QUERY, SESSION_COOKIE)


def get_principal(request: Request) -> Principal:
    """Authenticate on a connection given back at once (see ``_authenticate``), then rate limit."""
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


async def _settings() -> Settings:  # async: cached values, no worker thread needed
    return get_settings()


async def _catalog() -> Catalog:
    return get_catalog()


async def _storage() -> Storage:
    return get_storage(get_settings())


DB = Annotated[Session, Depends(get_db)]
Auth = Annotated[Principal, Depends(get_principal)]
Person = Annotated[Principal, Depends(get_person)]
AppSettings = Annotated[Settings, Depends(_settings)]
CatalogDep = Annotated[Catalog, Depends(_catalog)]
StorageDep = Annotated[Storage, Depends(_storage)]
