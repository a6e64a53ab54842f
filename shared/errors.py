"""The one error type. Every error the API returns is an ``AtelierError`` rendered by one handler."""

from __future__ import annotations

from typing import Any


class AtelierError(Exception):
    status: int = 500
    code: str = "INTERNAL_ERROR"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}
        self.headers = headers or {}

    def to_dict(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "status": self.status,
                          "details": self.details}}


class ValidationError(AtelierError):
    status, code = 400, "VALIDATION_ERROR"

    @classmethod
    def field(cls, field: str, message: str) -> ValidationError:
        return cls(f"{field}: {message}", details={"errors": [{"field": field, "message": message}]})


class PromptTooLong(AtelierError):
    status, code = 400, "PROMPT_TOO_LONG"


class ModelNotFound(AtelierError):
    status, code = 400, "MODEL_NOT_FOUND"


class Unauthenticated(AtelierError):
    status, code = 401, "UNAUTHENTICATED"


class InsufficientCredits(AtelierError):
    status, code = 402, "INSUFFICIENT_CREDITS"


class NotFound(AtelierError):
    status, code = 404, "NOT_FOUND"


class IdempotencyInProgress(AtelierError):
    status, code = 409, "IDEMPOTENCY_IN_PROGRESS"


class JobNotCancelable(AtelierError):
    status, code = 409, "JOB_NOT_CANCELABLE"


class JobRunning(AtelierError):
    status, code = 409, "JOB_RUNNING"


class AssetInUse(AtelierError):
    status, code = 409, "ASSET_IN_USE"


class PayloadTooLarge(AtelierError):
    status, code = 413, "PAYLOAD_TOO_LARGE"


class UnsupportedMediaType(AtelierError):
    status, code = 415, "UNSUPPORTED_MEDIA_TYPE"


class IdempotencyKeyReused(AtelierError):
    status, code = 422, "IDEMPOTENCY_KEY_REUSED"


class RateLimited(AtelierError):
    status, code = 429, "RATE_LIMIT_EXCEEDED"


class ServiceUnavailable(AtelierError):
    status, code = 503, "SERVICE_UNAVAILABLE"


class RangeNotSatisfiable(AtelierError):
    status, code = 416, "RANGE_NOT_SATISFIABLE"
