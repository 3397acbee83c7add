"""Benchmark plumbing: fresh databases, Redis DBs, and child processes that always get stopped.

Used by ``bench/api.py``. Nothing here imports ``tests/``: the ideas are the same as
``tests/conftest.py`` (recreate databases, pass settings as ``ROUTEFARM_*``, start the
Procfile's commands in their own process groups), the code is separate.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def recreate_databases(pg: str, names: list[str]) -> None:
    """Drop (forcing out any session) and create each database in ``names``."""
    import psycopg

    with psycopg.connect(f"{pg}/postgres", autocommit=True, connect_timeout=5) as conn:
        for name in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')


def drop_databases(pg: str, names: list[str]) -> None:
    import psycopg

    with psycopg.connect(f"{pg}/postgres", autocommit=True, connect_timeout=5) as conn:
        for name in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of all cores since boot, from /proc/stat."""
    hz = os.sysconf("SC_CLK_TCK")
    with open("/proc/stat", encoding="ascii") as f:
        values = [int(v) for v in f.readline().split()[1:8]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values) - idle) / hz, sum(values) / hz


def cpu_busy(seconds: float = 1.0) -> float:
    """The share of all cores busy over ``seconds`` (NaN without /proc/stat)."""
    try:
        busy0, total0 = machine_cpu()
        time.sleep(seconds)
        busy1, total1 = machine_cpu()
    except OSError:
        return float("nan")
    return (busy1 - busy0) / max(total1 - total0, 1e-9)


def process_cpu(select) -> dict[int, float]:
    """CPU seconds (user + system, all threads) of each process for which
    ``select(pid, cmdline)`` is true, from /proc."""
    hz = os.sysconf("SC_CLK_TCK")
    found: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
            if not select(pid, cmdline):
                continue
            with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found[pid] = (int(fields[11]) + int(fields[12])) / hz
    return found


def cpu_delta(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds used between two ``process_cpu`` snapshots (new processes count in full)."""
    return sum(t - before.get(pid, 0.0) for pid, t in after.items())


def redis_users(redis_url: str, dbs: tuple[int, ...]) -> list[str]:
    """Other connections that currently have one of ``dbs`` selected (CLIENT LIST)."""
    import redis

    client = redis.Redis.from_url(redis_url, db=0)
    try:
        return [f"{c.get('addr')} db={c.get('db')} cmd={c.get('cmd')} idle={c.get('idle')}s"
                for c in client.client_list() if int(c.get("db", 0)) in dbs]
    finally:
        client.close()


def delete_matching(client, pattern: str) -> int:
    """Delete the keys matching ``pattern`` (SCAN, not KEYS); return how many."""
    deleted = 0
    batch = []
    for key in client.scan_iter(match=pattern, count=1000):
        batch.append(key)
        if len(batch) >= 1000:
            deleted += client.delete(*batch)
            batch.clear()
    if batch:
        deleted += client.delete(*batch)
    return deleted


def settings_env(values: dict[str, object]) -> dict[str, str]:
    """This process's environment without any ROUTEFARM_*, plus ``values`` as ROUTEFARM_*."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROUTEFARM_")}
    env.update({f"ROUTEFARM_{k.upper()}": str(v) for k, v in values.items()})
    env["PYTHONUNBUFFERED"] = "1"
    return env


class Children:
    """Child processes, each in its own session (process group); ``stop_all`` ends them all.

    Only processes started here are ever signalled, by their process-group id.
    """

    def __init__(self, log_dir: Path, env: dict[str, str]):
        self.log_dir = log_dir
        self.env = env
        self.procs: dict[str, subprocess.Popen] = {}

    def log_path(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"

    def start(self, name: str, command: list[str], extra_env: dict[str, str] | None = None) -> subprocess.Popen:
        if name in self.procs and self.procs[name].poll() is None:
            raise RuntimeError(f"{name} is already running")
        log = open(self.log_path(name), "ab")  # noqa: SIM115 - the child holds it
        try:
            proc = subprocess.Popen(command, cwd=ROOT, env={**self.env, **(extra_env or {})},
                                    stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    start_new_session=True)
        finally:
            log.close()
        self.procs[name] = proc
        return proc

    def gunicorn(self, name: str, app: str, port: int, extra_env: dict[str, str] | None = None,
                 pythonpath: str | None = None) -> subprocess.Popen:
        """``gunicorn --config python:api.gunicorn_conf APP``: the Procfile's web command."""
        command = [sys.executable, "-m", "gunicorn", "--config", "python:api.gunicorn_conf"]
        if pythonpath:
            command += ["--pythonpath", pythonpath]
        command.append(app)
        proc = self.start(name, command, {"HOST": "127.0.0.1", "PORT": str(port), **(extra_env or {})})
        wait_http(f"http://127.0.0.1:{port}/healthz", proc=proc, log=self.log_path(name))
        return proc

    def dramatiq(self, name: str, module: str, queue: str, path: str | None = None) -> subprocess.Popen:
        """The Procfile's worker command: 1 process, 1 thread, prefetch 1, 20 ms idle timeout."""
        command = [sys.executable, "-m", "workers.run", module, "--processes", "1", "--threads", "1",
                   "--queues", queue]
        if path:
            command += ["--path", path]
        return self.start(name, command, {"dramatiq_queue_prefetch": "1", "dramatiq_worker_timeout": "5"})

    def wait_log(self, name: str, text: str, count: int = 1, timeout: float = 60.0) -> None:
        """Until ``text`` appears ``count`` times in the child's log (e.g. a worker is ready)."""
        deadline = time.monotonic() + timeout
        path = self.log_path(name)
        while True:
            with contextlib.suppress(OSError):
                if path.read_text(errors="replace").count(text) >= count:
                    return
            proc = self.procs.get(name)
            if proc is not None and proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}; see {path}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{name}: {text!r} not seen within {timeout} s; see {path}")
            time.sleep(0.1)

    def pids(self, name: str) -> list[int]:
        """The process-group members of child ``name`` (gunicorn master and its workers)."""
        proc = self.procs.get(name)
        if proc is None:
            return []
        out = subprocess.run(["ps", "-o", "pid=", "-g", str(proc.pid)], capture_output=True, text=True)
        return [int(p) for p in out.stdout.split()]

    def stop(self, name: str, timeout: float = 20.0) -> None:
        proc = self.procs.pop(name, None)
        if proc is None:
            return
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout)
        # the group may outlive its leader (forked workers): make sure it is gone
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(5)

    def stop_all(self) -> None:
        for name in list(self.procs):
            self.stop(name, timeout=10.0)


