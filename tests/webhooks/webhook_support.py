"""Helpers for the webhook tests: a real HTTP receiver on 127.0.0.1, a small API client,
settings on the webhook tests' own Redis databases. Every wait has a deadline."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

import redis
from standardwebhooks import Webhook
from support import call_api, close_open_work, http_server, make_settings, stop_http

from routefarm.contract.documents import WebhookEvent

# Their own Redis databases and broker namespace: tests/conftest.py flushes 10/11 for every
# test that asks for ``settings``, the pipeline tests use 14/15 and bench/api.py 12/13.
BROKER_DB = 8
CACHE_DB = 9
NAMESPACE = "rf-webhook-tests"
LOOPBACK = "127.0.0.0/8,::1"


def webhook_settings(databases: dict[str, str], redis_server: str, **overrides):
    """Test settings on Redis 8/9, loopback receivers admitted; earlier tests' open work closed."""
    for db in (BROKER_DB, CACHE_DB):
        redis.Redis.from_url(f"{redis_server}/{db}").flushdb()
    close_open_work([url for name, url in databases.items() if name != "directory"], deliveries=True)
    values = {"redis_url": f"{redis_server}/{BROKER_DB}", "cache_url": f"{redis_server}/{CACHE_DB}",
              "namespace": NAMESPACE, "webhook_allowlist": LOOPBACK, "webhook_jitter": 0.0}
    values.update(overrides)
    return make_settings(databases, redis_server, **values)


@dataclass
class Received:
    at: float
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def event(self) -> dict:
        """The event, held against its model (``WebhookEvent``: no member it does not name)."""
        event = json.loads(self.body)
        WebhookEvent.model_validate(event)
        return event


# (index of the request, request) -> status to answer, or (status, headers)
Answer = Callable[[int, Received], int | tuple[int, dict[str, str]]]


@dataclass
class Receiver:
    """An HTTP server in a thread: records every POST and answers ``answer(n, request)``.

    ``hang`` makes each request wait (until ``release()`` or ``hang`` seconds) before answering.
    """

    answer: Answer = lambda n, r: 200  # noqa: E731
    hang: float = 0.0
    requests: list[Received] = field(default_factory=list)
    _cond: threading.Condition = field(default_factory=threading.Condition)
    _released: threading.Event = field(default_factory=threading.Event)
    in_flight: int = 0

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length", "0"))
                got = Received(time.monotonic(), self.path, {k.lower(): v for k, v in self.headers.items()},
                               self.rfile.read(length))
                with receiver._cond:
                    index = len(receiver.requests)
                    receiver.requests.append(got)
                    receiver.in_flight += 1
                    receiver._cond.notify_all()
                try:
                    if receiver.hang:
                        receiver._released.wait(receiver.hang)
                    answer = receiver.answer(index, got)
                    status, headers = answer if isinstance(answer, tuple) else (answer, {})
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    pass
                finally:
                    with receiver._cond:
                        receiver.in_flight -= 1
                        receiver._cond.notify_all()

            def log_message(self, *args):
                pass

        self.server = http_server(Handler)
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def release(self) -> None:
        self._released.set()

    def stop(self) -> None:
        self.release()
        stop_http(self.server)

    def wait_for(self, predicate: Callable[[list[Received]], bool], timeout: float, what: str = "") -> list[Received]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate(self.requests):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"receiver: {what or 'condition'} not met within {timeout} s; "
                                         f"{len(self.requests)} request(s) so far")
                self._cond.wait(min(remaining, 0.5))
            return list(self.requests)

    def events(self, event_type: str | None = None) -> list[Received]:
        with self._cond:
            return [r for r in self.requests if event_type is None or r.event["type"] == event_type]


def verify(secret: str, request: Received) -> dict:
    """The event, once its Standard Webhooks signature checks out with ``secret``."""
    return Webhook(secret).verify(request.body, request.headers)


@dataclass
class Api:
    """A tiny client for the farm's API on 127.0.0.1 (one connection per request)."""

    port: int
    key: str

    def call(self, method: str, path: str, body: Any = None, timeout: float = 15.0) -> tuple[int, Any]:
        return call_api(self.port, method, path, self.key, body, timeout)

    def ok(self, method: str, path: str, body: Any = None, status: int | tuple = (200, 201, 202)) -> Any:
        got, doc = self.call(method, path, body)
        assert got in (status if isinstance(status, tuple) else (status,)), (method, path, got, doc)
        return doc

    def wait(self, path: str, predicate: Callable[[Any], bool], timeout: float, interval: float = 0.2) -> Any:
        deadline = time.monotonic() + timeout
        doc = None
        while time.monotonic() < deadline:
            doc = self.ok("GET", path)
            if predicate(doc):
                return doc
            time.sleep(interval)
        raise AssertionError(f"GET {path}: condition not met within {timeout} s; last {doc}")


def tiny_problem(n: int, time_limit: float = 0.1) -> dict:
    """A 2-stop problem, different for each ``n`` (so de-duplication answers none of them)."""
    return {
        "vehicles": [{"id": "v1", "start_index": 0, "end_index": 0, "capacity": [1000]}],
        "stops": [{"id": "a", "location_index": 1, "demand": [1 + n % 500]},
                  {"id": "b", "location_index": 2, "demand": [1 + n // 500]}],
        "matrix": {"distances": [[0, 5 + n, 7], [5 + n, 0, 3], [7, 3, 0]]},
        "options": {"time_limit": time_limit},
    }
