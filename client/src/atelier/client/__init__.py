"""Python client for the Atelier API: ``Atelier`` (sync) and ``AsyncAtelier`` (asyncio).

A namespace package (``atelier`` has no ``__init__``): the server's own packages are ``api``,
``shared``, ``workers`` and ``cli``, so ``atelier.client`` never shadows them and can be installed
alone with ``pip install atelier-client``.
"""

from atelier.client._async import AsyncAtelier
from atelier.client._paging import AsyncPage, Page
from atelier.client._sync import Atelier, login
from atelier.client.errors import (
    APIConnectionError,
    AtelierError,
    AuthenticationError,
    Conflict,
    IdempotencyKeyReused,
    InsufficientCredits,
    JobFailed,
    ModelNotFound,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    PromptTooLong,
    RateLimited,
    ServerError,
    ServiceUnavailable,
    UnsupportedMediaType,
    ValidationError,
    WebhookVerificationError,
)
from atelier.client.models import Account, ApiKey, Asset, Credits, Job, JobEvent, LedgerEntry
from atelier.client.webhooks import verify as verify_webhook

__all__ = [
    "APIConnectionError", "Account", "ApiKey", "Asset", "AsyncAtelier", "AsyncPage", "Atelier", "AtelierError",
    "AuthenticationError", "Conflict", "Credits", "IdempotencyKeyReused", "InsufficientCredits", "Job",
    "JobEvent", "JobFailed", "LedgerEntry", "ModelNotFound", "NotFound", "Page", "PayloadTooLarge",
    "PermissionDenied", "PromptTooLong", "RateLimited", "ServerError", "ServiceUnavailable",
    "UnsupportedMediaType", "ValidationError", "WebhookVerificationError", "login", "verify_webhook",
]
