"""Webhook hosts at submission: each distinct host resolved once per request (and shared by
requests through a short-lived cache), all at once, under one deadline for the request.

A slow resolver is a resolver function that takes its time, as a DNS server that does not
answer makes getaddrinfo do; the API-level tests are in tests/security/test_ssrf_api.py."""

from __future__ import annotations

import threading
import time

from routefarm.webhooks import lookup
from routefarm.webhooks.lookup import HostCache, Targets
from routefarm.webhooks.ssrf import parse_allowlist, system_resolver


class Counting:
    """The system resolver, counting what it is asked."""

    def __init__(self):
        self.asked: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, host: str, port: int) -> list[str]:
        with self.lock:
            self.asked.append(host)
        return system_resolver(host, port)


class Silent:
    """A resolver whose server never answers (until released)."""

    def __init__(self):
        self.release = threading.Event()
        self.started = 0
        self.lock = threading.Lock()

    def __call__(self, host: str, port: int) -> list[str]:
        with self.lock:
            self.started += 1
        self.release.wait(30)
        raise OSError("no answer")


LOOPBACK = parse_allowlist("127.0.0.0/8,::1")


def test_a_host_named_by_many_jobs_is_resolved_once_and_then_from_the_cache():
    resolver = Counting()
    targets = Targets(LOOPBACK, 2.0, HostCache(resolver))
    urls = [(f"/jobs/{i}/webhook/url", f"http://localhost:{8000 + i % 3}/hook") for i in range(500)]
    assert targets.issues(urls) == []
    assert sorted(resolver.asked) == ["localhost"] * 3  # one lookup per host and port
    assert targets.issues(urls[:10]) == []
    assert len(resolver.asked) == 3, "the second request was answered from the cache"


def test_every_job_naming_a_refused_host_gets_its_error():
    targets = Targets((), 2.0, HostCache(Counting()))
    urls = [(f"/jobs/{i}/webhook/url", "http://localhost/hook" if i % 2 else f"http://h{i}.invalid/")
            for i in range(20)]
    issues = dict(targets.issues(urls))
    assert sorted(issues) == sorted(p for p, _ in urls)
    assert all("loopback" in issues[f"/jobs/{i}/webhook/url"] for i in range(1, 20, 2))
    assert all("does not resolve" in issues[f"/jobs/{i}/webhook/url"] for i in range(0, 20, 2))


def test_forms_and_literal_addresses_are_checked_without_the_resolver():
    resolver = Counting()
    targets = Targets((), 2.0, HostCache(resolver))
    issues = dict(targets.issues([("/a", "ftp://x.example/"), ("/b", 42), ("/c", "http://10.1.2.3/"),
                                  ("/d", "http://93.184.216.34/")]))
    assert set(issues) == {"/a", "/b", "/c"} and "private" in issues["/c"]
    assert resolver.asked == []


def test_a_silent_resolver_costs_one_deadline_for_all_hosts(monkeypatch):
    monkeypatch.setattr(lookup, "FAILURE_TTL_S", 0.0)
    resolver = Silent()
    targets = Targets((), 0.5, HostCache(resolver, threads=4))
    urls = [(f"/jobs/{i}/webhook/url", f"https://h{i}.example/") for i in range(1000)]
    began = time.monotonic()
    issues = dict(targets.issues(urls))
    took = time.monotonic() - began
    try:
        assert 0.5 <= took < 1.0, took
        assert len(issues) == 1000
        assert all("did not resolve within 0.5 s" in m for m in issues.values())
        assert resolver.started == 4, "lookups not started by the deadline are cancelled"
        # the next request waits on the same lookups in flight, not on new ones
        began = time.monotonic()
        assert len(targets.issues(urls[:4])) == 4
        assert time.monotonic() - began < 1.0 and resolver.started == 4
    finally:
        resolver.release.set()


def test_an_answer_that_comes_after_the_deadline_serves_the_next_request():
    gate = threading.Event()

    def late(host: str, port: int) -> list[str]:
        gate.wait(5)
        return ["93.184.216.34"]

    targets = Targets((), 0.2, HostCache(late))
    url = [("/webhook/url", "https://late.example/hook")]
    assert "did not resolve" in targets.issues(url)[0][1]
    gate.set()
    time.sleep(0.05)
    assert targets.issues(url) == []


def test_importing_the_module_starts_no_thread():
    before = {t.name for t in threading.enumerate()}
    HostCache()
    assert not {t.name for t in threading.enumerate()} - before


def test_answers_expire(monkeypatch):
    resolver = Counting()
    cache = HostCache(resolver)
    cache.lookup([("localhost", 80)], 2.0)
    monkeypatch.setattr(lookup, "ANSWER_TTL_S", 0.0)
    cache.lookup([("localhost", 80)], 2.0)
    assert resolver.asked == ["localhost", "localhost"]
