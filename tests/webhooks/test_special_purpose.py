"""The SSRF guard against the IANA IPv4 and IPv6 Special-Purpose Address Registries, written
out here as data (block, name, "Globally Reachable"): an address inside every block that is
not globally reachable (False or N/A) is refused, itself and in every IPv4-embedding form the
guard reads (IPv4-mapped, 6to4, Teredo, NAT64); globally reachable blocks are admitted, except
those inside a refused block (the guard's choice: see ``SPECIAL`` in routefarm/webhooks/ssrf.py);
public addresses stay admitted."""

from __future__ import annotations

import ipaddress

import pytest

from routefarm.webhooks.ssrf import SPECIAL, forbidden_reason

NA = None  # "Globally Reachable: N/A"

IPV4_REGISTRY = (
    ("0.0.0.0/8", "This network", False),
    ("0.0.0.0/32", "This host on this network", False),
    ("10.0.0.0/8", "Private-Use", False),
    ("100.64.0.0/10", "Shared Address Space", False),
    ("127.0.0.0/8", "Loopback", False),
    ("169.254.0.0/16", "Link Local", False),
    ("172.16.0.0/12", "Private-Use", False),
    ("192.0.0.0/24", "IETF Protocol Assignments", False),
    ("192.0.0.0/29", "IPv4 Service Continuity Prefix", False),
    ("192.0.0.8/32", "IPv4 dummy address", False),
    ("192.0.0.9/32", "Port Control Protocol Anycast", True),
    ("192.0.0.10/32", "Traversal Using Relays around NAT Anycast", True),
    ("192.0.0.170/32", "NAT64/DNS64 Discovery", False),
    ("192.0.0.171/32", "NAT64/DNS64 Discovery", False),
    ("192.0.2.0/24", "Documentation (TEST-NET-1)", False),
    ("192.31.196.0/24", "AS112-v4", True),
    ("192.52.193.0/24", "AMT", True),
    ("192.88.99.0/24", "Deprecated (6to4 Relay Anycast)", NA),
    ("192.168.0.0/16", "Private-Use", False),
    ("192.175.48.0/24", "Direct Delegation AS112 Service", True),
    ("198.18.0.0/15", "Benchmarking", False),
    ("198.51.100.0/24", "Documentation (TEST-NET-2)", False),
    ("203.0.113.0/24", "Documentation (TEST-NET-3)", False),
    ("240.0.0.0/4", "Reserved", False),
    ("255.255.255.255/32", "Limited Broadcast", False),
)

IPV6_REGISTRY = (
    ("::1/128", "Loopback Address", False),
    ("::/128", "Unspecified Address", False),
    ("::ffff:0:0/96", "IPv4-mapped Address", False),
    ("64:ff9b::/96", "IPv4-IPv6 Translat.", True),
    ("64:ff9b:1::/48", "IPv4-IPv6 Translat. (local use)", False),
    ("100::/64", "Discard-Only Address Block", False),
    ("100:0:0:1::/64", "Dummy IPv6 Prefix", False),
    ("2001::/23", "IETF Protocol Assignments", NA),
    ("2001::/32", "TEREDO", NA),
    ("2001:1::1/128", "Port Control Protocol Anycast", True),
    ("2001:1::2/128", "Traversal Using Relays around NAT Anycast", True),
    ("2001:1::3/128", "DNS-SD Service Registration Protocol Anycast", True),
    ("2001:2::/48", "Benchmarking", False),
    ("2001:3::/32", "AMT", True),
    ("2001:4:112::/48", "AS112-v6", True),
    ("2001:10::/28", "Deprecated (previously ORCHID)", False),
    ("2001:20::/28", "ORCHIDv2", True),
    ("2001:30::/28", "Drone Remote ID Protocol Entity Tags (DETs) Prefix", True),
    ("2001:db8::/32", "Documentation", False),
    ("2002::/16", "6to4", NA),
    ("2620:4f:8000::/48", "Direct Delegation AS112 Service", True),
    ("3fff::/20", "Documentation", False),
    ("5f00::/16", "Segment Routing (SRv6) SIDs", False),
    ("fc00::/7", "Unique-Local", False),
    ("fe80::/10", "Link-Local Unicast", False),
)
REGISTRY = IPV4_REGISTRY + IPV6_REGISTRY
PUBLIC = ("93.184.216.34", "8.8.8.8", "1.1.1.1", "2606:4700::1111", "2a00:1450:4001:82b::200e")
TEREDO_SERVER = ipaddress.IPv4Address("65.54.227.120")


