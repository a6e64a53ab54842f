"""Sign-up, login and logout for people (the Studio and anyone with a browser)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from api.deps import DB, Person, audit_context
from api.people_schemas import AUTHENTICATED, Credentials, SessionOut, errors
from shared.people import auth, sessions
from shared.people.views import account_view
from shared.settings import get_settings

router = APIRouter(prefix="/v1/auth", tags=["auth"])


def _secure(request: Request) -> bool:
    public = get_settings().public_url or ""
    return request.url.scheme == "https" or public.startswith("https://")


def _set_cookies(request: Request, response: Response, token: str) -> None:
    age = get_settings().session_idle_days * 86400
    secure = _secure(request)
    response.set_cookie(sessions.COOKIE, token, max_age=age, httponly=True, samesite="lax", secure=secure, path="/")
    # Readable by the page's script, which echoes it in X-CSRF-Token.
    response.set_cookie(sessions.CSRF_COOKIE, sessions.csrf_token(token), max_age=age, httponly=False,
                        samesite="lax", secure=secure, path="/")


def _logged_in(request: Request, response: Response, result: auth.LoggedIn) -> dict[str, Any]:
    _set_cookies(request, response, result.token)
    response.headers["Cache-Control"] = "no-store"
    return {"account": account_view(result.account), "session_token": result.token}


@router.post("/signup", status_code=201, response_model=SessionOut, responses=errors(400, 409, 413, 429, 503))
def signup(body: Credentials, request: Request, response: Response, db: DB) -> dict[str, Any]:
    result = auth.signup(db, body.email, body.password, audit_context(request, body.email))
    return _logged_in(request, response, result)


@router.post("/login", response_model=SessionOut, responses=errors(*AUTHENTICATED, 413))
def login(body: Credentials, request: Request, response: Response, db: DB) -> dict[str, Any]:
    result = auth.login(db, body.email, body.password, audit_context(request, body.email))
    return _logged_in(request, response, result)


@router.post("/logout", status_code=204, response_class=Response, responses=errors(*AUTHENTICATED, 403))
def logout(principal: Person, request: Request, db: DB) -> Response:
    assert principal.session_id is not None
    auth.logout(db, principal.session_id, principal.account_id, audit_context(request, principal.actor))
    response = Response(status_code=204)
    for name in (sessions.COOKIE, sessions.CSRF_COOKIE):
        response.delete_cookie(name, path="/", secure=_secure(request), samesite="lax",
                               httponly=name == sessions.COOKIE)
    return response


