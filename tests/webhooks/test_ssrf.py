"""The SSRF guard: a table of URLs and addresses it must refuse and admit (no connection is
ever made: the guard only parses and resolves)."""

from __future__ import annotations

import ipaddress

import pytest

from routefarm.webhooks.ssrf import Refused, forbidden_reason, parse_allowlist, resolve

LOOPBACK = parse_allowlist("127.0.0.0/8,::1")


def fixed(*addresses: str):
    """A resolver answering ``addresses`` for any name (DNS as an attacker would set it)."""
    return lambda host, port: list(addresses)


@pytest.mark.parametrize(("url", "why"), [
    ("http://127.0.0.1/hook", "loopback"),
    ("http://127.1/hook", "loopback"),  # short form, resolved by the system resolver
    ("http://2130706433/", "loopback"),  # 127.0.0.1 as one integer
    ("http://[::1]:8080/hook", "loopback"),
    ("http://[::ffff:127.0.0.1]/", "loopback"),  # IPv4-mapped IPv6
    ("http://[::ffff:10.0.0.1]/", "private"),
    ("http://[::ffff:169.254.169.254]/", "link-local"),
    ("http://169.254.169.254/latest/meta-data/", "link-local"),  # cloud metadata
    ("http://[fe80::1]/", "link-local"),
    ("http://100.64.0.1/", "CGNAT"),
    ("http://100.127.255.254/", "CGNAT"),
    ("http://10.1.2.3/", "private"),
    ("http://172.16.0.1/", "private"),
    ("http://192.168.1.1/", "private"),
    ("http://[fc00::1]/", "private"),
    ("http://[fd12:3456::1]/", "private"),
    ("http://[fec0::1]/", "site-local"),
    ("http://0.0.0.0/", "unspecified"),
    ("http://[::]/", "unspecified"),
    ("http://224.0.0.1/", "multicast"),
    ("http://[ff02::1]/", "multicast"),
    ("http://240.0.0.1/", "reserved"),
    ("http://255.255.255.255/", "reserved"),
    ("http://0.1.2.3/", "private"),  # "this network"
    ("http://192.0.2.1/", "private"),  # documentation range
    ("http://[2002:7f00:1::]/", "loopback"),  # 6to4 embedding 127.0.0.1
    ("http://[2002:a9fe:a9fe::]/", "link-local"),  # 6to4 embedding 169.254.169.254
    ("http://[64:ff9b::7f00:1]/", "loopback"),  # NAT64 of 127.0.0.1
    ("http://[64:ff9b::a00:1]/", "private"),  # NAT64 of 10.0.0.1
    ("http://[::127.0.0.1]/", "loopback"),  # IPv4-compatible
    ("http://localhost/hook", "loopback"),  # a name resolving to loopback
    ("http://LOCALHOST:9000/", "loopback"),
])
def test_refused_addresses(url, why):
    with pytest.raises(Refused, match=why):
        resolve(url)


@pytest.mark.parametrize(("url", "message"), [
    ("ftp://93.184.216.34/", "http or https"),
    ("file:///etc/passwd", "http or https"),
    ("gopher://93.184.216.34:70/", "http or https"),
    ("//93.184.216.34/", "http or https"),
    ("http://user:pass@93.184.216.34/", "credentials"),
    ("http:///nohost", "host"),
    ("http://93.184.216.34:99999/", "not a valid URL"),
    ("http://93.184.216.34/a b", "spaces"),
    ("http://93.184.216.34/#frag", "fragment"),
    ("", "http or https"),
])
def test_refused_urls(url, message):
    with pytest.raises(Refused, match=message):
        resolve(url)


@pytest.mark.parametrize("addresses", [
    ("93.184.216.34", "127.0.0.1"),  # one bad answer among good ones is enough to refuse
    ("10.0.0.7",),
    ("::ffff:192.168.0.1",),
])
def test_names_are_checked_on_every_resolved_address(addresses):
    with pytest.raises(Refused, match="resolves to"):
        resolve("https://hooks.example.test/x", resolver=fixed(*addresses))


def test_a_name_that_does_not_resolve_is_refused():
    def nowhere(host, port):
        raise OSError("Name or service not known")

    with pytest.raises(Refused, match="does not resolve"):
        resolve("https://hooks.example.test/", resolver=nowhere)


@pytest.mark.parametrize(("url", "address"), [
    ("http://93.184.216.34/hook?x=1", "93.184.216.34"),  # admitted, never connected to
    ("https://8.8.8.8:8443/", "8.8.8.8"),
    ("https://[2606:4700::1111]/", "2606:4700::1111"),
    ("http://[::ffff:93.184.216.34]/", "::ffff:5db8:d822"),  # mapped public IPv4
    ("http://[64:ff9b::5db8:d822]/", "64:ff9b::5db8:d822"),  # NAT64 of a public address
])
def test_public_addresses_are_admitted(url, address):
    target = resolve(url)
    assert target.address == address


def test_target_keeps_the_name_and_the_checked_address():
    target = resolve("https://Hooks.Example.test:8443/in?a=1", resolver=fixed("93.184.216.34"))
    assert (target.scheme, target.host, target.port, target.path, target.address) == (
        "https", "hooks.example.test", 8443, "/in?a=1", "93.184.216.34")


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/", "http://localhost/", "http://[::1]/",
                                 "http://[::ffff:127.0.0.1]/"])
def test_the_allowlist_admits_exceptions(url):
    assert resolve(url, LOOPBACK).address


def test_the_allowlist_admits_only_what_it_names():
    with pytest.raises(Refused, match="private"):
        resolve("http://10.0.0.1/", LOOPBACK)
    assert resolve("http://10.0.0.1/", parse_allowlist("10.0.0.0/24")).address == "10.0.0.1"


def test_bad_allowlist_entries_are_reported():
    with pytest.raises(ValueError, match="'intranet'"):
        parse_allowlist("127.0.0.1, intranet")
    assert parse_allowlist(" ") == ()


def test_reason_names_the_embedded_address():
    reason = forbidden_reason(ipaddress.ip_address("::ffff:169.254.169.254"))
    assert reason == "embeds a link-local address (169.254.169.254)"
    assert forbidden_reason(ipaddress.ip_address("93.184.216.34")) is None
