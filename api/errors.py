"""One handler per failure family, all rendering the contract's error shape."""

from __future__ import annotations

import logging

import redis
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.errors import AtelierError, NotFound, ServiceUnavailable, ValidationError
from shared.jobs.modes import MODE_NAMES
from shared.jobs.requests import describe_errors

log = logging.getLogger("atelier.api")

_HTTP_CODES = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 401: "UNAUTHENTICATED", 413: "PAYLOAD_TOO_LARGE"}


def render(exc: AtelierError) -> JSONResponse:
    return JSONResponse(exc.to_dict(), status_code=exc.status, headers=exc.headers or None)


def _atelier(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AtelierError)
    if exc.status >= 500:  # ours, not the client's (storage down, a missing stored object): keep the trace
        log.error("%s on %s %s: %s", exc.code, request.method, request.url.path, exc, exc_info=exc)
    return render(exc)


def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    if any(err.get("type") == "json_invalid" for err in exc.errors()):
        return render(ValidationError("The request body is not valid JSON.",
                                      details={"errors": [{"field": "body", "message": "malformed JSON"}]}))
    # Job request errors name the field, not the mode's model (``prompt``, not ``text_to_image.prompt``).
    return render(describe_errors(exc.errors(), MODE_NAMES))


def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404:
        return render(NotFound(f"No route {request.method} {request.url.path}."))
    error = AtelierError(str(exc.detail))
    error.status, error.code = exc.status_code, _HTTP_CODES.get(exc.status_code, "HTTP_ERROR")
    return render(error)


def _unavailable(request: Request, exc: Exception) -> JSONResponse:
    log.warning("backing service unavailable: %s", type(exc).__name__)
    return render(ServiceUnavailable("A backing service is unavailable; nothing was accepted or charged.",
                                     headers={"Retry-After": "5"}))


def _bug(request: Request, exc: Exception) -> JSONResponse:
    # Handlers run outside the except block: pass the exception for its traceback.
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return render(AtelierError("Internal error."))


def install(app: FastAPI) -> None:
    app.add_exception_handler(AtelierError, _atelier)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    for exc_type in (OperationalError, redis.ConnectionError, redis.TimeoutError):
        app.add_exception_handler(exc_type, _unavailable)
    app.add_exception_handler(DBAPIError, _db_error)
    app.add_exception_handler(Exception, _bug)


def _db_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DBAPIError)
    if exc.connection_invalidated:
        return _unavailable(request, exc)
    return _bug(request, exc)
