"""Delivery outcomes against real receivers on 127.0.0.1."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime

from standardwebhooks.webhooks import Webhook

from shared.webhooks.sender import deliver
from shared.webhooks.signing import new_secret, sign_headers
from tests.webhooks.support import Receiver, answer

BODY = json.dumps({"id": "evt_1", "type": "job.completed", "data": {"id": "job_1"}}).encode()
HEADERS = {"webhook-id": "msg_1", "webhook-timestamp": "0", "webhook-signature": "v1,x"}


def test_2xx_is_delivered_with_verifiable_signature(receiver: Receiver) -> None:
    old, new = new_secret(), new_secret()
    headers = sign_headers([old, new], "msg_1", datetime.now(UTC), BODY)
    result = deliver(receiver.url, BODY, headers, allow_private=True)
    assert (result.outcome, result.status_code, result.error) == ("delivered", 200, None)
    assert result.latency_ms >= 0
    [request] = receiver.requests
    assert request.path == "/hook" and request.body == BODY
    received = {k.lower(): v for k, v in request.headers.items()}
    assert received["content-type"] == "application/json"
    assert received["user-agent"] == "Atelier-Webhooks/1.0"
    for secret in (old, new):
        assert Webhook(secret).verify(request.body, received) == json.loads(BODY)


def test_204_is_delivered(make_receiver: Callable[..., Receiver]) -> None:
    receiver = make_receiver(answer(204))
    assert deliver(receiver.url, BODY, HEADERS, allow_private=True).outcome == "delivered"


def test_500_is_retried_with_a_short_error(make_receiver: Callable[..., Receiver]) -> None:
    receiver = make_receiver(answer(500, b"database on fire\n" + b"x" * 100_000))
    result = deliver(receiver.url, BODY, HEADERS, allow_private=True)
    assert (result.outcome, result.status_code) == ("retry", 500)
    assert result.error is not None
    assert result.error.startswith("HTTP 500: database on fire")
    assert len(result.error) <= 300


def test_410_means_gone(make_receiver: Callable[..., Receiver]) -> None:
    receiver = make_receiver(answer(410))
    result = deliver(receiver.url, BODY, HEADERS, allow_private=True)
    assert (result.outcome, result.status_code) == ("gone", 410)


def test_redirect_is_not_followed(make_receiver: Callable[..., Receiver]) -> None:
    target = make_receiver()
    redirecting = make_receiver(answer(302, headers={"Location": target.url}))
    result = deliver(redirecting.url, BODY, HEADERS, allow_private=True)
    assert (result.outcome, result.status_code) == ("retry", 302)
    assert "redirect" in (result.error or "")
    assert len(redirecting.requests) == 1
    assert target.requests == []


def test_read_timeout_is_retried(make_receiver: Callable[..., Receiver]) -> None:
    stalling: Receiver

    def stall(handler) -> None:
        stalling.released.wait(10)

    stalling = make_receiver(stall)
    started = time.monotonic()
    result = deliver(stalling.url, BODY, HEADERS, allow_private=True, timeout=0.5)
    assert time.monotonic() - started < 3
    assert (result.outcome, result.status_code, result.error) == ("retry", None, "timeout (read)")


def test_slow_drip_is_cut_off_by_the_total_timeout(make_receiver: Callable[..., Receiver]) -> None:
    # Each byte arrives well within the per-read timeout; only the total deadline stops it.
    dripping: Receiver

    def drip(handler) -> None:
        handler.wfile.write(b"HTTP/1.1 200 OK\r\n")
        while not dripping.released.wait(0.1):
            handler.wfile.write(b"X")
            handler.wfile.flush()

    dripping = make_receiver(drip)
    started = time.monotonic()
    result = deliver(dripping.url, BODY, HEADERS, allow_private=True, timeout=1.0)
    assert time.monotonic() - started < 3
    assert (result.outcome, result.error) == ("retry", "timeout (read)")


def test_connection_refused_is_retried(closed_port: int) -> None:
    result = deliver(f"http://127.0.0.1:{closed_port}/", BODY, HEADERS, allow_private=True)
    assert (result.outcome, result.status_code) == ("retry", None)
    assert (result.error or "").startswith("connection error")


def test_forbidden_address_at_connect_is_retried_without_a_request(receiver: Receiver) -> None:
    result = deliver(receiver.url, BODY, HEADERS, allow_private=False)
    assert (result.outcome, result.status_code) == ("retry", None)
    assert (result.error or "").startswith("forbidden address")
    assert receiver.requests == []


def test_unusable_urls_are_retried_not_raised() -> None:
    for url in ("http://127.0.0.1:99999/", "http://[::1/"):
        result = deliver(url, BODY, HEADERS, allow_private=True)
        assert (result.outcome, result.status_code) == ("retry", None)
        assert result.error