def wait_http(url: str, timeout: float = 60.0, proc: subprocess.Popen | None = None,
              log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{url}: the server exited with {proc.returncode}; see {log}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} did not answer within {timeout} s; see {log}")
        time.sleep(0.2)


def api_request(api_url: str, key: str, method: str, path: str, body: dict | None = None,
                timeout: float = 30) -> tuple[int, dict]:
    """One JSON request to the farm's API: (status, decoded body); raises OSError or
    http.client.HTTPException when there is no answer."""
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(api_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    headers = {"Authorization": f"Bearer {key}"}
    data = None
    if body is not None:
        data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
    try:
        conn.request(method, path, body=data, headers=headers)
        response = conn.getresponse()
        raw = response.read()
        return response.status, (json.loads(raw) if raw else {})
    finally:
        conn.close()


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


class UpFarm:
    """``routefarm up`` on a fresh data folder, stopped with SIGINT (as Ctrl-C) at the end."""

    def __init__(self, tag: str, max_workers: int | None = None, cooldown: float | None = None,
                 polling_interval: float | None = None, extra: tuple[str, ...] = ()):
        import tempfile

        self.data = Path(tempfile.mkdtemp(prefix=f"routefarm-bench-{tag}-"))
        self.port = free_port()
        argv = [sys.executable, "-m", "routefarm", "up", "--data-dir", str(self.data), "--port", str(self.port)]
        for option, value in (("--max-workers", max_workers), ("--cooldown", cooldown),
                              ("--polling-interval", polling_interval)):
            if value is not None:
                argv += [option, str(value)]
        argv += list(extra)
        self.log = open(self.data / "up.log", "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT, cwd=ROOT,
                                        start_new_session=True)

    def wait_ready(self, timeout: float = 180) -> dict:
        """state.json, once the API answers /healthz."""
        path = self.data / "state.json"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"routefarm up exited ({self.process.returncode}); see {self.data / 'up.log'}")
            if path.exists():
                state = json.loads(path.read_text())
                if state.get("api_url") and state.get("api_key") and _answers(state["api_url"] + "/healthz"):
                    return state
            time.sleep(0.5)
        raise SystemExit(f"routefarm up did not write {path} within {timeout:g} s")

    def stop(self, keep: bool) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(90)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        if not keep:
            shutil.rmtree(self.data, ignore_errors=True)
