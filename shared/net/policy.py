"""Which hosts and addresses an account-steered fetch may reach: the one block list.

Every outbound request whose target an account (or an upstream answering for one) can
choose — webhook deliveries, provider result downloads, inputs by URL — is judged here.
``transport`` applies the same rules at connect time, to the address it then connects to.

The operator's one allowance is ``allow_private`` (``ATELIER_WEBHOOK_ALLOW_PRIVATE``, or an
upstream base URL on the operator's own network): loopback and private ranges open up;
link-local and cloud-metadata addresses never do.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

import httpx

from shared.errors import ValidationError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Called like ``socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)``.
Resolver = Callable[..., list[tuple[Any, ...]]]

_net = ipaddress.ip_network

# Cloud instance-metadata endpoints: refused even when private ranges are allowed.
METADATA_HOSTNAMES = frozenset({
    "metadata", "metadata.google.internal", "metadata.goog", "instance-data",
    "instance-data.ec2.internal",
})
METADATA_ADDRESSES = frozenset(ipaddress.ip_address(a) for a in (
    "169.254.169.254",  # AWS, GCP, Azure, OpenStack, Oracle, DigitalOcean
    "169.254.170.2",  # AWS ECS task credentials
    "100.100.100.200",  # Alibaba Cloud
    "192.0.0.192",  # Oracle Cloud (legacy)
    "fd00:ec2::254",  # AWS IMDS over IPv6
    "fd00:ec2::23",  # AWS ECS task credentials over IPv6
))

# Never reachable, whatever the operator allows: link-local is where metadata lives.
_LINK_LOCAL = (_net("169.254.0.0/16"), _net("fe80::/10"))

# What ``allow_private`` opens up (development setups, an operator's own gateway).
_PRIVATE_ALLOWABLE = (
    _net("127.0.0.0/8"), _net("10.0.0.0/8"), _net("172.16.0.0/12"), _net("192.168.0.0/16"),
    _net("::1/128"), _net("fc00::/7"),
)

# Not globally routable. Spelled out rather than trusting ``ip.is_global`` alone, whose
# tables differ between Python releases; ``is_global`` is still consulted as a backstop.
_NOT_GLOBAL = tuple(_net(n) for n in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
    "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16",
    "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
    "::/8",  # unspecified, loopback, IPv4-compatible (deprecated) and other reserved
    "64:ff9b:1::/48", "100::/64", "2001::/23", "2001:db8::/32", "3fff::/20", "5f00::/16",
    "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8",
))

_NAT64 = _net("64:ff9b::/96")


class ForbiddenAddress(ValidationError):
    """A target the policy refuses. The message never carries the resolved address, so a
    refusal shown to a customer does not map our internal DNS."""


class BadURL(ValidationError):
    """A URL that cannot be fetched at all (scheme, credentials, malformed host...)."""


def _embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address really leads to (mapped, NAT64, 6to4), if any."""
    if isinstance(ip, ipaddress.IPv4Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip.sixtofour


def forbidden_reason(ip: IPAddress, *, allow_private: bool) -> str | None:
    """Why ``ip`` may not be reached (``link-local``, ``metadata``, ``private``), or None."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.scope_id is not None:
        ip = ipaddress.IPv6Address(int(ip))  # judge fe80::1%eth0 as fe80::1
    embedded = _embedded_ipv4(ip)
    if embedded is not None:
        return forbidden_reason(embedded, allow_private=allow_private)
    if _in_any(ip, _LINK_LOCAL):
        return "link-local"
    if ip in METADATA_ADDRESSES:
        return "metadata"
    if allow_private and _in_any(ip, _PRIVATE_ALLOWABLE):
        return None
    if (_in_any(ip, _NOT_GLOBAL) or not ip.is_global or ip.is_private or ip.is_loopback
            or ip.is_link_local or ip.is_multicast or ip.is_reserved or ip.is_unspecified):
        return "private"
    return None


def is_forbidden_address(ip: IPAddress, *, allow_private: bool) -> bool:
    return forbidden_reason(ip, allow_private=allow_private) is not None


def _in_any(ip: IPAddress, networks: Iterable[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    return any(ip.version == net.version and ip in net for net in networks)


def is_metadata_hostname(host: str) -> bool:
    return host.lower().rstrip(".") in METADATA_HOSTNAMES


def parse_numeric_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """Read ``host`` the way ``inet_aton`` (and so ``getaddrinfo``) does, or None if it is a name.

    That accepts 1-4 dot-separated parts in decimal, octal (leading 0) or hex (0x), the
    last part filling the remaining bytes: ``127.1``, ``0177.0.0.1``, ``0x7f000001``,
    ``2130706433`` are all 127.0.0.1. Refusing only dotted quads would let these through.
    """
    parts = host.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    values = []
    for part in parts:
        if part[:2].lower() == "0x":
            digits, base = part[2:], 16
        elif len(part) > 1 and part.startswith("0"):
            digits, base = part[1:], 8
        else:
            digits, base = part, 10
        if not digits or not all(c in "0123456789abcdef"[:base] for c in digits.lower()):
            return None
        values.append(int(digits, base))
    *leading, last = values
    if any(v > 0xFF for v in leading) or last >= 1 << (8 * (4 - len(leading))):
        return None
    number = last
    for position, value in enumerate(leading):
        number |= value << (8 * (3 - position))
    return ipaddress.IPv4Address(number)


def resolve_host(host: str, port: int, resolver: Resolver) -> list[IPAddress]:
    """Every address ``host`` stands for; literals are read without asking the resolver.

    Raises ``OSError`` (``socket.gaierror``) when the name does not resolve.
    """
    if ":" in host:
        return [ipaddress.IPv6Address(host)]
    numeric = parse_numeric_ipv4(host)
    if numeric is not None:
        return [numeric]
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _canonname, sockaddr in resolver(host, port, type=socket.SOCK_STREAM):
        ip = ipaddress.ip_address(sockaddr[0])
        if ip not in addresses:
            addresses.append(ip)
    if not addresses:
        raise socket.gaierror(socket.EAI_NONAME, "no addresses")
    return addresses


def check_addresses(host: str, addresses: Iterable[IPAddress], *, allow_private: bool) -> None:
    """All or nothing: a name with one forbidden answer is refused (the connection may go to
    any of them). The address itself is not named."""
    reasons = {forbidden_reason(ip, allow_private=allow_private) for ip in addresses} - {None}
    if reasons:
        worst = next(r for r in ("metadata", "link-local", "private") if r in reasons)
        raise ForbiddenAddress(f"host {host!r} is not allowed: it resolves to a {worst} address")


# After IDNA encoding a host name is plain ASCII; anything else (%, spaces) is refused.
_HOSTNAME = re.compile(r"^[a-z0-9_.-]+$")

REFUSED = ("host is not allowed: it is a loopback, private, link-local, metadata or otherwise "
           "non-public address")


def parse_url(url: str) -> tuple[httpx.URL, str]:
    """The URL as the client will read it and its lower-case host, or ``BadURL``."""
    # Backslashes and control characters are read differently by different URL parsers.
    if any(c == "\\" or c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in url):
        raise BadURL("must not contain spaces, control characters or backslashes")
    try:
        parsed = httpx.URL(url)  # the parser the client uses, so both agree on the host
    except httpx.InvalidURL as exc:
        raise BadURL(f"is not a valid URL ({exc})") from None
    if parsed.scheme not in ("http", "https"):
        raise BadURL("must use http or https")
    # httpx drops an empty userinfo (``http://@host/``); the raw authority still shows it.
    if parsed.userinfo or "@" in urlsplit(url).netloc:
        raise BadURL("must not contain credentials")
    host = parsed.raw_host.decode("ascii").lower()
    if not host:
        raise BadURL("must include a host")
    if parsed.port is not None and not 1 <= parsed.port <= 65535:
        raise BadURL("has an invalid port")
    if ":" not in host and not _HOSTNAME.match(host):
        raise BadURL("has an invalid host")
    if "%" in host:
        raise BadURL("must not use an IPv6 zone identifier")
    if is_metadata_hostname(host):
        raise ForbiddenAddress("host is not allowed")
    return parsed, host


def check_url(url: str, *, allow_private: bool, resolver: Resolver = socket.getaddrinfo) -> None:
    """Refuse (``BadURL``/``ForbiddenAddress``) a URL no guarded fetch may go to, resolving its
    host now. The connect-time check in ``transport`` still runs: DNS may change by then."""
    parsed, host = parse_url(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        addresses = resolve_host(host, port, resolver)
    except (OSError, UnicodeError, ValueError):
        raise BadURL("host could not be resolved") from None
    if any(is_forbidden_address(ip, allow_private=allow_private) for ip in addresses):
        raise ForbiddenAddress(REFUSED)


def is_operator_network(base_url: str) -> bool:
    """An upstream base URL on loopback or a private network is the operator's own choice (a
    gateway, a test server); result files that provider serves from there may be fetched too."""
    host = urlsplit(base_url).hostname or ""
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_private


def allow_private_for(operator_allows: bool, upstream_base_url: str | None = None) -> bool:
    """The one place the operator's allowances combine: the setting, or (for an upstream's
    result files) a base URL on the operator's own network. Link-local/metadata stay refused."""
    return operator_allows or (upstream_base_url is not None and is_operator_network(upstream_base_url))
