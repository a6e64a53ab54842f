"""Webhook delivery building blocks: URL check at submit, signing, retries, sending.

The address policy and the guarded client they use are ``shared.net``'s.

Domain code: used by the API (URL validation at submit) and the workers (delivery).
"""

from shared.webhooks.addresses import validate_webhook_url
from shared.webhooks.schedule import MAX_ATTEMPTS, next_attempt_delay
from shared.webhooks.sender import DeliveryResult, deliver
from shared.webhooks.signing import new_secret, sign_headers

__all__ = [
    "MAX_ATTEMPTS",
    "DeliveryResult",
    "deliver",
    "new_secret",
    "next_attempt_delay",
    "sign_headers",
    "validate_webhook_url",
]
