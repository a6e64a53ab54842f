"""The one error family. Every error the API returns is an ``AtelierError`` rendered by one
handler; the failures raised below the API — providers, storage, media decoding, a cancelled
job (and ``shared.net``'s ``ForbiddenAddress``, a ``ValidationError``) — are ``AtelierError``\s too,
so a job records their ``code`` and, should one reach the API, it still has the contract's shape."""

from __future__ import annotations

from typing import Any

#: OpenAI's error ``type`` for a status, so the OpenAI SDKs classify our errors.
_OPENAI_TYPES = {401: "authentication_error", 402: "insufficient_quota", 403: "authentication_error",
                 404: "not_found_error", 429: "rate_limit_error"}


def openai_type(status: int) -> str:
    return _OPENAI_TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")


class AtelierError(Exception):
    status: int = 500
    code: str = "INTERNAL_ERROR"
    #: The request field at fault, when there is one.
    param: str | None = None

    def __init__(self, message: str, *, details: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}
        self.headers = headers or {}
        if param is not None:
            self.param = param

    def _param(self) -> str | None:
        if self.param is not None:
            return self.param
        errors = self.details.get("errors")
        field = errors[0].get("field") if isinstance(errors, list) and errors and isinstance(errors[0], dict) \
            else self.details.get("field")
        return field if isinstance(field, str) and field != "body" else None

    def to_dict(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "status": self.status,
                          "type": openai_type(self.status), "param": self._param(), "details": self.details}}


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


class CsrfFailed(AtelierError):
    status, code = 403, "CSRF_FAILED"


class NotFound(AtelierError):
    status, code = 404, "NOT_FOUND"


class IdempotencyInProgress(AtelierError):
    status, code = 409, "IDEMPOTENCY_IN_PROGRESS"


class EmailTaken(AtelierError):
    status, code = 409, "EMAIL_TAKEN"


class JobNotCancelable(AtelierError):
    status, code = 409, "JOB_NOT_CANCELABLE"


class JobRunning(AtelierError):
    status, code = 409, "JOB_RUNNING"


class VideoNotReady(AtelierError):
    """A video's content asked for before its job completed."""

    status, code = 409, "VIDEO_NOT_READY"


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


class DailyLimitReached(AtelierError):
    status, code = 429, "DAILY_LIMIT_REACHED"


class ServiceUnavailable(AtelierError):
    status, code = 503, "SERVICE_UNAVAILABLE"


class RangeNotSatisfiable(AtelierError):
    status, code = 416, "RANGE_NOT_SATISFIABLE"


# -- raised below the API: by providers, storage and media decoding, while a job runs ---------

class ProviderError(AtelierError):
    """A provider failed in a way that ends the job (or, if ``retryable``, this attempt).
    Subclasses (``workers.providers.base``) say how; the job's error carries the code."""

    status, code = 502, "PROVIDER_ERROR"
    retryable = False


class JobAborted(AtelierError):
    """Raised from a job's progress report once the job was cancelled: the worker stops."""

    status, code = 409, "JOB_ABORTED"

    def __init__(self, job_id: str = "") -> None:
        super().__init__(f"Job {job_id} was cancelled." if job_id else "The job was cancelled.")
        self.job_id = job_id


class MediaDecodeError(AtelierError):
    """The file is not decodable media of the expected kind."""

    status, code = 415, "UNSUPPORTED_MEDIA_TYPE"


class StorageError(AtelierError):
    """A storage operation failed (backend unreachable, refused, I/O error). The message names
    keys and paths: it is for logs; a client is told only that storage is unavailable."""

    status, code = 503, "SERVICE_UNAVAILABLE"
    public_message = "Storage is unavailable; nothing was changed. Try again shortly."

    def to_dict(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.public_message, "status": self.status,
                          "details": {}}}
