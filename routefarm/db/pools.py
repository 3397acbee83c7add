"""Connection pools for the directory and every shard, opened and closed explicitly."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from ..errors import ShardUnavailable
from ..observability import metrics
from ..settings import Settings

CONNECT_TIMEOUT = 3  # seconds for one connection attempt
RESET_INTERVAL = 2.0  # seconds between two replacements of one failing pool


IDLE_CHECK = 5.0  # seconds idle after which a pooled connection is checked before use


def _stamp(conn: psycopg.Connection) -> None:
    conn.info_returned_at = time.monotonic()  # type: ignore[attr-defined]


def _check_if_idle(conn: psycopg.Connection) -> None:
    """Check a connection that sat idle a while (one round trip); a busy one is fresh."""
    if time.monotonic() - getattr(conn, "info_returned_at", 0.0) > IDLE_CHECK:
        ConnectionPool.check_connection(conn)


def _pool(name: str, url: str, settings: Settings, min_size: int = 1) -> ConnectionPool:
    return ConnectionPool(
        url,
        name=name,
        min_size=min_size,
        max_size=settings.db_pool_size,
        kwargs={"connect_timeout": CONNECT_TIMEOUT, "application_name": "routefarm"},
        timeout=settings.db_timeout_s,
        check=_check_if_idle,
        reset=_stamp,
        open=False,
    )


class Databases:
    """The directory pool and one pool per shard, by shard name.

    A pool that has lost its server retries with a growing back-off (psycopg_pool's own),
    which could keep a shard unused for long after it came back. So a pool that fails a
    request is replaced by a fresh one (at most every ``RESET_INTERVAL`` seconds), whose
    first connection attempt is immediate.
    """

    def __init__(self, settings: Settings):
        self.settings = settings
        self.directory = _pool("directory", settings.directory_url, settings)
        self.shards = {name: _pool(name, url, settings) for name, url in settings.shards.items()}
        self._lock = threading.Lock()
        self._reset_at: dict[str, float] = {}
        self._opened = False

    def open(self, wait: bool = False) -> None:
        """Open every pool; with ``wait``, block until each has its first connection."""
        self._opened = True
        for pool in (self.directory, *self.shards.values()):
            pool.open(wait=False)
        if wait:
            for pool in (self.directory, *self.shards.values()):
                pool.wait(timeout=self.settings.db_timeout_s * 5)

    def close(self) -> None:
        self._opened = False
        for pool in (self.directory, *self.shards.values()):
            pool.close()

    def _reset(self, name: str) -> None:
        """Replace the pool of ``name`` (a shard or "directory") after a failure."""
        now = time.monotonic()
        with self._lock:
            if not self._opened or now - self._reset_at.get(name, 0.0) < RESET_INTERVAL:
                return
            self._reset_at[name] = now
            url = self.settings.directory_url if name == "directory" else self.settings.shards[name]
            fresh = _pool(name, url, self.settings)
            fresh.open(wait=False)
            if name == "directory":
                old, self.directory = self.directory, fresh
            else:
                old, self.shards[name] = self.shards[name], fresh
        threading.Thread(target=old.close, kwargs={"timeout": 1.0}, daemon=True).start()

    def _pool_of(self, name: str) -> ConnectionPool | None:
        return self.directory if name == "directory" else self.shards.get(name)

    def _get(self, name: str) -> tuple[ConnectionPool, psycopg.Connection]:
        """(pool, connection) for ``name``; after a failure, once more on a fresh pool."""
        pool = self._pool_of(name)
        try:
            return pool, pool.getconn()
        except (PoolTimeout, psycopg.OperationalError):
            self._reset(name)
            fresh = self._pool_of(name)
            if fresh is pool:
                raise
            return fresh, fresh.getconn()

    @contextmanager
    def _connection(self, name: str) -> Iterator[psycopg.Connection]:
        """A connection to ``name`` inside a transaction, returned to its pool afterwards."""
        try:
            pool, conn = self._get(name)
        except (PoolTimeout, psycopg.OperationalError) as exc:
            raise _unavailable(name, exc) from exc
        try:
            with conn:  # commits on success, rolls back on error; a pooled connection stays open
                yield conn
        except psycopg.errors.TransactionRollback:
            raise  # a deadlock or serialization failure is not an outage
        except psycopg.OperationalError as exc:
            self._reset(name)
            raise _unavailable(name, exc) from exc
        finally:
            pool.putconn(conn)

    @contextmanager
    def shard(self, name: str) -> Iterator[psycopg.Connection]:
        """A connection to shard ``name`` inside a transaction; ``ShardUnavailable`` if down."""
        if name not in self.shards:
            raise ShardUnavailable(name, "unknown shard")
        started = time.perf_counter()
        try:
            with self._connection(name) as conn:
                yield conn
        except ShardUnavailable:
            metrics.SHARD_ERRORS.labels(shard=name).inc()
            raise
        finally:
            metrics.SHARD_SECONDS.labels(shard=name).observe(time.perf_counter() - started)

    @contextmanager
    def dir(self) -> Iterator[psycopg.Connection]:
        """A connection to the directory inside a transaction."""
        with self._connection("directory") as conn:
            yield conn


def _unavailable(name: str, exc: Exception) -> ShardUnavailable:
    return ShardUnavailable(name, str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
