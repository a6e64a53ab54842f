"""Verifying Atelier's webhooks (Standard Webhooks: ``webhook-id``, ``webhook-timestamp``, ``webhook-signature``)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterable, Mapping
from typing import Any

from atelier.client.errors import WebhookVerificationError

TOLERANCE_SECONDS = 5 * 60


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix("whsec_"))


def sign(secret: str, msg_id: str, timestamp: int, payload: bytes) -> str:
    """``v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">``."""
    signed = f"{msg_id}.{timestamp}.".encode() + payload
    return "v1," + base64.b64encode(hmac.new(_key(secret), signed, hashlib.sha256).digest()).decode()


class Webhooks:
    def verify(self, payload: bytes | str, headers: Mapping[str, str], secret: str | Iterable[str], *,
               tolerance: int = TOLERANCE_SECONDS) -> dict[str, Any]:
        """The event (``{"id", "type", "created_at", "data"}``) if a signature made with ``secret`` (or any of
        several, while a rotated secret is still in use) matches and the timestamp is recent; else raises
        ``WebhookVerificationError``."""
        return verify(payload, headers, secret, tolerance=tolerance)


def verify(payload: bytes | str, headers: Mapping[str, str], secret: str | Iterable[str], *,
           tolerance: int = TOLERANCE_SECONDS) -> dict[str, Any]:
    body = payload.encode() if isinstance(payload, str) else payload
    lower = {k.lower(): v for k, v in headers.items()}
    msg_id, stamp, signatures = (lower.get(h) for h in ("webhook-id", "webhook-timestamp", "webhook-signature"))
    if not (msg_id and stamp and signatures):
        raise WebhookVerificationError("missing webhook-id, webhook-timestamp or webhook-signature header",
                                       code="WEBHOOK_HEADERS_MISSING")
    try:
        timestamp = int(stamp)
    except ValueError:
        raise WebhookVerificationError("webhook-timestamp is not a number", code="WEBHOOK_TIMESTAMP") from None
    if abs(time.time() - timestamp) > tolerance:
        raise WebhookVerificationError("webhook-timestamp is too old or in the future", code="WEBHOOK_TIMESTAMP")
    secrets = [secret] if isinstance(secret, str) else list(secret)
    expected = {sign(s, msg_id, timestamp, body) for s in secrets}
    offered = signatures.split()
    if not any(hmac.compare_digest(e, o) for e in expected for o in offered):
        raise WebhookVerificationError("no webhook-signature matches the secret", code="WEBHOOK_SIGNATURE")
    event: dict[str, Any] = json.loads(body)
    return event
