"""Helpers for the metrics tests: settings on Redis 2/3, a loopback receiver that always
answers 500, a scrape parser, and the PromQL metric-name extraction."""

from __future__ import annotations

import re
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import redis
from support import call_api, close_open_work, make_settings

# tests/conftest.py flushes 10/11; pipeline tests use 14/15, webhook tests 8/9, bench 12/13.
BROKER_DB = 2
CACHE_DB = 3
NAMESPACE = "rf-metrics-tests"


def metrics_settings(databases: dict[str, str], redis_server: str, **overrides):
    for db in (BROKER_DB, CACHE_DB):
        redis.Redis.from_url(f"{redis_server}/{db}").flushdb()
    close_open_work([url for name, url in databases.items() if name != "directory"], deliveries=True)
    values = {"redis_url": f"{redis_server}/{BROKER_DB}", "cache_url": f"{redis_server}/{CACHE_DB}",
              "namespace": NAMESPACE, "webhook_allowlist": "127.0.0.0/8,::1", "webhook_jitter": 0.0,
              "webhook_schedule": "0.2"}
    values.update(overrides)
    return make_settings(databases, redis_server, **values)


class FailingReceiver:
    """An HTTP server on 127.0.0.1 answering 500 to every POST; counts them."""

    def __init__(self) -> None:
        receiver = self
        self.count = 0

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.count += 1
                self.send_response(500)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def call(port: int, method: str, path: str, key: str, body: Any = None, timeout: float = 40) -> tuple[int, Any]:
    return call_api(port, method, path, key, body, timeout)


def scrape(url: str) -> dict[str, list]:
    """Family name as PromQL sees it (``_total`` on counters) -> its samples."""
    from prometheus_client.parser import text_string_to_metric_families

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=10) as response:
        text = response.read().decode()
    families: dict[str, list] = {}
    for family in text_string_to_metric_families(text):
        name = family.name + ("_total" if family.type == "counter" else "")
        families.setdefault(name, []).extend(family.samples)
    return families


def value(families: dict[str, list], name: str, **labels: str) -> float:
    """The sum of the samples of ``name`` (a family or a sample name) matching ``labels``."""
    samples = [s for ss in families.values() for s in ss if s.name == name]
    return sum(s.value for s in samples if all(s.labels.get(k) == v for k, v in labels.items()))


# -- PromQL -----------------------------------------------------------------------------------

KEYWORDS = {
    "sum", "min", "max", "avg", "count", "stddev", "stdvar", "topk", "bottomk", "quantile", "count_values",
    "group", "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless",
    "offset", "rate", "irate", "increase", "delta", "idelta", "deriv", "histogram_quantile", "clamp_min",
    "clamp_max", "abs", "absent", "vector", "scalar", "time", "label_replace", "predict_linear",
    "avg_over_time", "max_over_time", "min_over_time", "sum_over_time", "changes", "resets", "round", "le",
}
SUFFIXES = ("_bucket", "_sum", "_count", "_created")
IDENTIFIER = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects (label matchers, strings, durations,
    grouping lists, functions and keywords removed)."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # string literals
    expr = re.sub(r"\{[^}]*\}", "", expr)  # label matchers
    expr = re.sub(r"\[[^\]]*\]", "", expr)  # range selectors
    expr = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", expr)
    names = set()
    for match in IDENTIFIER.finditer(expr):
        word = match.group(0)
        start = match.start()
        if start > 0 and (expr[start - 1].isdigit() or expr[start - 1] == "."):
            continue  # part of a number such as 1e3 or 0.99
        rest = expr[match.end():].lstrip()
        if word in KEYWORDS or rest.startswith("("):
            continue
        names.add(word)
    return names


def family_of(name: str, known: set[str]) -> str:
    """``x_bucket`` -> ``x`` when ``x`` is a known histogram family; otherwise ``name``."""
    if name in known:
        return name
    for suffix in SUFFIXES:
        if name.endswith(suffix) and name[: -len(suffix)] in known:
            return name[: -len(suffix)]
    return name
