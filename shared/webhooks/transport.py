"""An httpx client that re-checks the address policy on every connection it opens.

Checking a URL at submit time is not enough: DNS may answer differently when we send
(DNS rebinding). Here the network backend resolves the host itself, checks every
address, and connects to exactly the address it checked. TLS SNI and the Host header
still carry the hostname, because httpcore takes those from the URL, not from us.

It also enforces ``timeout`` as a total deadline per request: httpx timeouts apply per
network operation, so a receiver that drips one byte at a time could otherwise hold a
worker for hours.
"""

from __future__ import annotations

import contextvars
import socket
import ssl
import time
from collections.abc import Iterable, Iterator

import httpcore
import httpx

from shared.webhooks.addresses import (
    Resolver,
    is_forbidden_address,
    is_metadata_hostname,
    resolve_host,
)


class ForbiddenAddress(Exception):
    """The host resolved, at connect time, to an address webhooks may not reach."""


# Monotonic deadline of the request being served on this thread (None outside one).
_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar("webhook_deadline", default=None)


def _remaining(timeout: float | None, expired: type[Exception]) -> float | None:
    """``timeout`` cut down to what is left of the request's deadline."""
    deadline = _deadline.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise expired("total request timeout exceeded")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _remaining(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _remaining(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        tls = self._inner.start_tls(ssl_context, server_hostname,
                                    _remaining(timeout, httpcore.ConnectTimeout))
        return _DeadlineStream(tls)

    def get_extra_info(self, info: str) -> object:
        return self._inner.get_extra_info(info)


class GuardedBackend(httpcore.NetworkBackend):
    """Resolves, checks and connects to the checked IP; refuses Unix sockets."""

    def __init__(self, *, allow_private: bool, resolver: Resolver) -> None:
        self._allow_private = allow_private
        self._resolver = resolver
        self._sockets = httpcore.SyncBackend()

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None,
                    socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
                    ) -> httpcore.NetworkStream:
        if is_metadata_hostname(host):
            raise ForbiddenAddress(f"host {host!r} is not allowed")
        if not 1 <= port <= 65535:  # httpx lets these through; sockets would raise OverflowError
            raise httpcore.ConnectError(f"invalid port {port}")
        try:
            addresses = resolve_host(host, port, self._resolver)
        except (OSError, UnicodeError, ValueError) as exc:
            raise httpcore.ConnectError(f"could not resolve host {host!r}: {exc}") from exc
        # All or nothing, as at submit: a name with one forbidden answer is refused.
        for ip in addresses:
            if is_forbidden_address(ip, allow_private=self._allow_private):
                raise ForbiddenAddress(f"host {host!r} resolved to forbidden address {ip}")
        error: Exception | None = None
        for ip in addresses:
            try:
                stream = self._sockets.connect_tcp(
                    str(ip), port, timeout=_remaining(timeout, httpcore.ConnectTimeout),
                    local_address=local_address, socket_options=socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
                continue
            return _DeadlineStream(stream)
        assert error is not None  # resolve_host never returns an empty list
        raise error

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
                            ) -> httpcore.NetworkStream:
        raise ForbiddenAddress("unix sockets are not allowed")


class _DeadlineByteStream(httpx.SyncByteStream):
    """Keeps the request's deadline while the response body is read, after send returns."""

    def __init__(self, inner: httpx.SyncByteStream, deadline: float) -> None:
        self._inner = inner
        self._deadline = deadline

    def __iter__(self) -> Iterator[bytes]:
        chunks = iter(self._inner)
        while True:
            token = _deadline.set(self._deadline)
            try:
                chunk = next(chunks, None)
            finally:
                _deadline.reset(token)
            if chunk is None:
                return
            yield chunk

    def close(self) -> None:
        self._inner.close()


class GuardedTransport(httpx.HTTPTransport):
    def __init__(self, *, allow_private: bool, total_timeout: float, resolver: Resolver) -> None:
        super().__init__(trust_env=False)
        # Private attribute: httpx 0.28 builds its httpcore pool in __init__ with no way to
        # pass a network backend, so the pool is replaced by one using ours. handle_request
        # and close only go through ``self._pool``; the limits are httpx's defaults.
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=100,
            max_keepalive_connections=20,
            keepalive_expiry=5.0,
            network_backend=GuardedBackend(allow_private=allow_private, resolver=resolver),
        )
        self._total_timeout = total_timeout

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        deadline = time.monotonic() + self._total_timeout
        token = _deadline.set(deadline)
        try:
            response = super().handle_request(request)
        finally:
            _deadline.reset(token)
        assert isinstance(response.stream, httpx.SyncByteStream)
        response.stream = _DeadlineByteStream(response.stream, deadline)
        return response


def guarded_client(*, allow_private: bool, timeout: float,
                   resolver: Resolver = socket.getaddrinfo) -> httpx.Client:
    """A client for webhook delivery: policy checked per connection, no redirects, no proxies.

    ``timeout`` bounds each network operation and the whole request. Connecting to a
    forbidden address raises ``ForbiddenAddress``.
    """
    transport = GuardedTransport(allow_private=allow_private, total_timeout=timeout, resolver=resolver)
    return httpx.Client(transport=transport, timeout=httpx.Timeout(timeout),
                        follow_redirects=False, trust_env=False)
