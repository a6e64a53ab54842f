"""Errors: one class per family of the API's error codes, all ``AtelierError``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from atelier.client.models import Job


class AtelierError(Exception):
    """An error answered by the API (``{"error": {code, message, status, details}}``) or met on the way."""

    def __init__(self, message: str, *, code: str = "ERROR", status: int | None = None,
                 details: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.details = details or {}
        self.headers = headers or {}

    def __str__(self) -> str:
        prefix = f"{self.status} {self.code}" if self.status else self.code
        return f"{prefix}: {self.message}"


class APIConnectionError(AtelierError):
    """The API could not be reached (connection refused, timeout, broken stream)."""


class ValidationError(AtelierError):
    """400 ``VALIDATION_ERROR`` (``details.errors`` lists ``{field, message}``) and the other 400s."""

    @property
    def errors(self) -> list[dict[str, Any]]:
        return list(self.details.get("errors") or [])


class PromptTooLong(ValidationError):
    """400 ``PROMPT_TOO_LONG``."""


class ModelNotFound(ValidationError):
    """400 ``MODEL_NOT_FOUND``; ``details.available_models`` lists the others."""


class AuthenticationError(AtelierError):
    """401 ``UNAUTHENTICATED``: missing, malformed, unknown or revoked key."""


class PermissionDenied(AtelierError):
    """403 (``CSRF_FAILED``)."""


class InsufficientCredits(AtelierError):
    """402 ``INSUFFICIENT_CREDITS``: the job would cost ``required`` and ``available`` is left."""

    @property
    def required(self) -> int | None:
        return self.details.get("required")

    @property
    def available(self) -> int | None:
        return self.details.get("available")


class NotFound(AtelierError):
    """404 ``NOT_FOUND``: unknown id, or one of another account."""


class Conflict(AtelierError):
    """409: ``JOB_NOT_CANCELABLE``, ``JOB_RUNNING``, ``ASSET_IN_USE``, ``IDEMPOTENCY_IN_PROGRESS``, …"""


class IdempotencyKeyReused(AtelierError):
    """422 ``IDEMPOTENCY_KEY_REUSED``: the same Idempotency-Key with a different request."""


class PayloadTooLarge(AtelierError):
    """413 ``PAYLOAD_TOO_LARGE``; ``details.max_bytes``."""


class UnsupportedMediaType(AtelierError):
    """415 ``UNSUPPORTED_MEDIA_TYPE``: the bytes are not of the declared kind."""


class RateLimited(AtelierError):
    """429 ``RATE_LIMIT_EXCEEDED`` (retried by the client first) or ``DAILY_LIMIT_REACHED``."""

    @property
    def retry_after(self) -> float | None:
        value = self.details.get("retry_after") or self.headers.get("retry-after")
        try:
            return float(value) if value is not None else None
        except ValueError:
            return None


class ServiceUnavailable(AtelierError):
    """503 ``SERVICE_UNAVAILABLE``: a backing service is down; nothing was accepted or charged."""


class ServerError(AtelierError):
    """Any other 5xx (a bug on the server's side)."""


class JobFailed(AtelierError):
    """``run()`` finished with a job that ``failed`` or was ``aborted``; ``job`` holds it."""

    def __init__(self, job: Job) -> None:
        error = job.error or {}
        super().__init__(str(error.get("message") or f"job {job.id} {job.status}"),
                         code=str(error.get("code") or job.status.upper()))
        self.job = job


class WebhookVerificationError(AtelierError):
    """A webhook's signature or timestamp did not verify."""


_BY_CODE: dict[str, type[AtelierError]] = {
    "PROMPT_TOO_LONG": PromptTooLong,
    "MODEL_NOT_FOUND": ModelNotFound,
    "IDEMPOTENCY_KEY_REUSED": IdempotencyKeyReused,
}
_BY_STATUS: dict[int, type[AtelierError]] = {
    400: ValidationError, 401: AuthenticationError, 402: InsufficientCredits, 403: PermissionDenied,
    404: NotFound, 409: Conflict, 413: PayloadTooLarge, 415: UnsupportedMediaType, 422: ValidationError,
    429: RateLimited, 503: ServiceUnavailable,
}


def error_for(status: int, body: Any, headers: dict[str, str]) -> AtelierError:
    """The typed error for an error response (its JSON body parsed, or whatever it was)."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        error = {"code": "HTTP_ERROR", "message": f"HTTP {status}"}
    code = str(error.get("code") or "HTTP_ERROR")
    cls = _BY_CODE.get(code) or _BY_STATUS.get(status) or (ServerError if status >= 500 else AtelierError)
    return cls(str(error.get("message") or f"HTTP {status}"), code=code, status=status,
               details=error.get("details") if isinstance(error.get("details"), dict) else {},
               headers={k.lower(): v for k, v in headers.items()})