def inside(block: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """Addresses of ``block``: its first, one past it and its last (those that exist), none
    of them in a globally reachable block nested in it (those are tested on their own)."""
    net = ipaddress.ip_network(block)
    picks = {net.network_address, net.network_address + min(1, net.num_addresses - 1), net.broadcast_address}
    nested = [n for n in (ipaddress.ip_network(b) for b, _, reachable in REGISTRY if reachable)
              if n.version == net.version and n != net and n.subnet_of(net)]
    return sorted(a for a in picks if not any(a in n for n in nested))


def embeddings(ip: ipaddress.IPv4Address) -> dict[str, ipaddress.IPv6Address]:
    """``ip`` as the IPv6 forms that carry an IPv4 address."""
    v4 = int(ip)
    return {
        "mapped": ipaddress.IPv6Address((0xFFFF << 32) | v4),
        "6to4": ipaddress.IPv6Address((0x2002 << 112) | (v4 << 80) | 1),
        "teredo": ipaddress.IPv6Address((0x20010000 << 96) | (int(TEREDO_SERVER) << 64) | (0x8000 << 48)
                                        | (0x63BF << 32) | (~v4 & 0xFFFFFFFF)),
        "nat64": ipaddress.IPv6Address(int(ipaddress.IPv6Address("64:ff9b::")) | v4),
    }


NOT_GLOBAL = [(block, name) for block, name, reachable in REGISTRY if not reachable]


@pytest.mark.parametrize(("block", "name"), NOT_GLOBAL, ids=[b for b, _ in NOT_GLOBAL])
def test_every_block_that_is_not_globally_reachable_is_refused(block, name):
    addresses = inside(block)
    assert addresses, block
    for ip in addresses:
        assert forbidden_reason(ip), f"{ip} ({name}) is admitted"
        if ip.version == 4:
            for form, embedded in embeddings(ip).items():
                assert embedded.teredo is None or embedded.teredo[1] == ip
                assert forbidden_reason(embedded), f"{embedded} ({form} of {ip}, {name}) is admitted"


def test_the_blocks_refused_whole_are_the_registry_s():
    """``SPECIAL`` holds only registry blocks that are not globally reachable, and covers every
    one of them but the IPv4-mapped range (a mapped address is checked as the address it maps)."""
    not_global = {ipaddress.ip_network(block) for block, _ in NOT_GLOBAL}
    assert all(net in not_global for net, _ in SPECIAL)
    for net in not_global - {ipaddress.ip_network("::ffff:0:0/96")}:
        assert any(net.version == s.version and net.subnet_of(s) for s, _ in SPECIAL), net


GLOBAL_INSIDE_REFUSED = [block for block, _, reachable in REGISTRY if reachable and any(
    ipaddress.ip_network(block).version == net.version and ipaddress.ip_network(block).subnet_of(net)
    for net, _ in SPECIAL)]
GLOBAL_ELSEWHERE = [block for block, _, reachable in REGISTRY if reachable and block not in GLOBAL_INSIDE_REFUSED]


def test_globally_reachable_blocks_inside_refused_ones_are_refused_with_them():
    assert set(GLOBAL_INSIDE_REFUSED) == {"192.0.0.9/32", "192.0.0.10/32", "2001:1::1/128", "2001:1::2/128",
                                          "2001:1::3/128", "2001:3::/32", "2001:4:112::/48", "2001:20::/28",
                                          "2001:30::/28"}
    for block in GLOBAL_INSIDE_REFUSED:
        net = ipaddress.ip_network(block)
        assert forbidden_reason(net.network_address), block


def test_other_globally_reachable_blocks_and_public_addresses_are_admitted():
    assert set(GLOBAL_ELSEWHERE) == {"192.31.196.0/24", "192.52.193.0/24", "192.175.48.0/24", "64:ff9b::/96",
                                     "2620:4f:8000::/48"}
    for block in GLOBAL_ELSEWHERE:
        if block == "64:ff9b::/96":
            continue  # its addresses are NAT64 forms: admitted for a public IPv4 address, below
        net = ipaddress.ip_network(block)
        assert forbidden_reason(net.network_address + 1) is None, block
    for text in PUBLIC:
        ip = ipaddress.ip_address(text)
        assert forbidden_reason(ip) is None, text
        if ip.version == 4:
            forms = embeddings(ip)
            assert forbidden_reason(forms["mapped"]) is None and forbidden_reason(forms["nat64"]) is None
            # a 6to4 or Teredo address goes through a relay of unknown reach: refused whatever it embeds
            assert forbidden_reason(forms["6to4"]) and forbidden_reason(forms["teredo"])


@pytest.mark.parametrize(("address", "why"), [
    ("192.0.0.1", "192.0.0.0/24"),
    ("192.0.0.8", "192.0.0.0/24"),
    ("192.0.0.200", "192.0.0.0/24"),
    ("64:ff9b:1::808:808", "local-use NAT64 of a public address"),
    ("64:ff9b:1:ffff::1", "local-use NAT64"),
])
def test_the_blocks_that_were_admitted_are_refused(address, why):
    assert forbidden_reason(ipaddress.ip_address(address)), why
