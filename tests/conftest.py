"""Fixtures over the real services: PostgreSQL, Redis and worker processes.

A service that cannot be reached skips its tests on a laptop and fails them under
``CI=true``. Databases are created for the test session (``rf_test_*``) and dropped at
its end; Redis databases 10 and 11 are flushed.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import psycopg
import pytest
import redis

ROOT = Path(__file__).resolve().parents[1]
PG = os.environ.get("ROUTEFARM_TEST_PG", "postgresql://postgres@127.0.0.1:5432")
REDIS = os.environ.get("ROUTEFARM_TEST_REDIS", "redis://127.0.0.1:6379")
SHARDS = 2
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def unavailable(what: str, exc: Exception):
    message = f"{what} is not reachable ({exc}); start it or set ROUTEFARM_TEST_PG / ROUTEFARM_TEST_REDIS"
    if IN_CI:
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def pg_server() -> str:
    try:
        with psycopg.connect(f"{PG}/postgres", connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        unavailable("PostgreSQL", exc)
    return PG


@pytest.fixture(scope="session")
def redis_server() -> str:
    try:
        redis.Redis.from_url(REDIS, socket_connect_timeout=3).ping()
    except (redis.RedisError, OSError) as exc:
        unavailable("Redis", exc)
    return REDIS


def _recreate(admin: str, name: str) -> None:
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


@pytest.fixture(scope="session")
def databases(pg_server) -> dict[str, str]:
    """Fresh, migrated directory and shard databases for this session (suffixed by pid)."""
    from routefarm.db.migrate import migrate

    tag = f"{os.getpid()}"
    urls = {"directory": f"{pg_server}/rf_test_{tag}_dir"}
    urls.update({f"shard{i}": f"{pg_server}/rf_test_{tag}_s{i}" for i in range(SHARDS)})
    admin = f"{pg_server}/postgres"
    for url in urls.values():
        _recreate(admin, urlparse(url).path.lstrip("/"))
    migrate(urls["directory"], "directory")
    for name, url in urls.items():
        if name != "directory":
            migrate(url, "shard")
    yield urls
    with psycopg.connect(admin, autocommit=True) as conn:
        for url in urls.values():
            conn.execute(f'DROP DATABASE IF EXISTS "{urlparse(url).path.lstrip("/")}" WITH (FORCE)')


def make_settings(databases, redis_server, **overrides):
    from routefarm.settings import Settings

    values = dict(
        directory_url=databases["directory"],
        shard_urls=",".join(url for name, url in databases.items() if name != "directory"),
        redis_url=f"{redis_server}/10",
        cache_url=f"{redis_server}/11",
        lease_seconds=6.0,
        reaper_interval=1.0,
        orphan_grace=2.0,
        dedup_window=3600.0,
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


@pytest.fixture
def settings(databases, redis_server):
    redis.Redis.from_url(f"{redis_server}/10").flushdb()
    redis.Redis.from_url(f"{redis_server}/11").flushdb()
    return make_settings(databases, redis_server)


@pytest.fixture
def farm(settings):
    from routefarm.farm import Farm

    farm = Farm(settings).open(wait=True)
    yield farm
    farm.close()


@pytest.fixture
def client_factory(farm):
    """Create API clients: returns (client_id, api_key)."""

    def create(name: str = "test"):
        client, key = farm.directory.create_client(name)
        return client.id, key

    return create


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
                                   "api.wsgi:app"], {"PORT": str(self.port), "WEB_CONCURRENCY": "2"})
        wait_http(f"http://127.0.0.1:{self.port}/healthz")
        return proc

    def worker(self, name: str = "worker"):
        return self._start(name, [sys.executable, "-m", "dramatiq", "workers.main:setup", "--processes", "1",
                                  "--threads", "1", "--queues", "solve"],
                           {"dramatiq_queue_prefetch": "1", "dramatiq_worker_timeout": "20"})

    def stream(self):
        return self._start("stream", [sys.executable, "-m", "workers.stream"])

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


@pytest.fixture
def processes(settings, tmp_path):
    procs = Processes(settings, tmp_path)
    yield procs
    procs.stop_all()
