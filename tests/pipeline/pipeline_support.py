"""Helpers for the pipeline acceptance tests: HTTP, problems, shard rows, a TCP proxy.

Everything here talks to 127.0.0.1 only, and every wait has a deadline.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import random
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import psycopg
import redis
from psycopg.rows import dict_row
from support import Processes, close_open_work, free_port, make_settings, settings_env, wait_http  # noqa: F401

TESTS = Path(__file__).resolve().parents[1]
TERMINAL = ("succeeded", "failed", "cancelled")

# The pipeline tests use their own Redis databases and broker namespace, so that they never
# share a queue with other test modules or the benchmark run at the same time on a developer's
# machine (tests/conftest.py flushes 10 and 11 for every test that asks for ``settings``;
# bench/api.py flushes 12 and 13).
BROKER_DB = 14
CACHE_DB = 15
NAMESPACE = "rf-pipeline-tests"


IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def flush_redis(redis_server: str) -> None:
    for db in (BROKER_DB, CACHE_DB):
        redis.Redis.from_url(f"{redis_server}/{db}").flushdb()


def close_open_jobs(databases: dict[str, str]) -> None:
    """Cancel the jobs an earlier test left queued or running (the shards live for the session):
    a reaper must not hand them to this test's workers."""
    close_open_work(shard_dsns(databases).values())


def pipeline_settings(databases: dict[str, str], redis_server: str, **overrides):
    """The test settings (lease 6 s, reaper 1 s, orphan grace 2 s) on the pipeline's Redis DBs."""
    flush_redis(redis_server)
    close_open_jobs(databases)
    values = {"redis_url": f"{redis_server}/{BROKER_DB}", "cache_url": f"{redis_server}/{CACHE_DB}",
              "namespace": NAMESPACE}
    values.update(overrides)
    return make_settings(databases, redis_server, **values)


# -- HTTP -----------------------------------------------------------------------------------


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: Any
    elapsed: float
    raw: bytes = b""

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip()


class Api:
    """A tiny HTTP client for the farm's API (one connection per request)."""

    def __init__(self, url: str):
        parsed = urlparse(url)
        assert parsed.hostname == "127.0.0.1", url
        self.host, self.port = parsed.hostname, parsed.port

    def call(self, method: str, path: str, key: str | None = None, body: Any = None,
             headers: dict[str, str] | None = None, timeout: float = 15.0) -> Response:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        sent = dict(headers or {})
        if key is not None:
            sent["Authorization"] = f"Bearer {key}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            sent["Content-Type"] = "application/json"
        started = time.monotonic()
        try:
            conn.request(method, path, body=data, headers=sent)
            response = conn.getresponse()
            raw = response.read()
            elapsed = time.monotonic() - started
            got = {k.lower(): v for k, v in response.getheaders()}
        finally:
            conn.close()
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        return Response(response.status, got, parsed, elapsed, raw)

    def submit(self, key: str, problem: dict, metadata: dict | None = None, **kwargs) -> Response:
        body = {"problem": problem}
        if metadata is not None:
            body["metadata"] = metadata
        return self.call("POST", "/v1/jobs", key, body, **kwargs)

    def submit_ok(self, key: str, problem: dict, metadata: dict | None = None) -> str:
        response = self.submit(key, problem, metadata)
        assert response.status == 202, (response.status, response.body)
        return response.body["id"]

    def job(self, key: str, job_id: str, wait: float | None = None, timeout: float | None = None,
            include: str | None = None) -> Response:
        query = "&".join(([f"wait={wait:g}"] if wait is not None else []) + ([f"include={include}"] if include else []))
        path = f"/v1/jobs/{job_id}" + (f"?{query}" if query else "")
        return self.call("GET", path, key, timeout=timeout or (wait or 0) + 15)

    def cancel(self, key: str, job_id: str) -> Response:
        return self.call("DELETE", f"/v1/jobs/{job_id}", key)

    def wait_terminal(self, key: str, job_id: str, timeout: float, poll: float = 30) -> dict:
        """Long-poll until the job is terminal; fail after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        doc = None
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"job {job_id} not terminal within {timeout} s: {doc}")
            response = self.job(key, job_id, wait=max(0.0, min(poll, remaining)))
            assert response.status == 200, (response.status, response.body)
            doc = response.body
            if doc["status"] in TERMINAL:
                return doc

    def wait_all(self, key: str, job_ids, timeout: float, databases: dict[str, str] | None = None) -> dict:
        """Long-poll every job until terminal, all within ``timeout`` seconds; {id: document}.
        A job still open at the deadline fails the test with its row's status (when
        ``databases`` is given) next to what the API answered."""
        deadline = time.monotonic() + timeout
        docs = {}
        for job_id in job_ids:
            try:
                docs[job_id] = self.wait_terminal(key, job_id, timeout=max(1.0, deadline - time.monotonic()))
            except AssertionError as exc:
                if databases is None:
                    raise
                rows = [(s, r["status"], r["attempts"]) for s, r in locate(databases, [job_id])[job_id]]
                raise AssertionError(f"{exc}\n(shard, status, attempts) of its row(s): {rows}") from None
        return docs

    def wait_status(self, key: str, job_id: str, predicate, timeout: float, interval: float = 0.1,
                    include: str | None = None) -> dict:
        """Poll (no long-poll) until ``predicate(doc)``; fail after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        doc = None
        while time.monotonic() < deadline:
            response = self.job(key, job_id, include=include)
            assert response.status == 200, (response.status, response.body)
            doc = response.body
            if predicate(doc):
                return doc
            time.sleep(interval)
        raise AssertionError(f"job {job_id}: condition not met within {timeout} s; last {doc}")


