"""One handler per failure family, all rendering the contract's error shape."""

from __future__ import annotations

import logging

import redis
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from shared.errors import AtelierError, NotFound, PayloadTooLarge, ServiceUnavailable, ValidationError
from shared.jobs.modes import MODE_NAMES
from shared.jobs.requests import describe_errors

log = logging.getLogger("atelier.api")

_HTTP_CODES = {400: "VALIDATION_ERROR", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 401: "UNAUTHENTICATED",
               413: "PAYLOAD_TOO_LARGE"}


class BodyTooLarge(StarletteHTTPException):
    """Raised while a body streams in, once it passes its limit (FastAPI re-raises HTTP errors
    from body reading as they are, where it would turn anything else into a bare 400)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body is over its limit of {limit} bytes.")
        self.limit = limit


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


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _allowed_methods(request: Request) -> str:
    """The methods some route serves at this path (asked of the router, method by method)."""
    allowed = [method for method in _METHODS
               if any(route.matches({**request.scope, "method": method})[0] == Match.FULL
                      for route in request.app.router.routes)]
    return ", ".join(allowed)


def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404:
        return render(NotFound(f"No route {request.method} {request.url.path}."))
    if isinstance(exc, BodyTooLarge):
        return render(PayloadTooLarge(str(exc.detail), details={"max_bytes": exc.limit}))
    if exc.status_code == 400:
        # FastAPI's answer to a body it cannot decode (not UTF-8, nested too deep, cut short).
        return render(ValidationError("The request body could not be parsed.",
                                      details={"errors": [{"field": "body", "message": "unreadable body"}]}))
    error = AtelierError(str(exc.detail), headers=dict(exc.headers or {}))
    error.status, error.code = exc.status_code, _HTTP_CODES.get(exc.status_code, "HTTP_ERROR")
    if exc.status_code == 405:
        error.message = f"Method {request.method} is not allowed on {request.url.path}."
        error.headers["Allow"] = _allowed_methods(request)
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
