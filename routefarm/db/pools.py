"""Connection pools for the directory and every shard, opened and closed explicitly."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from ..errors import ShardUnavailable
from ..settings import Settings

CONNECT_TIMEOUT = 3  # seconds for one connection attempt


def _pool(name: str, url: str, settings: Settings, min_size: int = 1) -> ConnectionPool:
    return ConnectionPool(
        url,
        name=name,
        min_size=min_size,
        max_size=settings.db_pool_size,
        kwargs={"connect_timeout": CONNECT_TIMEOUT, "application_name": "routefarm"},
        timeout=settings.db_timeout,
        check=ConnectionPool.check_connection,
        reconnect_timeout=0,  # keep trying for ever: a shard that comes back is used again
        open=False,
    )


class Databases:
    """The directory pool and one pool per shard, by shard name."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.directory = _pool("directory", settings.directory_url, settings)
        self.shards = {name: _pool(name, url, settings) for name, url in settings.shards.items()}

    def open(self, wait: bool = False) -> None:
        """Open every pool; with ``wait``, block until each has its first connection."""
        for pool in (self.directory, *self.shards.values()):
            pool.open(wait=False)
        if wait:
            for pool in (self.directory, *self.shards.values()):
                pool.wait(timeout=self.settings.db_timeout * 5)

    def close(self) -> None:
        for pool in (self.directory, *self.shards.values()):
            pool.close()

    @contextmanager
    def shard(self, name: str) -> Iterator[psycopg.Connection]:
        """A connection to shard ``name`` inside a transaction; ``ShardUnavailable`` if down."""
        pool = self.shards.get(name)
        if pool is None:
            raise ShardUnavailable(name, "unknown shard")
        try:
            with pool.connection() as conn:
                yield conn
        except (PoolTimeout, psycopg.OperationalError) as exc:
            raise ShardUnavailable(name, str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from exc

    @contextmanager
    def dir(self) -> Iterator[psycopg.Connection]:
        """A connection to the directory inside a transaction."""
        try:
            with self.directory.connection() as conn:
                yield conn
        except (PoolTimeout, psycopg.OperationalError) as exc:
            raise ShardUnavailable("directory", str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from exc
