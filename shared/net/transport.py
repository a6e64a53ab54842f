"""An httpx transport that checks the address policy on every connection it opens.

Checking a URL before the request is not enough: DNS may answer differently when we
connect (DNS rebinding). Here the network backend resolves the host itself, checks every
address, and connects to exactly the address it checked. TLS SNI and the Host header still
carry the hostname, because httpcore takes those from the URL, not from the socket.

Only public API of both libraries is used: httpx's ``BaseTransport`` is implemented over an
``httpcore.ConnectionPool`` given our ``httpcore.NetworkBackend`` (httpx's own
``HTTPTransport`` cannot take a backend). ``tests/net/test_transport_contract.py`` fails if an
upgrade changes any of that.

``total_timeout`` bounds a whole request, body included: httpx timeouts apply per network
operation, so a server dripping one byte at a time could otherwise hold a thread for hours.
"""

from __future__ import annotations

import contextlib
import contextvars
import socket
import ssl
import time
from collections.abc import Iterable, Iterator

import httpcore
import httpx

from shared.net.policy import ForbiddenAddress, Resolver, check_addresses, is_metadata_hostname, resolve_host

# Monotonic deadline of the request being served on this thread (None outside one).
_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar("guarded_deadline", default=None)

#: httpcore's exceptions → httpx's, most specific first (httpx maps them the same way).
EXCEPTIONS: tuple[tuple[type[Exception], type[httpx.TransportError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.ProxyError, httpx.ProxyError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.ProtocolError, httpx.ProtocolError),
)


@contextlib.contextmanager
def _mapped_errors() -> Iterator[None]:
    try:
        yield
    except Exception as exc:
        for source, target in EXCEPTIONS:
            if isinstance(exc, source):
                raise target(str(exc)) from exc
        raise


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
            raise ForbiddenAddress(f"host {host!r} is not allowed: it is a metadata host")
        if not 1 <= port <= 65535:  # httpx lets these through; sockets would raise OverflowError
            raise httpcore.ConnectError(f"invalid port {port}")
        try:
            addresses = resolve_host(host, port, self._resolver)
        except (OSError, UnicodeError, ValueError) as exc:
            raise httpcore.ConnectError(f"could not resolve host {host!r}: {exc}") from exc
        check_addresses(host, addresses, allow_private=self._allow_private)
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


class _ResponseStream(httpx.SyncByteStream):
    """The body as httpx reads it: httpcore errors mapped, the request's deadline kept."""

    def __init__(self, inner: Iterable[bytes], deadline: float | None) -> None:
        self._inner = inner
        self._deadline = deadline

    def __iter__(self) -> Iterator[bytes]:
        chunks = iter(self._inner)
        while True:
            token = _deadline.set(self._deadline)
            try:
                with _mapped_errors():
                    chunk = next(chunks, None)
            finally:
                _deadline.reset(token)
            if chunk is None:
                return
            yield chunk

    def close(self) -> None:
        close = getattr(self._inner, "close", None)
        if close is not None:
            close()


class GuardedTransport(httpx.BaseTransport):
    """``httpx.BaseTransport`` over an httpcore pool that connects through ``GuardedBackend``."""

    def __init__(self, *, allow_private: bool, total_timeout: float | None = None,
                 resolver: Resolver = socket.getaddrinfo, max_connections: int = 100) -> None:
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=max_connections,
            max_keepalive_connections=20,
            keepalive_expiry=5.0,
            network_backend=GuardedBackend(allow_private=allow_private, resolver=resolver),
        )
        self._total_timeout = total_timeout

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.SyncByteStream)
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(scheme=request.url.raw_scheme, host=request.url.raw_host,
                             port=request.url.port, target=request.url.raw_path),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        deadline = None if self._total_timeout is None else time.monotonic() + self._total_timeout
        token = _deadline.set(deadline)
        try:
            with _mapped_errors():
                response = self._pool.handle_request(core_request)
        finally:
            _deadline.reset(token)
        assert isinstance(response.stream, Iterable)
        return httpx.Response(status_code=response.status, headers=response.headers,
                              stream=_ResponseStream(response.stream, deadline),
                              extensions=response.extensions)

    def close(self) -> None:
        self._pool.close()


def guarded_client(*, allow_private: bool, timeout: float, total_timeout: float | None = None,
                   connect_timeout: float | None = None,
                   resolver: Resolver = socket.getaddrinfo) -> httpx.Client:
    """A client whose every connection is checked against the policy; no redirects followed
    by the client itself, no proxies or other settings from the environment.

    ``timeout`` bounds each network operation (``connect_timeout`` the connect, if given);
    ``total_timeout`` (default: ``timeout``) the whole request including its body, or nothing
    when ``0``. A forbidden target raises ``ForbiddenAddress``.
    """
    total = timeout if total_timeout is None else (total_timeout or None)
    transport = GuardedTransport(allow_private=allow_private, total_timeout=total, resolver=resolver)
    return httpx.Client(transport=transport, timeout=httpx.Timeout(timeout, connect=connect_timeout or timeout),
                        follow_redirects=False, trust_env=False)
