"""Fixtures for the local-farm tests: real processes, cleaned up whatever the outcome."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import psycopg
import pytest
import redis
from farmtools import FARM_REDIS_DBS, HERE, Running, clean_env


@pytest.fixture
def spawn():
    started: list[Running] = []

    def start(argv: list[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> Running:
        running = Running(argv, env=env, cwd=cwd)
        started.append(running)
        return running

    yield start
    for running in started:
        running.cleanup()


@pytest.fixture
def supervise(spawn, tmp_path):
    """Run a Procfile (given as text) under the Supervisor in a real parent process."""

    def start(procfile: str, grace: float = 5.0) -> Running:
        path = tmp_path / "Procfile"
        path.write_text(procfile)
        return spawn([sys.executable, str(HERE / "supervise.py"), str(path), str(grace)], env=clean_env())

    return start


@pytest.fixture
def configured_env(pg_server, redis_server):
    """The environment of a ``routefarm up`` on the test PostgreSQL server (its own new
    databases, dropped afterwards) and Redis (two flushed databases); Kafka stays embedded."""
    tag = f"rf_test_up_{os.getpid()}"
    names = [f"{tag}_dir", f"{tag}_s0", f"{tag}_s1"]
    for db in FARM_REDIS_DBS:
        redis.Redis.from_url(f"{redis_server}/{db}").flushdb()
    yield clean_env(ROUTEFARM_DIRECTORY_URL=f"{pg_server}/{names[0]}",
                    ROUTEFARM_SHARD_URLS=",".join(f"{pg_server}/{name}" for name in names[1:]),
                    ROUTEFARM_REDIS_URL=f"{redis_server}/{FARM_REDIS_DBS[0]}",
                    ROUTEFARM_CACHE_URL=f"{redis_server}/{FARM_REDIS_DBS[1]}")
    with psycopg.connect(f"{pg_server}/postgres", autocommit=True) as conn:
        for name in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
