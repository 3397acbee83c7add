"""The SSRF guard: a webhook may only reach public addresses (or ones the operator allows).

``resolve(url, allowlist)`` checks the URL (http or https, a host, no credentials), resolves
the host once, and refuses it when any address it resolves to is loopback, private,
link-local (cloud metadata), CGNAT, multicast, reserved or unspecified, in IPv4 or IPv6,
or in a block of the IANA IPv4 and IPv6 Special-Purpose Address Registries that is not
globally reachable (``SPECIAL``, written out here so that the guard does not change with the
Python release's own tables), including IPv4 addresses embedded in IPv6 ones (IPv4-mapped,
IPv4-compatible, 6to4, Teredo, NAT64). The caller then connects to ``Target.address``, the address that was checked,
never to the name again (DNS may answer differently the second time).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..errors import RequestError

IP = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], list[str]]
SCHEMES = {"http": 80, "https": 443}
MAX_URL = 2048

CGNAT = ipaddress.ip_network("100.64.0.0/10")
# the well-known NAT64 prefix (RFC 6052): globally reachable, so its address of a public IPv4
# address is admitted. The local-use prefix 64:ff9b:1::/48 (RFC 8215) reaches an operator's
# own translator, whatever it embeds: refused whole below (``SPECIAL``).
NAT64 = (ipaddress.ip_network("64:ff9b::/96"),)
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
SITE_LOCAL = ipaddress.ip_network("fec0::/10")


# Blocks of the IANA Special-Purpose Address Registries whose "Globally Reachable" is False or
# N/A, refused whole: a globally reachable assignment inside one of them (192.0.0.9/32 and
# 192.0.0.10/32, PCP and TURN anycast; 2001:1::1/128 .. 2001:1::3/128, AMT 2001:3::/32, AS112
# 2001:4:112::/48, ORCHIDv2 2001:20::/28, DETs 2001:30::/28) is an anycast service or an
# overlay, never a webhook receiver, and is refused with its block. The mapped range
# ::ffff:0:0/96 is not listed: a mapped address is its IPv4 address, checked as such.
SPECIAL: tuple[tuple[Network, str], ...] = tuple((ipaddress.ip_network(block), name) for block, name in (
    ("0.0.0.0/8", "this-network"),
    ("10.0.0.0/8", "private-use"),
    ("100.64.0.0/10", "shared address space (CGNAT)"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link-local"),
    ("172.16.0.0/12", "private-use"),
    ("192.0.0.0/24", "IETF protocol assignment"),
    ("192.0.2.0/24", "documentation"),
    ("192.88.99.0/24", "deprecated 6to4 relay anycast"),
    ("192.168.0.0/16", "private-use"),
    ("198.18.0.0/15", "benchmarking"),
    ("198.51.100.0/24", "documentation"),
    ("203.0.113.0/24", "documentation"),
    ("240.0.0.0/4", "reserved"),
    ("255.255.255.255/32", "limited broadcast"),
    ("::/128", "unspecified"),
    ("::1/128", "loopback"),
    ("64:ff9b:1::/48", "local-use NAT64"),
    ("100::/64", "discard-only"),
    ("100:0:0:1::/64", "dummy"),
    ("2001::/23", "IETF protocol assignment (Teredo and others)"),
    ("2001:db8::/32", "documentation"),
    ("2002::/16", "6to4"),
    ("3fff::/20", "documentation"),
    ("5f00::/16", "segment routing (SRv6) SID"),
    ("fc00::/7", "unique-local (private)"),
    ("fe80::/10", "link-local"),
))


class Refused(RequestError):
    """A URL or address the guard will not let a webhook reach; the message says why."""


@dataclass(frozen=True)
class Target:
    url: str
    scheme: str
    host: str  # as written in the URL (sent as Host and as TLS server name)
    port: int
    path: str  # path and query, as sent on the request line
    address: str  # the checked IP address to connect to


def parse_allowlist(text: str) -> tuple[Network, ...]:
    """``"127.0.0.0/8, ::1"`` -> networks; an entry that is not an address or CIDR raises."""
    networks = []
    for item in (part.strip() for part in text.split(",")):
        if item:
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                raise ValueError(f"webhook allowlist entry {item!r} is not an address or CIDR") from None
    return tuple(networks)


def embedded_ipv4(ip: IP) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses an IPv6 address carries (and would reach through a translator)."""
    if isinstance(ip, ipaddress.IPv4Address):
        return []
    found = []
    if ip.ipv4_mapped is not None:
        found.append(ip.ipv4_mapped)
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip.teredo is not None:
        found.extend(ip.teredo)
    if any(ip in net for net in NAT64) or (ip in IPV4_COMPATIBLE and int(ip) > 1):
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return found


