"""Outbound HTTP an account can steer: one address policy and one guarded client.

Webhook deliveries, provider result downloads and inputs by URL all go through
``guarded_client``; see docs/network.md.
"""

from shared.net.fetch import BodyTooLarge, TooManyRedirects, open_stream, save_body
from shared.net.policy import (
    BadURL,
    ForbiddenAddress,
    allow_private_for,
    check_url,
    is_forbidden_address,
)
from shared.net.transport import GuardedTransport, guarded_client

__all__ = [
    "BadURL",
    "BodyTooLarge",
    "ForbiddenAddress",
    "GuardedTransport",
    "TooManyRedirects",
    "allow_private_for",
    "check_url",
    "guarded_client",
    "is_forbidden_address",
    "open_stream",
    "save_body",
]
