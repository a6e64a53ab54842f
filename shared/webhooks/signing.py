"""Standard Webhooks signatures (https://www.standardwebhooks.com/)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from secrets import token_bytes

from standardwebhooks.webhooks import Webhook

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    """A fresh signing secret: ``whsec_`` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(token_bytes(32)).decode("ascii")


def sign_headers(secrets: list[str], msg_id: str, timestamp: datetime, body: bytes) -> dict[str, str]:
    """The ``webhook-*`` headers for one delivery, signed with every secret given.

    While a secret is being rotated both the old and the new one sign; receivers accept
    the message if any ``v1,<sig>`` entry matches. A naive ``timestamp`` is taken as UTC.
    """
    if not secrets:
        raise ValueError("at least one signing secret is required")
    # The library stamps tzinfo=UTC onto whatever it is given, which would shift an aware
    # non-UTC time; convert first so the signed and the sent timestamp agree.
    if timestamp.tzinfo is None:
        timestamp = timestamp.replace(tzinfo=UTC)
    timestamp = timestamp.astimezone(UTC)
    text = body.decode("utf-8")  # receivers verify the body as UTF-8 text
    signatures = [Webhook(secret).sign(msg_id, timestamp, text) for secret in secrets]
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": " ".join(signatures),
    }
