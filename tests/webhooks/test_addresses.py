"""The SSRF policy: which URLs are refused at job submit, and which addresses ever."""

from __future__ import annotations

import ipaddress
import socket
import sys

import pytest

from shared.errors import ValidationError
from shared.net.policy import is_forbidden_address, parse_numeric_ipv4
from shared.webhooks.addresses import validate_webhook_url
from tests.webhooks.support import fixed_resolver, no_dns

REFUSED_URLS = [
    "http://127.0.0.1/",
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://0x7f000001/",
    "http://2130706433/",
    "http://0177.0.0.1/",
    "http://127.1/",
    "http://10.0.0.1/",
    "http://172.16.0.1/",
    "http://192.168.1.1/",
    "http://100.64.0.1/",
    "http://169.254.169.254/",
    "http://[fe80::1]/",
    "http://0.0.0.0/",
    "http://224.0.0.1/",
    "http://metadata.google.internal/",
    "http://METADATA.google.internal./",
    "http://metadata/",
    "http://instance-data/",
    "http://[64:ff9b::a00:1]/",  # NAT64 form of 10.0.0.1
    "http://[2002:7f00:1::1]/",  # 6to4 form of 127.0.0.1
    "http://[fd00:ec2::254]/",
]


def refusal(url: str, *, allow_private: bool = False, resolver=no_dns) -> str:
    with pytest.raises(ValidationError) as caught:
        validate_webhook_url(url, allow_private=allow_private, resolver=resolver)
    [error] = caught.value.details["errors"]
    assert error["field"] == "webhook_url"
    return error["message"]


@pytest.mark.parametrize("url", REFUSED_URLS)
def test_ssrf_targets_are_refused(url: str) -> None:
    message = refusal(url)
    if url != "http://0177.0.0.1/":  # httpx itself rejects leading-zero dotted quads
        assert "not allowed" in message


def test_hostname_resolving_to_a_private_address_is_refused() -> None:
    refusal("https://hooks.example.com/x", resolver=fixed_resolver("10.1.2.3"))


def test_hostname_with_one_private_answer_among_public_ones_is_refused() -> None:
    refusal("https://hooks.example.com/x", resolver=fixed_resolver("93.184.216.34", "192.168.0.7"))


def test_refusal_does_not_reveal_the_resolved_address() -> None:
    message = refusal("https://db.corp.example/", resolver=fixed_resolver("10.1.2.3"))
    assert "10.1.2.3" not in message


def test_unresolvable_hostname_is_refused() -> None:
    def fail(host: str, *args: object, **kwargs: object) -> list[tuple]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    assert "resolved" in refusal("https://nowhere.example/", resolver=fail)


@pytest.mark.parametrize("url", [
    "https://hooks.example.com/atelier?token=abc",
    "http://hooks.example.com:8080/",
    "https://hooks.example.com./",
])
def test_hostname_resolving_to_a_public_address_is_allowed(url: str) -> None:
    calls: list[str] = []
    validate_webhook_url(url, allow_private=False, resolver=fixed_resolver("93.184.216.34", calls=calls))
    assert calls  # resolved through the injected resolver, never connected


@pytest.mark.parametrize("url", [
    "ftp://hooks.example.com/",
    "file:///etc/passwd",
    "gopher://hooks.example.com/",
    "http://user:pass@hooks.example.com/",
    "http://@hooks.example.com/",
    "http:///path",
    "http://hooks.example.com:0/",
    "http://hooks.example.com:99999/",
    "http://hooks.example.com\\@127.0.0.1/",
    "http://hooks example.com/",
    "http://[fe80::1%25eth0]/",
    "not a url",
])
def test_malformed_urls_are_refused(url: str) -> None:
    refusal(url, resolver=fixed_resolver("93.184.216.34"))


@pytest.mark.parametrize("url", ["http://127.0.0.1/", "http://10.0.0.1/", "http://[::1]:8000/",
                                 "http://[::ffff:127.0.0.1]/", "http://192.168.1.1/"])
def test_allow_private_admits_loopback_and_private(url: str) -> None:
    validate_webhook_url(url, allow_private=True, resolver=no_dns)


@pytest.mark.parametrize("url", ["http://169.254.169.254/", "http://[fe80::1]/",
                                 "http://metadata.google.internal/", "http://[fd00:ec2::254]/",
                                 "http://[::ffff:169.254.169.254]/", "http://0.0.0.0/",
                                 "http://100.64.0.1/", "http://100.100.100.200/"])
def test_allow_private_still_refuses_link_local_and_metadata(url: str) -> None:
    refusal(url, allow_private=True)


@pytest.mark.parametrize("address", [
    "127.0.0.1", "10.0.0.1", "172.31.255.255", "192.168.1.1", "100.64.0.1", "169.254.169.254",
    "0.0.0.0", "0.1.2.3", "224.0.0.1", "239.255.255.250", "240.0.0.1", "255.255.255.255",
    "192.0.0.1", "192.0.2.1", "198.18.0.1", "198.51.100.1", "203.0.113.1",
    "::", "::1", "fe80::1", "fc00::1", "fd12:3456::1", "fec0::1", "ff02::1", "2001:db8::1",
    "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254", "::127.0.0.1", "::8.8.8.8",
    "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "2002:a00:1::1", "2002:a9fe:a9fe::", "2001::1",
])
def test_forbidden_addresses(address: str) -> None:
    assert is_forbidden_address(ipaddress.ip_address(address), allow_private=False)


@pytest.mark.parametrize("address", [
    "93.184.216.34", "8.8.8.8", "1.1.1.1", "2606:2800:220:1:248:1893:25c8:1946",
    "::ffff:93.184.216.34", "64:ff9b::5db8:d822", "2002:5db8:d822::1",
])
def test_public_addresses_are_allowed(address: str) -> None:
    assert not is_forbidden_address(ipaddress.ip_address(address), allow_private=False)


@pytest.mark.parametrize(("address", "forbidden"), [
    ("127.0.0.1", False), ("10.0.0.1", False), ("::1", False), ("fd12::1", False),
    ("::ffff:192.168.0.1", False), ("2002:c0a8:1::1", False),
    ("169.254.169.254", True), ("169.254.1.1", True), ("fe80::1", True), ("fd00:ec2::254", True),
    ("::ffff:169.254.169.254", True), ("100.64.0.1", True), ("0.0.0.0", True), ("::", True),
    ("224.0.0.1", True), ("192.0.2.1", True),
])
def test_allow_private_policy(address: str, forbidden: bool) -> None:
    assert is_forbidden_address(ipaddress.ip_address(address), allow_private=True) is forbidden


def test_link_local_with_zone_is_forbidden() -> None:
    assert is_forbidden_address(ipaddress.ip_address("fe80::1%eth0"), allow_private=True)


NUMERIC_FORMS = ["127.0.0.1", "127.1", "127.0.1", "0x7f000001", "0X7F000001", "2130706433",
                 "0177.0.0.1", "017700000001", "0x7f.1", "0", "4294967295", "1.16777215",
                 "1.2.65535", "4294967296", "1.16777216", "1.2.65536", "0x100.0.0.1", "08", "0x",
                 "00x1", "1..2", ".1", "1.2.3.4.5", "1.0x", "256.0.0.1", "example.com", "a.1"]


@pytest.mark.parametrize("host", NUMERIC_FORMS)
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="compares with glibc inet_aton")
def test_numeric_hosts_read_like_inet_aton(host: str) -> None:
    try:
        expected = ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        expected = None
    assert parse_numeric_ipv4(host) == expected
