"""Helpers for tests that run the farm: settings for the test databases, real processes."""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import json
import os
import socket
import subprocess
import sys
import threading
import time
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

SMALL_PROBLEM = {
    "vehicles": [{"id": "v1", "start_index": 0, "end_index": 0, "capacity": [10]}],
    "stops": [{"id": "a", "location_index": 1, "demand": [1]}, {"id": "b", "location_index": 2, "demand": [2]}],
    "matrix": {"distances": [[0, 5, 7], [5, 0, 3], [7, 3, 0]]},
    "options": {"time_limit": 0.2},
}


def make_settings(databases, redis_server, **overrides):
    from routefarm.settings import Settings

    values = dict(
        directory_url=databases["directory"],
        shard_urls=",".join(url for name, url in databases.items() if name != "directory"),
        redis_url=f"{redis_server}/10",
        cache_url=f"{redis_server}/11",
        lease_s=6.0,
        reaper_interval_s=1.0,
        orphan_grace_s=2.0,
        dedup_window_s=3600.0,
        rate_limit=1000.0,
        rate_burst=1000,
    )
    values.update(overrides)
    return Settings(**values)


def settings_env(settings) -> dict[str, str]:
    """The ROUTEFARM_* environment that gives a child process these settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROUTEFARM_")}
    for name, value in settings.model_dump().items():
        env[f"ROUTEFARM_{name.upper()}"] = str(value)
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening_hosts(port: int) -> set[str]:
    """The local addresses this machine's TCP sockets listen on at ``port`` (from /proc/net)."""
    hosts = set()
    for table, width in (("/proc/net/tcp", 4), ("/proc/net/tcp6", 16)):
        with open(table, encoding="ascii") as lines:
            next(lines)
            for line in lines:
                local, state = line.split()[1], line.split()[3]
                address, _, hex_port = local.partition(":")
                if state == "0A" and int(hex_port, 16) == port:  # LISTEN
                    raw = bytes.fromhex(address)
                    # the kernel writes each 32-bit word in host (little-endian) order
                    raw = b"".join(raw[i:i + 4][::-1] for i in range(0, width, 4))
                    hosts.add(str(ipaddress.ip_address(raw)))
    return hosts


class Processes:
    """Real farm processes (web, workers, stream) started from the Procfile's commands."""

    def __init__(self, settings, tmp_path: Path):
        self.settings = settings
        self.env = settings_env(settings)
        self.logs = tmp_path
        self.children: dict[str, subprocess.Popen] = {}
        self.port = None

    def _start(self, name: str, command: list[str], extra_env: dict[str, str] | None = None):
        log = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        env = {**self.env, **(extra_env or {})}
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        self.children[name] = proc
        return proc

    def web(self, port: int | None = None):
        self.port = port or free_port()
        proc = self._start("web", [sys.executable, "-m", "gunicorn", "--config", "python:api.gunicorn_conf",
                                   "api.wsgi:app"], {"PORT": str(self.port), "HOST": "127.0.0.1", "WEB_CONCURRENCY": "2"})
        wait_http(f"http://127.0.0.1:{self.port}/healthz")
        return proc

    def worker(self, name: str = "worker", env: dict[str, str] | None = None):
        return self._start(name, [sys.executable, "-m", "workers.run", "workers.main:setup", "--processes", "1",
                                  "--threads", "1", "--queues", "solve"],
                           {"dramatiq_queue_prefetch": "1", "dramatiq_worker_timeout": "5", **(env or {})})

    def stream(self):
        return self._start("stream", [sys.executable, "-m", "workers.stream"])

    def webhook(self, name: str = "webhook", threads: int = 8):
        """The webhook delivery process (the Procfile's ``webhook``): many threads, its own queue."""
        return self._start(name, [sys.executable, "-m", "workers.run", "workers.main:setup", "--processes", "1",
                                  "--threads", str(threads), "--queues", "webhooks"],
                           {"dramatiq_worker_timeout": "50"})

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self, name: str, timeout: float = 30) -> None:
        proc = self.children.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, 15)
            proc.wait(timeout)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, 9)
            proc.wait(5)

    def stop_all(self) -> None:
        for name in list(self.children):
            self.stop(name, timeout=15)


