"""The one block list and the operator's allowances, as every guarded fetch sees them."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from shared.net import ForbiddenAddress, allow_private_for, guarded_client
from shared.net.policy import check_addresses, forbidden_reason, is_operator_network
from tests.webhooks.support import fixed_resolver
from workers.providers.base import GenerationFailed
from workers.providers.http import download_to


@pytest.mark.parametrize(("address", "reason"), [
    ("169.254.169.254", "link-local"), ("fe80::1", "link-local"), ("::ffff:169.254.169.254", "link-local"),
    ("fd00:ec2::254", "metadata"), ("fd00:ec2::23", "metadata"), ("100.100.100.200", "metadata"),
    ("127.0.0.1", "private"), ("10.1.2.3", "private"), ("100.64.0.1", "private"), ("64:ff9b::a00:1", "private"),
    ("2002:7f00:1::1", "private"), ("93.184.216.34", None),
])
def test_reasons(address: str, reason: str | None) -> None:
    assert forbidden_reason(ipaddress.ip_address(address), allow_private=False) == reason


def test_allowing_private_never_opens_metadata_or_link_local() -> None:
    for address in ("fd00:ec2::254", "169.254.169.254", "fe80::1", "100.100.100.200"):
        assert forbidden_reason(ipaddress.ip_address(address), allow_private=True) is not None
    for address in ("127.0.0.1", "10.0.0.1", "fd12::1"):
        assert forbidden_reason(ipaddress.ip_address(address), allow_private=True) is None


def test_refusal_names_the_kind_never_the_address() -> None:
    with pytest.raises(ForbiddenAddress) as caught:
        check_addresses("db.corp.example", [ipaddress.ip_address("93.184.216.34"), ipaddress.ip_address("10.9.8.7")],
                        allow_private=False)
    assert "private address" in caught.value.message and "10.9.8.7" not in caught.value.message


@pytest.mark.parametrize(("base_url", "operator"), [
    ("http://127.0.0.1:9000/v1", True), ("http://localhost:8080", True), ("http://10.0.0.5/", True),
    ("https://api.openai.com/v1", False), ("https://queue.fal.run", False), ("http://gateway.internal/", False),
])
def test_operator_network(base_url: str, operator: bool) -> None:
    assert is_operator_network(base_url) is operator
    assert allow_private_for(False, base_url) is operator
    assert allow_private_for(True, base_url) is True  # ATELIER_WEBHOOK_ALLOW_PRIVATE covers all
    assert allow_private_for(False) is False


@pytest.mark.parametrize("url", ["http://[fd00:ec2::254]/latest/meta-data/", "http://169.254.169.254/",
                                 "http://metadata.google.internal/computeMetadata/v1/"])
def test_provider_downloads_refuse_metadata_even_on_an_operator_network(url: str, tmp_path: Path) -> None:
    with guarded_client(allow_private=True, timeout=2) as client, pytest.raises(GenerationFailed, match="not allowed"):
        download_to(client, url, tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


def test_provider_downloads_connect_to_the_address_they_checked(tmp_path: Path) -> None:
    # A name answering public first, then loopback (DNS rebinding): resolved once, refused.
    answers = iter(["93.184.216.34", "127.0.0.1"])

    def rebinding(host: str, port: int, *args: object, **kwargs: object) -> list[tuple]:
        return fixed_resolver(next(answers))(host, port)

    rebinding("cdn.example.com", 80)  # what a check-then-fetch would have seen
    with guarded_client(allow_private=False, timeout=2, resolver=rebinding) as client, \
            pytest.raises(GenerationFailed, match="private address"):
        download_to(client, "http://cdn.example.com/out.png", tmp_path / "out")
