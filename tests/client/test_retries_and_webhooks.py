"""Retries against a loopback fake that answers 429/503 with Retry-After; webhook verification against the
server's own signer."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from atelier.client import AsyncAtelier, Atelier, RateLimited, ServiceUnavailable, WebhookVerificationError
from atelier.client import _async as async_module
from atelier.client import _sync as sync_module

ACCOUNT = {"id": "acc_1", "object": "account", "email": "a@example.com", "plan": {"name": "starter"},
           "credits": {"remaining": 5, "held": 0, "monthly_grant": 1000}}


def _error(status: int, code: str) -> tuple[int, dict[str, str], dict]:
    return status, {"Retry-After": "2"}, {"error": {"code": code, "message": code, "status": status, "details": {}}}


class Fake:
    """Answers the scripted responses in order, then 200 with an account; records each request."""

    def __init__(self, script: list[tuple[int, dict[str, str], dict]]) -> None:
        self.script = list(script)
        self.requests: list[dict[str, str]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                fake.requests.append(dict(self.headers))
                status, headers, body = fake.script.pop(0) if fake.script else (200, {}, ACCOUNT)
                payload = json.dumps(body).encode()
                self.send_response(status)
                for k, v in {**headers, "Content-Type": "application/json",
                             "Content-Length": str(len(payload))}.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def fake() -> Iterator[type[Fake]]:
    servers: list[Fake] = []

    def start(script):
        f = Fake(script)
        threading.Thread(target=f.server.serve_forever, daemon=True).start()
        servers.append(f)
        return f

    yield start  # type: ignore[misc]
    for f in servers:
        f.server.shutdown()


@pytest.fixture
def slept(monkeypatch) -> list[float]:
    """The client's waits, recorded instead of slept (the fake's Retry-After is honoured, not timed)."""
    delays: list[float] = []
    monkeypatch.setattr(sync_module, "_sleep", delays.append)

    async def no_wait(seconds: float) -> None:
        delays.append(seconds)

    monkeypatch.setattr(async_module, "_sleep", no_wait)
    return delays


def test_429_and_503_are_retried_after_retry_after(fake, slept):
    server = fake([_error(429, "RATE_LIMIT_EXCEEDED"), _error(503, "SERVICE_UNAVAILABLE")])
    with Atelier(api_key="at_live_x.y", base_url=server.url) as client:
        assert client.account.get().credits.remaining == 5
    assert slept == [2.0, 2.0] and len(server.requests) == 3
    assert all(r["Authorization"] == "Bearer at_live_x.y" for r in server.requests)


def test_retries_give_up_with_the_typed_error(fake, slept):
    server = fake([_error(503, "SERVICE_UNAVAILABLE")] * 5)
    with Atelier(api_key="k", base_url=server.url, max_retries=2) as client, pytest.raises(ServiceUnavailable):
        client.account.get()
    assert len(server.requests) == 3 and slept == [2.0, 2.0]


def test_daily_limit_is_not_retried_and_a_long_retry_after_is_not_waited(fake, slept):
    server = fake([_error(429, "DAILY_LIMIT_REACHED")])
    with Atelier(api_key="k", base_url=server.url) as client, pytest.raises(RateLimited) as daily:
        client.account.get()
    assert daily.value.code == "DAILY_LIMIT_REACHED" and daily.value.retry_after == 2.0
    late = fake([(429, {"Retry-After": "3600"}, _error(429, "RATE_LIMIT_EXCEEDED")[2])])
    with Atelier(api_key="k", base_url=late.url) as client, pytest.raises(RateLimited):
        client.account.get()
    assert slept == [] and len(server.requests) == 1 and len(late.requests) == 1


def test_async_client_retries_the_same_way(fake, slept):
    server = fake([_error(429, "RATE_LIMIT_EXCEEDED")])

    async def go() -> int:
        async with AsyncAtelier(api_key="k", base_url=server.url) as client:
            return (await client.account.get()).credits.remaining

    assert asyncio.run(go()) == 5 and slept == [2.0]


def test_connection_refused_is_retried_then_raised(slept):
    from atelier.client import APIConnectionError
    from shared.embedded import free_port

    with Atelier(api_key="k", base_url=f"http://127.0.0.1:{free_port()}", max_retries=1) as client:
        with pytest.raises(APIConnectionError):
            client.account.get()
    assert len(slept) == 1


def test_webhook_verify_accepts_the_servers_signature_and_refuses_tampering():
    from datetime import UTC, datetime

    from shared.webhooks.signing import new_secret, sign_headers

    old, new = new_secret(), new_secret()
    body = json.dumps({"id": "evt_1", "type": "job.completed", "data": {"id": "job_1"}}).encode()
    headers = sign_headers([new, old], "evt_1", datetime.now(UTC), body)
    client = Atelier(api_key="k", base_url="http://127.0.0.1:9")
    assert client.webhooks.verify(body, headers, new)["type"] == "job.completed"
    assert client.webhooks.verify(body.decode(), headers, [old])["id"] == "evt_1"  # rotation: both sign
    with pytest.raises(WebhookVerificationError, match="signature"):
        client.webhooks.verify(body.replace(b"job_1", b"job_2"), headers, new)
    with pytest.raises(WebhookVerificationError, match="signature"):
        client.webhooks.verify(body, headers, new_secret())
    stale = sign_headers([new], "evt_1", datetime.fromtimestamp(time.time() - 3600, UTC), body)
    with pytest.raises(WebhookVerificationError, match="timestamp"):
        client.webhooks.verify(body, stale, new)
    with pytest.raises(WebhookVerificationError, match="missing"):
        client.webhooks.verify(body, {}, new)