def http_server(handler) -> ThreadingHTTPServer:
    """An HTTP server on 127.0.0.1 (a free port) serving ``handler`` (a
    ``BaseHTTPRequestHandler`` class) from daemon threads; ``stop_http`` ends it."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
    return server


def stop_http(server: ThreadingHTTPServer) -> None:
    server.shutdown()  # returns once serve_forever has
    server.server_close()


def send_json(handler, status: int, body: bytes) -> None:
    """Answer the request ``handler`` serves with ``body`` as JSON."""
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def wait_http(url: str, timeout: float = 30.0) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} did not answer within {timeout} s")
        time.sleep(0.2)


def call_api(port: int, method: str, path: str, key: str, body: Any = None,
             timeout: float = 15.0) -> tuple[int, Any]:
    """One JSON request to the farm's API on 127.0.0.1 with ``key``: (status, decoded body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    headers = {"Authorization": f"Bearer {key}"}
    data = None
    if body is not None:
        data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
    try:
        conn.request(method, path, body=data, headers=headers)
        response = conn.getresponse()
        raw = response.read()
    finally:
        conn.close()
    return response.status, (json.loads(raw) if raw else None)


def solved_job(farm, client_id: str, problem: dict, worker: str = "test-worker") -> tuple[str, dict]:
    """A succeeded job of the client, solved here and stored through the job store as a worker
    stores it (claim, then finish with the checked solution): (job id, solution JSON)."""
    import uuid

    from optimizer import check, parse_problem
    from optimizer.engines import engine
    from routefarm.jobs.submit import submit

    parsed = parse_problem(problem)
    solution = engine("ortools").solve(parsed, time_limit=parsed.options.time_limit or 0.5, seed=1)
    assert check(parsed, solution) == []
    accepted = submit(farm, client_id, {"problem": problem, "metadata": {"base": True}})
    job_id = uuid.UUID(accepted.document["id"])
    if accepted.document["status"] == "succeeded":  # the same problem was solved a moment ago
        return str(job_id), farm.store.get(client_id, job_id)["solution"]
    assert farm.store.claim(client_id, job_id, worker, 30.0) is not None
    doc = solution.to_json_dict()
    assert farm.store.finish(client_id, job_id, worker, "succeeded", doc, None) is not None
    return str(job_id), doc


PROBLEM_JSON = "application/problem+json"
PUBLIC_HOOK = "https://93.184.216.34/hooks"  # a public address: admitted by the SSRF guard, never called


def hermetic_dns(monkeypatch) -> None:
    """Names other than ``localhost`` do not resolve (addresses still do, in every form the
    system resolver reads: ``127.1``, ``0x7f.1``, ``2130706433``): webhook URLs a test
    invents are refused without a DNS query leaving the machine."""
    real = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        text = host.decode() if isinstance(host, bytes) else host
        if text is None or text == "localhost" or _is_address(text):
            return real(host, *args, **kwargs)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known (DNS is off in tests)")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text.split("%", 1)[0])
        return True
    except ValueError:
        pass
    try:
        socket.inet_aton(text)
    except (OSError, ValueError):
        return False
    return True


def seed_resources(http, farm, client_id: str, headers: dict) -> dict[str, str]:
    """One resource of each kind for the client, made through the API (the succeeded job as
    a worker stores it): ids by path parameter name (``job_id`` is a succeeded job), plus
    ``queued_job_id`` (of the batch) and ``cancelled_job_id`` (the delivery's)."""
    endpoint = http.post("/v1/webhooks/endpoints", json={"url": PUBLIC_HOOK, "event_types": ["job.cancelled"]},
                         headers=headers).get_json()
    cancelled = http.post("/v1/jobs", json={"problem": {**SMALL_PROBLEM, "options": {"time_limit": 0.3}}},
                          headers=headers).get_json()
    assert http.delete(f"/v1/jobs/{cancelled['id']}", headers=headers).status_code == 200
    [delivery] = http.get(f"/v1/jobs/{cancelled['id']}/deliveries", headers=headers).get_json()["deliveries"]
    batch = http.post("/v1/batches", json={"jobs": [{"problem": {**SMALL_PROBLEM, "options": {"time_limit": 0.4}}}]},
                      headers=headers).get_json()
    job_id, _ = solved_job(farm, client_id, SMALL_PROBLEM)
    return {"job_id": job_id, "batch_id": batch["id"], "endpoint_id": endpoint["id"],
            "delivery_id": delivery["id"], "queued_job_id": batch["job_ids"][0],
            "cancelled_job_id": cancelled["id"]}


def problem_details(status: int, content_type: str, raw: bytes) -> dict:
    """The RFC 9457 body of an error answer (``type``, ``title``, ``status``, ``detail``)."""
    assert content_type.split(";")[0].strip() == PROBLEM_JSON, (status, content_type, raw[:300])
    body = json.loads(raw)
    assert isinstance(body, dict), body
    assert {"type", "title", "status", "detail"} <= set(body), body
    assert body["status"] == status, body
    assert all(isinstance(body[k], str) for k in ("type", "title", "detail")), body
    return body


def assert_problem_json(response, status: int | None = None) -> dict:
    """``response`` (a Flask test response) is problem details, with ``status`` if given."""
    body = problem_details(response.status_code, response.headers.get("Content-Type", ""), response.data)
    if status is not None:
        assert response.status_code == status, body
    return body


