"""The connect-time check: the guarded client resolves, checks and connects to what it checked."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from shared.net import ForbiddenAddress, guarded_client
from shared.webhooks.addresses import validate_webhook_url
from shared.webhooks.sender import deliver
from tests.webhooks.support import Receiver, answer, fixed_resolver, no_dns


def test_loopback_is_refused_at_connect(receiver: Receiver) -> None:
    with guarded_client(allow_private=False, timeout=2) as client, pytest.raises(ForbiddenAddress):
        client.post(receiver.url, content=b"{}")
    assert receiver.requests == []


def test_dns_rebinding_is_refused_at_connect(receiver: Receiver) -> None:
    answers = iter(["93.184.216.34", "127.0.0.1"])

    def rebinding(host: str, port: int, *args: object, **kwargs: object) -> list[tuple]:
        return fixed_resolver(next(answers))(host, port)

    url = f"http://hooks.example.com:{receiver.port}/hook"
    validate_webhook_url(url, allow_private=False, resolver=rebinding)  # public: accepted
    with guarded_client(allow_private=False, timeout=2, resolver=rebinding) as client:
        result = deliver(url, b"{}", {}, allow_private=False, client=client)
    assert (result.outcome, result.status_code) == ("retry", None)
    # The customer sees the delivery list: it names the kind of address, never our resolved IP.
    assert "private address" in (result.error or "")
    assert "127.0.0.1" not in (result.error or "")
    assert receiver.requests == []


def test_one_forbidden_answer_refuses_the_host(receiver: Receiver) -> None:
    resolver = fixed_resolver("93.184.216.34", "127.0.0.1")
    with guarded_client(allow_private=False, timeout=2, resolver=resolver) as client, \
            pytest.raises(ForbiddenAddress):
        client.post(f"http://hooks.example.com:{receiver.port}/", content=b"{}")


def test_connects_to_the_checked_address_with_the_hostname_in_host(receiver: Receiver) -> None:
    # hooks.test does not exist: only a connection to the address our resolver gave can work.
    calls: list[str] = []
    resolver = fixed_resolver("127.0.0.1", calls=calls)
    with guarded_client(allow_private=True, timeout=2, resolver=resolver) as client:
        response = client.post(f"http://hooks.test:{receiver.port}/hook", content=b"{}")
    assert response.status_code == 200
    assert calls == ["hooks.test"]
    [request] = receiver.requests
    assert request.headers["Host"] == f"hooks.test:{receiver.port}"


def test_metadata_hostname_is_refused_without_resolving() -> None:
    with guarded_client(allow_private=True, timeout=2, resolver=no_dns) as client, \
            pytest.raises(ForbiddenAddress):
        client.get("http://metadata.google.internal/computeMetadata/v1/")


def test_link_local_refused_even_when_private_allowed() -> None:
    with guarded_client(allow_private=True, timeout=2, resolver=no_dns) as client, \
            pytest.raises(ForbiddenAddress):
        client.get("http://169.254.169.254/latest/meta-data/")


def test_redirects_are_not_followed_by_the_client(make_receiver: Callable[..., Receiver]) -> None:
    target = make_receiver()
    redirecting = make_receiver(answer(307, headers={"Location": target.url}))
    with guarded_client(allow_private=True, timeout=2) as client:
        assert client.post(redirecting.url, content=b"{}").status_code == 307
    assert target.requests == []


@pytest.fixture
def tls_listener(tmp_path: Path) -> Iterator[tuple[int, list[str | None]]]:
    """A TLS server on 127.0.0.1 with an untrusted certificate that records the SNI it is sent."""
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hooks.test")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(hours=1))
            .not_valid_after(now + timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("hooks.test")]), critical=False)
            .sign(key, hashes.SHA256()))
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))

    server_names: list[str | None] = []
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    context.sni_callback = lambda sock, server_name, ctx: server_names.append(server_name)
    listener = socket.create_server(("127.0.0.1", 0))

    def serve_one() -> None:
        conn, _ = listener.accept()
        try:
            with context.wrap_socket(conn, server_side=True):
                pass
        except (ssl.SSLError, OSError):
            pass  # the client rejects our certificate, as expected

    thread = threading.Thread(target=serve_one, daemon=True)
    thread.start()
    yield listener.getsockname()[1], server_names
    listener.close()
    thread.join(timeout=5)


def test_tls_sni_carries_the_hostname(tls_listener: tuple[int, list[str | None]]) -> None:
    port, server_names = tls_listener
    resolver = fixed_resolver("127.0.0.1")
    with guarded_client(allow_private=True, timeout=2, resolver=resolver) as client, \
            pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        client.post(f"https://hooks.test:{port}/hook", content=b"{}")
    assert server_names == ["hooks.test"]
