"""Standard Webhooks signatures, checked with the reference library's verifier."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from shared.webhooks.signing import new_secret, sign_headers

BODY = json.dumps({"id": "evt_1", "type": "job.completed", "data": {"id": "job_1"}}).encode()


def test_new_secret_is_whsec_and_32_random_bytes() -> None:
    secret = new_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) == 32
    assert new_secret() != secret


def test_signature_verifies() -> None:
    secret = new_secret()
    headers = sign_headers([secret], "msg_1", datetime.now(UTC), BODY)
    assert set(headers) == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    assert headers["webhook-id"] == "msg_1"
    assert headers["webhook-signature"].startswith("v1,")
    assert Webhook(secret).verify(BODY, headers) == json.loads(BODY)


def test_during_rotation_each_secret_verifies() -> None:
    old, new = new_secret(), new_secret()
    headers = sign_headers([old, new], "msg_2", datetime.now(UTC), BODY)
    entries = headers["webhook-signature"].split(" ")
    assert len(entries) == 2 and all(entry.startswith("v1,") for entry in entries)
    Webhook(old).verify(BODY, headers)
    Webhook(new).verify(BODY, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(BODY, headers)


def test_tampered_body_does_not_verify() -> None:
    secret = new_secret()
    headers = sign_headers([secret], "msg_3", datetime.now(UTC), BODY)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY.replace(b"completed", b"failed"), headers)


def test_timestamp_is_unix_seconds_whatever_the_timezone() -> None:
    secret = new_secret()
    now = datetime.now(UTC).replace(microsecond=0)
    in_paris = now.astimezone(timezone(timedelta(hours=2)))
    naive_utc = now.replace(tzinfo=None)
    signed = [sign_headers([secret], "msg_4", t, BODY) for t in (now, in_paris, naive_utc)]
    assert signed[0]["webhook-timestamp"] == str(int(now.timestamp()))
    assert signed[0] == signed[1] == signed[2]
    Webhook(secret).verify(BODY, signed[1])


def test_no_secret_is_an_error() -> None:
    with pytest.raises(ValueError):
        sign_headers([], "msg_5", datetime.now(UTC), BODY)