# -- problems -------------------------------------------------------------------------------


def random_problem(rng: random.Random, stops: int, time_limit: float, vehicles: int | None = None,
                   capacity: int = 40) -> dict:
    """Stops scattered within ~5 km of a depot (great-circle travel), random demands."""
    vehicles = vehicles or max(1, (stops + 9) // 10)
    depot = [13.40, 52.52]
    return {
        "vehicles": [{"id": f"v{i}", "start": depot, "end": depot, "capacity": [capacity]}
                     for i in range(vehicles)],
        "stops": [{"id": f"s{i}",
                   "location": [round(depot[0] + rng.uniform(-0.05, 0.05), 6),
                                round(depot[1] + rng.uniform(-0.03, 0.03), 6)],
                   "demand": [rng.randint(1, 6)]}
                  for i in range(stops)],
        "options": {"time_limit": time_limit},
    }


def assert_valid_solution(problem: dict, solution: dict) -> None:
    from optimizer import check, parse_problem

    assert solution is not None, "no solution"
    violations = check(parse_problem(problem), solution)
    assert violations == [], "\n".join(map(str, violations))


# -- shards ---------------------------------------------------------------------------------


def shard_dsns(databases: dict[str, str]) -> dict[str, str]:
    """Direct DSNs of the shards (never through a test proxy)."""
    return {name: url for name, url in databases.items() if name != "directory"}


def client_shard(databases: dict[str, str], client_id: str) -> str:
    with psycopg.connect(databases["directory"]) as conn:
        row = conn.execute("SELECT shard FROM client_shards WHERE client_id = %s", (client_id,)).fetchone()
    assert row is not None, f"client {client_id} has no shard"
    return row[0]


def job_rows(databases: dict[str, str], job_ids, columns: str = "*") -> dict[str, list[dict]]:
    """shard name -> the rows among ``job_ids`` found there (read straight from each shard)."""
    ids = list(job_ids)
    found = {}
    for name, url in shard_dsns(databases).items():
        with psycopg.connect(url) as conn, conn.cursor(row_factory=dict_row) as cur:
            cur.execute(f"SELECT {columns} FROM jobs WHERE id = ANY(%s::uuid[])", (ids,))
            found[name] = cur.fetchall()
    return found


def locate(databases: dict[str, str], job_ids) -> dict[str, list[tuple[str, dict]]]:
    """job id -> [(shard, row), ...] for every copy of the row across all shards."""
    where: dict[str, list[tuple[str, dict]]] = {str(j): [] for j in job_ids}
    for shard, rows in job_rows(databases, job_ids).items():
        for row in rows:
            where.setdefault(str(row["id"]), []).append((shard, row))
    return where


def client_row_counts(databases: dict[str, str], client_id: str) -> dict[str, int]:
    counts = {}
    for name, url in shard_dsns(databases).items():
        with psycopg.connect(url) as conn:
            counts[name] = conn.execute("SELECT count(*) FROM jobs WHERE client_id = %s",
                                        (client_id,)).fetchone()[0]
    return counts


AUDIT_SQL = """
CREATE TABLE IF NOT EXISTS rf_test_transitions (
    seq        bigserial PRIMARY KEY,
    job_id     uuid NOT NULL,
    old_status text,
    new_status text NOT NULL,
    attempts   integer NOT NULL,
    worker     text,
    at         timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE OR REPLACE FUNCTION rf_test_audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO rf_test_transitions (job_id, old_status, new_status, attempts, worker)
    VALUES (NEW.id, CASE WHEN TG_OP = 'UPDATE' THEN OLD.status END, NEW.status, NEW.attempts, NEW.worker);
    RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS rf_test_audit_insert ON jobs;
DROP TRIGGER IF EXISTS rf_test_audit_update ON jobs;
CREATE TRIGGER rf_test_audit_insert AFTER INSERT ON jobs FOR EACH ROW EXECUTE FUNCTION rf_test_audit();
CREATE TRIGGER rf_test_audit_update AFTER UPDATE ON jobs FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION rf_test_audit();
TRUNCATE rf_test_transitions;
"""

AUDIT_DROP = """
DROP TRIGGER IF EXISTS rf_test_audit_insert ON jobs;
DROP TRIGGER IF EXISTS rf_test_audit_update ON jobs;
DROP TABLE IF EXISTS rf_test_transitions;
DROP FUNCTION IF EXISTS rf_test_audit();
"""


@dataclass
class Audit:
    """Every status change of every job, recorded by a trigger on each shard (test only)."""

    databases: dict[str, str]

    def install(self) -> Audit:
        for url in shard_dsns(self.databases).values():
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(AUDIT_SQL)
        return self

    def remove(self) -> None:
        for url in shard_dsns(self.databases).values():
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(AUDIT_DROP)

    def transitions(self, job_id: str) -> list[dict]:
        out = []
        for shard, url in shard_dsns(self.databases).items():
            with psycopg.connect(url) as conn, conn.cursor(row_factory=dict_row) as cur:
                cur.execute("SELECT seq, job_id, old_status, new_status, attempts, worker, at"
                            " FROM rf_test_transitions WHERE job_id = %s ORDER BY seq", (job_id,))
                out += [dict(r, shard=shard) for r in cur.fetchall()]
        return sorted(out, key=lambda r: r["at"])

    def path(self, job_id: str) -> list[str]:
        return [t["new_status"] for t in self.transitions(job_id)]


# -- processes ------------------------------------------------------------------------------


def kill_group(proc, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)


def log_tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


# -- a TCP proxy the test can cut -----------------------------------------------------------


@dataclass
class TcpProxy:
    """127.0.0.1:port -> target; ``stop()`` closes the listener and every connection,
    ``start()`` listens again on the same port."""

    target_port: int
    port: int = 0
    target_host: str = "127.0.0.1"
    _listener: socket.socket | None = None
    _sockets: set = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _threads: list = field(default_factory=list)
    _running: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self):
        self.port = self.port or free_port()

    def start(self) -> TcpProxy:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        deadline = time.monotonic() + 10
        while True:
            try:
                listener.bind(("127.0.0.1", self.port))
                break
            except OSError:
                if time.monotonic() > deadline:
                    listener.close()
                    raise
                time.sleep(0.1)
        listener.listen(64)
        listener.settimeout(0.1)
        self._listener = listener
        self._running.set()
        thread = threading.Thread(target=self._accept, args=(listener,), name="proxy-accept", daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def _accept(self, listener: socket.socket) -> None:
        while self._running.is_set():
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            try:
                upstream = socket.create_connection((self.target_host, self.target_port), timeout=3)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                if not self._running.is_set():
                    client.close()
                    upstream.close()
                    return
                self._sockets.update((client, upstream))
            for src, dst in ((client, upstream), (upstream, client)):
                pump = threading.Thread(target=self._pump, args=(src, dst), name="proxy-pump", daemon=True)
                pump.start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
            with self._lock:
                for s in (src, dst):
                    if s in self._sockets:
                        self._sockets.discard(s)
                        s.close()

    def stop(self) -> None:
        self._running.clear()
        with self._lock:
            if self._listener is not None:
                self._listener.close()
                self._listener = None
            for s in list(self._sockets):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()
            self._sockets.clear()
        for thread in self._threads:
            thread.join(2)
        self._threads.clear()

    @property
    def connections(self) -> int:
        with self._lock:
            return len(self._sockets) // 2
