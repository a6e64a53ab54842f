"""What the OpenAPI document says beyond the routes themselves: the error responses each
route can give (all in the one Error shape), and no FastAPI 422 (this API answers 400)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.encoders import jsonable_encoder
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts

from api.schemas import Error

_DESCRIPTIONS = {
    400: "Invalid request (VALIDATION_ERROR, PROMPT_TOO_LONG, MODEL_NOT_FOUND).",
    401: "Missing, malformed, unknown or revoked credentials (UNAUTHENTICATED).",
    402: "The account cannot pay the estimate (INSUFFICIENT_CREDITS).",
    403: "A cookie-authenticated change without the CSRF token (CSRF_FAILED).",
    404: "Unknown id, or one of another account (NOT_FOUND).",
    409: "Conflict with the resource's state (EMAIL_TAKEN, …).",
    413: "A body or upload over its limit (PAYLOAD_TOO_LARGE).",
    415: "The file is not the declared kind, or does not decode (UNSUPPORTED_MEDIA_TYPE).",
    416: "The Range cannot be served (RANGE_NOT_SATISFIABLE).",
    422: "Idempotency-Key reused with a different request (IDEMPOTENCY_KEY_REUSED).",
    429: "Rate limit or daily credit limit exceeded (RATE_LIMIT_EXCEEDED, DAILY_LIMIT_REACHED); see Retry-After.",
    503: "A backing service is unavailable; nothing was accepted or charged.",
}

#: Every authenticated route: bad query/path, credentials, rate limit, backing services down.
AUTHENTICATED = (400, 401, 429, 503)


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: each status with its description and the Error schema."""
    return {status: {"model": Error, "description": _DESCRIPTIONS[status]} for status in sorted(set(statuses))}


def _errors_as_json(responses: dict[str, Any]) -> None:
    """Errors are JSON even where the success is not (the event stream, media content)."""
    for status, response in responses.items():
        content = response.get("content", {})
        refs = [media.get("schema", {}).get("$ref", "") for media in content.values()]
        if int(status) >= 400 and refs and refs[0].endswith("/Error"):
            response["content"] = {"application/json": {"schema": {"$ref": refs[0]}}}


def _fix_responses(schema: dict[str, Any]) -> None:
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            responses = operation.get("responses", {})
            _errors_as_json(responses)
            default = responses.get("422", {}).get("content", {}).get("application/json", {}).get("schema", {})
            if default.get("$ref", "").endswith("/HTTPValidationError"):
                del responses["422"]
    components = schema.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)


def _calls(dependant: Dependant, wanted: frozenset[Any]) -> bool:
    return any(d.call in wanted or _calls(d, wanted) for d in dependant.dependencies)


def _declare_credentials(app: FastAPI, schema: dict[str, Any]) -> None:
    """Every route that authenticates lists the credentials it accepts, as FastAPI would had they
    been route dependencies (they are read by ``api.deps.api_key_from`` instead)."""
    from api.deps import CREDENTIALS, get_principal
    from api.routers.assets import content_owner

    authenticates = frozenset({get_principal, content_owner})
    security: list[dict[str, list[str]]] = [{scheme.scheme_name: []} for scheme in CREDENTIALS]
    for route in iter_route_contexts(app.routes):  # as get_openapi walks them (routers included)
        if isinstance(route.original_route, APIRoute) and route.include_in_schema \
                and _calls(route.dependant, authenticates):
            for method in route.methods or ():
                schema["paths"][route.path_format][method.lower()]["security"] = security
    schema.setdefault("components", {})["securitySchemes"] = {
        scheme.scheme_name: jsonable_encoder(scheme.model, by_alias=True, exclude_none=True) for scheme in CREDENTIALS}


def install(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description,
                                 routes=app.routes)
            _fix_responses(schema)
            _declare_credentials(app, schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
