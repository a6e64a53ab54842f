"""One webhook delivery attempt: POST, classify the outcome, never raise for the network."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

import httpx

from shared.net import ForbiddenAddress, guarded_client

USER_AGENT = "Atelier-Webhooks/1.0"
MAX_ERROR_CHARS = 300  # stored with every attempt and shown to the customer
BODY_EXCERPT_BYTES = 200  # of the receiver's answer, to help debug a failing endpoint

Outcome = Literal["delivered", "retry", "gone"]


@dataclass(frozen=True)
class DeliveryResult:
    status_code: int | None  # None when no response arrived
    latency_ms: int
    error: str | None  # short, for the deliveries list; never a secret or a whole body
    outcome: Outcome  # delivered: 2xx; gone: 410, stop for good; retry: anything else


def deliver(url: str, body: bytes, headers: dict[str, str], *, allow_private: bool,
            timeout: float = 15.0, client: httpx.Client | None = None) -> DeliveryResult:
    """POST ``body`` to ``url`` once. Redirects are reported, never followed.

    Without ``client`` a guarded client (address policy at connect time) is made and
    closed; a caller passing its own client is responsible for guarding it.
    """
    request_headers = httpx.Headers(headers)  # case-insensitive: ours replace any given
    request_headers["Content-Type"] = "application/json"
    request_headers["User-Agent"] = USER_AGENT
    own_client = client is None
    http = guarded_client(allow_private=allow_private, timeout=timeout) if client is None else client
    started = time.monotonic()
    try:
        with http.stream("POST", url, content=body, headers=request_headers,
                         follow_redirects=False) as response:
            status = response.status_code
            excerpt = b"" if 200 <= status < 300 else _read_excerpt(response)
    except ForbiddenAddress as exc:
        return _failed(started, f"forbidden address: {exc}")
    except httpx.TimeoutException as exc:
        return _failed(started, _timeout_error(exc))
    except httpx.HTTPError as exc:
        return _failed(started, f"{_kind(exc)}: {exc}" if str(exc) else _kind(exc))
    except httpx.InvalidURL as exc:  # not an HTTPError; normally caught at submit already
        return _failed(started, f"invalid URL: {exc}")
    finally:
        if own_client:
            http.close()
    latency = _elapsed_ms(started)
    if 200 <= status < 300:
        return DeliveryResult(status_code=status, latency_ms=latency, error=None, outcome="delivered")
    outcome: Outcome = "retry"
    if status == 410:
        error, outcome = f"HTTP 410 Gone{_suffix(excerpt)}", "gone"
    elif 300 <= status < 400:
        error = f"HTTP {status}: redirect not followed{_suffix(excerpt)}"
    else:
        error = f"HTTP {status}{_suffix(excerpt)}"
    return DeliveryResult(status_code=status, latency_ms=latency, error=_truncate(error), outcome=outcome)


def _read_excerpt(response: httpx.Response) -> bytes:
    """The first bytes of the answer; the rest is never read (it may be huge).

    The status is already known, so a body that stalls or breaks only shortens the excerpt.
    """
    excerpt = b""
    try:
        for chunk in response.iter_bytes():
            excerpt += chunk
            if len(excerpt) >= BODY_EXCERPT_BYTES:
                break
    except httpx.HTTPError:
        pass
    return excerpt[:BODY_EXCERPT_BYTES]


def _suffix(excerpt: bytes) -> str:
    text = " ".join(excerpt.decode("utf-8", errors="replace").split())  # one line, no controls
    return f": {text}" if text else ""


def _timeout_error(exc: httpx.TimeoutException) -> str:
    phase = {httpx.ConnectTimeout: "connect", httpx.ReadTimeout: "read",
             httpx.WriteTimeout: "write", httpx.PoolTimeout: "pool"}.get(type(exc), "request")
    return f"timeout ({phase})"


def _kind(exc: httpx.HTTPError) -> str:
    if isinstance(exc, httpx.ConnectError):
        return "connection error"
    if isinstance(exc, httpx.ProtocolError):
        return "protocol error"
    return "request error"


def _failed(started: float, error: str) -> DeliveryResult:
    return DeliveryResult(status_code=None, latency_ms=_elapsed_ms(started), error=_truncate(error),
                          outcome="retry")


def _elapsed_ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _truncate(text: str) -> str:
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 1] + "…"