# -- processes below a test: solver children, forkservers -----------------------------------


def _stat(pid: int) -> tuple[str, int] | None:
    """(comm, ppid) of a process, None when it is gone (or a zombie)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    comm = text[text.index("(") + 1:text.rindex(")")]
    fields = text[text.rindex(")") + 2:].split()
    if fields[0] == "Z":
        return None
    return comm, int(fields[1])


def parent_of(pid: int) -> int:
    info = _stat(pid)
    assert info is not None, f"process {pid} is gone"
    return info[1]


def descendants(root: int) -> dict[int, str]:
    """Live descendants of ``root``: pid -> comm."""
    table = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (info := _stat(int(entry))) is not None:
            table[int(entry)] = info
    found: dict[int, str] = {}
    frontier = [root]
    while frontier:
        parent = frontier.pop()
        for pid, (comm, ppid) in table.items():
            if ppid == parent and pid not in found:
                found[pid] = comm
                frontier.append(pid)
    return found


def solver_children(root: int | None = None) -> list[int]:
    """Solver child processes (``rf-solve``) below ``root`` (default: this process)."""
    return [pid for pid, comm in descendants(root or os.getpid()).items() if comm == "rf-solve"]


def alive(pid: int) -> bool:
    return _stat(pid) is not None


def processes_with_env(key: str, prefix: str, comms: tuple[str, ...] = ("rf-solve",)) -> list[int]:
    """Live processes named one of ``comms`` whose environment variable ``key`` starts with
    ``prefix``: how a test finds the processes of its farm (solver children and forkservers
    included), even orphaned ones."""
    wanted = f"{key}={prefix}".encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or (info := _stat(int(entry))) is None:
            continue
        comm = info[0]
        if comms and comm not in comms:
            continue
        try:
            environ = Path(f"/proc/{entry}/environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(item.startswith(wanted) for item in environ):
            found.append(int(entry))
    return found


# -- job rows set up through the state machine ----------------------------------------------


def finish_job(farm, client_id: str, job_id, solution: dict, worker: str = "test-worker") -> None:
    """A queued job of the client solved at once, as a worker stores it (claim, then finish)."""
    import uuid

    jid = uuid.UUID(str(job_id))
    assert farm.store.claim(client_id, jid, worker, 30.0) is not None
    assert farm.store.finish(client_id, jid, worker, "succeeded", solution, None) is not None


def running_job(farm, client_id: str, problem: dict, webhook_url: str | None = None, lease_s: float = -60.0) -> str:
    """A job claimed by a worker that has vanished (its lease expired ``-lease_s`` seconds ago),
    on its last attempt: the reaper fails it."""
    from routefarm.broker import solve_message
    from routefarm.ids import canonical_hash, new_job_id
    from routefarm.jobs import states

    message = solve_message(new_job_id(), client_id)
    job = {"id": message.args[0], "client_id": client_id, "problem": problem, "problem_hash": canonical_hash(problem),
           "metadata": {}, "max_attempts": 1, "idempotency_key": None, "request_hash": None, "request_id": None,
           "message_id": message.message_id, "webhook_url": webhook_url}
    with farm.db.shard(farm.directory.shard_of(client_id)) as conn:
        assert states.create(conn, job, dedup_window_s=0) is not None
        assert states.claim(conn, client_id, job["id"], "gone:1", lease_s) is not None
    return str(job["id"])


def close_open_work(dsns, deliveries: bool = False, events: bool = False) -> None:
    """End what earlier tests left open in the shards (they live for the session), so that
    no reaper, worker or relay of a later test picks it up: queued jobs cancelled and running
    ones finished ``cancelled`` through the state machine (as their worker would); with
    ``deliveries``, pending webhook deliveries failed; with ``events``, unsent outbox events
    marked sent."""
    import psycopg
    from psycopg.rows import dict_row

    from routefarm.jobs import states

    for dsn in dsns:
        with psycopg.connect(dsn) as conn, conn.cursor(row_factory=dict_row) as cur:
            cur.execute("SELECT id, client_id, status, worker FROM jobs WHERE status IN ('queued', 'running')")
            for job in cur.fetchall():
                if job["status"] == "queued":
                    states.cancel(conn, job["client_id"], job["id"])
                else:
                    states.finish(conn, job["client_id"], job["id"], job["worker"], "cancelled", None, None)
            if deliveries:
                conn.execute("UPDATE webhook_deliveries SET status = 'failed', message_id = NULL,"
                             " next_attempt_at = NULL WHERE status = 'pending'")
            if events:
                conn.execute("UPDATE outbox SET sent_at = now() WHERE sent_at IS NULL")
