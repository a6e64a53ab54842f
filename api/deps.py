"""Request dependencies: the transaction boundary, authentication and rate limiting."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, APIKeyQuery, HTTPBearer
from sqlalchemy.orm import Session

from shared import logs, ratelimit
from shared.accounts import Principal, authenticate
from shared.catalog import Catalog, get_catalog
from shared.db.session import session_scope
from shared.errors import RateLimited
from shared.redis_client import get_redis
from shared.settings import Settings, get_settings
from shared.storage import get_storage
from shared.storage.base import Storage


def get_db() -> Iterator[Session]:
    # scope="function" below: commit (or rollback) happens before the response is sent, so
    # a client never sees a 202 for a job that is not yet durable.
    with session_scope() as session:
        yield session


def api_key_from(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header and header[:7].lower() == "bearer ":
        return header[7:].strip()
    return request.headers.get("x-api-key") or request.query_params.get("api_key")


# Declared for the OpenAPI document (any one of the three); ``api_key_from`` reads them.
BEARER = HTTPBearer(auto_error=False, description="`Authorization: Bearer at_live_…` (preferred)")
API_KEY_HEADER = APIKeyHeader(name="X-API-Key", auto_error=False)
API_KEY_QUERY = APIKeyQuery(name="api_key", auto_error=False, description="For tools that cannot set headers")


def get_principal(request: Request, _b: Annotated[object, Security(BEARER)] = None,
                  _h: Annotated[object, Security(API_KEY_HEADER)] = None,
                  _q: Annotated[object, Security(API_KEY_QUERY)] = None) -> Principal:
    """Authenticate with a short session of its own, so waiting routes hold no connection."""
    with session_scope() as session:
        principal = authenticate(session, api_key_from(request))
    logs.bind(account_id=principal.account_id)
    state = ratelimit.check(get_redis(), principal.key_id, principal.rate_limit_per_minute, method=request.method)
    if state is None:  # Redis down and a read: served without a limit (see shared/ratelimit.py)
        return principal
    request.state.response_headers = state.headers()
    if not state.allowed:
        raise RateLimited(
            f"Rate limit of {state.limit} requests per minute exceeded.",
            details={"limit": state.limit, "window": "1m", "retry_after": state.retry_after},
            headers={"Retry-After": str(state.retry_after)},
        )
    return principal


DB = Annotated[Session, Depends(get_db, scope="function")]
Auth = Annotated[Principal, Depends(get_principal)]
AppSettings = Annotated[Settings, Depends(get_settings)]
CatalogDep = Annotated[Catalog, Depends(get_catalog)]
StorageDep = Annotated[Storage, Depends(lambda: get_storage(get_settings()))]
