"""Webhook targets checked at submission: every URL's form, then each distinct host resolved
once, all hosts concurrently, under one deadline for the whole request.

``getaddrinfo`` cannot be interrupted, so lookups run on a small pool of threads that the
process shares. At the deadline the request answers with what it has: a host still being
resolved is refused ("did not resolve within 2 s"); its lookup goes on in its thread and
its answer lands in the cache for the next request. Lookups not started by then are
cancelled, so a request leaves at most ``THREADS`` lookups behind, never a queue.

Answers are kept for ``ANSWER_TTL_S`` (failures for ``FAILURE_TTL_S``), at most
``MAX_HOSTS`` of them: a batch of a thousand jobs naming one host asks the resolver once,
and so does the next request naming it. Delivery resolves and checks again, each time.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_for
from typing import Any

from .ssrf import Network, Refused, Resolver, admit, check_url, literal_ip, system_resolver

THREADS = 16
ANSWER_TTL_S = 30.0
FAILURE_TTL_S = 5.0
MAX_HOSTS = 4096

Key = tuple[str, int]


class HostCache:
    """Resolved hosts, shared by the requests of one process; lookups in flight are shared too."""

    def __init__(self, resolver: Resolver = system_resolver, threads: int = THREADS):
        self._resolver = resolver
        self._threads = threads
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._entries: OrderedDict[Key, tuple[float, Future]] = OrderedDict()

    def lookup(self, keys: Iterable[Key], deadline_s: float) -> dict[Key, list[str] | Exception | None]:
        """Each host's addresses, or the exception its lookup raised, or None: not resolved
        within ``deadline_s`` (counted from the call, for all hosts together)."""
        with self._lock:
            futures = {key: self._future(key) for key in dict.fromkeys(keys)}
        wait_for(futures.values(), timeout=deadline_s)
        answers: dict[Key, list[str] | Exception | None] = {}
        for key, future in futures.items():
            if not future.done():
                if future.cancel():  # not started: nobody waits for it any more
                    self._forget(key, future)
                answers[key] = None
            elif future.cancelled():
                answers[key] = None
            else:
                answers[key] = future.exception() or future.result()
        return answers

    def _future(self, key: Key) -> Future:
        now = time.monotonic()
        entry = self._entries.get(key)
        if entry is not None:
            created, future = entry
            if not future.done():
                return future
            ttl = FAILURE_TTL_S if future.cancelled() or future.exception() else ANSWER_TTL_S
            if now - created < ttl:
                self._entries.move_to_end(key)
                return future
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self._threads, thread_name_prefix="webhook-dns")
        future = self._pool.submit(self._resolver, *key)
        self._entries[key] = (now, future)
        self._entries.move_to_end(key)
        while len(self._entries) > MAX_HOSTS:
            self._entries.popitem(last=False)
        return future

    def _forget(self, key: Key, future: Future) -> None:
        with self._lock:
            if self._entries.get(key, (0, None))[1] is future:
                del self._entries[key]


_shared: HostCache | None = None
_shared_lock = threading.Lock()


def shared_cache() -> HostCache:
    """The process's cache (made on first use: importing this module starts no thread)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = HostCache()
        return _shared


class Targets:
    """The SSRF check of submitted webhook URLs, bounded in time per request."""

    def __init__(self, allowlist: tuple[Network, ...], deadline_s: float, cache: HostCache | None = None):
        self.allowlist = allowlist
        self.deadline_s = deadline_s
        self._cache = cache

    def issues(self, urls: Iterable[tuple[str, Any]]) -> list[tuple[str, str]]:
        """(pointer, message) for every URL of ``(pointer, url)`` the guard refuses."""
        issues: list[tuple[str, str]] = []
        named: list[tuple[str, Key]] = []
        for pointer, url in urls:
            if not isinstance(url, str):
                issues.append((pointer, "must be an http or https URL"))
                continue
            try:
                _, host, port, _ = check_url(url)
                if literal_ip(host) is not None:
                    admit(host, [host], self.allowlist)
                else:
                    named.append((pointer, (host, port)))
            except Refused as exc:
                issues.append((pointer, str(exc)))
        if not named:
            return issues
        cache = self._cache or shared_cache()
        answers = cache.lookup((key for _, key in named), self.deadline_s)
        for pointer, key in named:
            issue = self._verdict(key[0], answers[key])
            if issue:
                issues.append((pointer, issue))
        return issues

    def _verdict(self, host: str, answer: list[str] | Exception | None) -> str | None:
        if answer is None:
            return (f"host {host!r} did not resolve within {self.deadline_s:g} s"
                    " (the request's deadline for webhook hosts)")
        if isinstance(answer, Exception):
            return f"host {host!r} does not resolve ({answer})"
        try:
            admit(host, answer, self.allowlist)
        except Refused as exc:
            return str(exc)
        return None