def _category(ip: IP) -> str | None:
    """Why ``ip`` itself is not a public unicast address, or None."""
    checks = (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("shared address space (CGNAT)", isinstance(ip, ipaddress.IPv4Address) and ip in CGNAT),
        ("site-local", isinstance(ip, ipaddress.IPv6Address) and ip in SITE_LOCAL),
        ("reserved", ip.is_reserved),
        ("private", ip.is_private),
    )
    found = next((name for name, hit in checks if hit), None)
    if found is None:
        found = next((name for net, name in SPECIAL if ip.version == net.version and ip in net), None)
    if found is None and not ip.is_global:
        found = "not globally routable"
    return found


def _a(name: str) -> str:
    return ("an " if name[0].lower() in "aeiou" else "a ") + name


def forbidden_reason(ip: IP, allowlist: tuple[Network, ...] = ()) -> str | None:
    """Why a webhook may not connect to ``ip``, as "is a loopback address" (None: it may)."""
    embedded = embedded_ipv4(ip)
    if any(a in net for a in (ip, *embedded) for net in allowlist if a.version == net.version):
        return None
    for inner in embedded:
        reason = _category(inner)
        if reason:
            return f"embeds {_a(reason)} address ({inner})"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return None  # ::ffff:a.b.c.d is a.b.c.d, checked above
    if embedded and isinstance(ip, ipaddress.IPv6Address) and any(ip in net for net in NAT64):
        return None  # a NAT64 address of a public IPv4 address
    reason = _category(ip)
    return f"is {_a(reason)} address" if reason else None


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


def check_url(url: str) -> tuple[str, str, int, str]:
    """The URL's (scheme, host, port, path) when its form is acceptable; else ``Refused``."""
    if not isinstance(url, str) or not url:
        raise Refused("must be an http or https URL")
    if len(url) > MAX_URL:
        raise Refused(f"must be at most {MAX_URL} characters")
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise Refused("must not contain spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise Refused(f"is not a valid URL ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise Refused("must use http or https")
    if parts.username is not None or parts.password is not None:
        raise Refused("must not carry credentials (user:password@)")
    host = parts.hostname
    if not host:
        raise Refused("must name a host")
    if parts.fragment:
        raise Refused("must not have a #fragment")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return scheme, host, port or SCHEMES[scheme], path


def resolve(url: str, allowlist: tuple[Network, ...] = (), resolver: Resolver = system_resolver) -> Target:
    """Check ``url`` and resolve its host once; every address must pass the guard."""
    scheme, host, port, path = check_url(url)
    literal = literal_ip(host)
    if literal is not None:
        addresses = [str(literal)]
    else:
        try:
            addresses = resolver(host, port)
        except (OSError, UnicodeError) as exc:
            raise Refused(f"host {host!r} does not resolve ({exc})") from None
    return Target(url, scheme, host, port, path, admit(host, addresses, allowlist))


def literal_ip(host: str) -> IP | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def admit(host: str, addresses: list[str], allowlist: tuple[Network, ...]) -> str:
    """The address to connect to when every address ``host`` resolved to passes the guard."""
    if not addresses:
        raise Refused(f"host {host!r} does not resolve")
    literal = literal_ip(host) is not None
    for text in addresses:
        ip = ipaddress.ip_address(text.split("%", 1)[0])
        reason = forbidden_reason(ip, allowlist)
        if reason:
            where = f"{ip}" if literal else f"{host!r} resolves to {ip}, which"
            raise Refused(f"{where} {reason}; webhooks may only reach public addresses"
                          " (the operator can admit it with ROUTEFARM_WEBHOOK_ALLOWLIST)")
    return addresses[0].split("%", 1)[0]
