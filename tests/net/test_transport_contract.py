"""What ``GuardedTransport`` relies on in httpx and httpcore; fails if an upgrade changes it.

The transport implements ``httpx.BaseTransport`` over an ``httpcore.ConnectionPool`` with our
``httpcore.NetworkBackend``. If httpcore stops taking a backend, calls it differently, grows
a stream method we do not forward, or adds an exception we do not map, a test here fails
before any request silently bypasses the guard or turns into an unmapped error.
"""

from __future__ import annotations

import inspect

import httpcore
import httpx
import pytest

from shared.net import GuardedTransport, guarded_client
from shared.net.transport import EXCEPTIONS, GuardedBackend, _DeadlineStream
from tests.webhooks.support import Receiver, fixed_resolver


def _parameters(function: object) -> list[str]:
    return list(inspect.signature(function).parameters)  # type: ignore[arg-type]


def test_the_pool_takes_a_network_backend() -> None:
    assert "network_backend" in _parameters(httpcore.ConnectionPool.__init__)


def test_backend_methods_match_httpcore() -> None:
    for name in ("connect_tcp", "connect_unix_socket"):
        ours, theirs = getattr(GuardedBackend, name), getattr(httpcore.NetworkBackend, name)
        assert _parameters(ours) == _parameters(theirs), name


def test_every_stream_method_is_forwarded() -> None:
    public = {n for n, v in vars(httpcore.NetworkStream).items() if callable(v) and not n.startswith("_")}
    assert public == {"read", "write", "close", "start_tls", "get_extra_info"}
    for name in public:
        assert name in vars(_DeadlineStream), name
        assert _parameters(getattr(_DeadlineStream, name)) == _parameters(getattr(httpcore.NetworkStream, name))


def test_every_httpcore_exception_is_mapped() -> None:
    raised = {value for name in httpcore.__all__ if isinstance(value := getattr(httpcore, name), type)
              and issubclass(value, Exception)}
    mapped = {source for source, _ in EXCEPTIONS}
    # The pool retries on another connection when it sees this one; it never reaches us.
    assert raised - mapped == {httpcore.ConnectionNotAvailable}
    assert mapped <= raised
    for source, target in EXCEPTIONS:
        assert issubclass(target, httpx.TransportError)
        # Most specific first: no entry is shadowed by an earlier, broader one.
        earlier = [s for s, _ in EXCEPTIONS[: EXCEPTIONS.index((source, target))]]
        assert not any(issubclass(source, e) for e in earlier), source


def test_the_pool_connects_through_our_backend(receiver: Receiver) -> None:
    # hooks.test does not resolve anywhere; only our backend (with this resolver) can reach it.
    calls: list[str] = []
    with guarded_client(allow_private=True, timeout=2, resolver=fixed_resolver("127.0.0.1", calls=calls)) as client:
        response = client.post(f"http://hooks.test:{receiver.port}/hook", content=b"{}")
        assert response.status_code == 200
        assert response.read() == b"ok"
    assert calls == ["hooks.test"]


def test_httpcore_errors_reach_callers_as_httpx_errors(closed_port: int) -> None:
    with guarded_client(allow_private=True, timeout=2) as client, pytest.raises(httpx.ConnectError):
        client.get(f"http://127.0.0.1:{closed_port}/")


def test_the_transport_is_an_httpx_transport() -> None:
    transport = GuardedTransport(allow_private=False)
    assert isinstance(transport, httpx.BaseTransport)
    assert _parameters(httpx.Client.__init__).count("transport") == 1
    transport.close()
