"""Webhook delivery building blocks: address policy, guarded transport, signing, retries, sending.

Domain code: used by the API (URL validation at submit) and the workers (delivery).
"""

from shared.webhooks.addresses import is_forbidden_address, validate_webhook_url
from shared.webhooks.schedule import MAX_ATTEMPTS, next_attempt_delay
from shared.webhooks.sender import DeliveryResult, deliver
from shared.webhooks.signing import new_secret, sign_headers
from shared.webhooks.transport import ForbiddenAddress, guarded_client

__all__ = [
    "MAX_ATTEMPTS",
    "DeliveryResult",
    "ForbiddenAddress",
    "deliver",
    "guarded_client",
    "is_forbidden_address",
    "new_secret",
    "next_attempt_delay",
    "sign_headers",
    "validate_webhook_url",
]
