"""Embedded PostgreSQL and Redis under a data folder: start, connect, stop, start again."""

from __future__ import annotations

import os
from pathlib import Path

import psycopg
import pytest
import redis

from routefarm.local import services
from routefarm.local.common import FarmError, free_port, port_is_free
from routefarm.local.postgres import EmbeddedPostgres
from routefarm.local.redis_server import EmbeddedRedis


def test_postgres_keeps_a_table_across_restarts(tmp_path):
    port = free_port()
    first = EmbeddedPostgres(tmp_path / "postgres", port)
    try:
        first.start()
        assert first.initialized
        with psycopg.connect(first.url(), autocommit=True) as conn:
            conn.execute("CREATE TABLE kept (n int)")
            conn.execute("INSERT INTO kept VALUES (42)")
    finally:
        assert first.stop()
    assert port_is_free(port)

    second = EmbeddedPostgres(tmp_path / "postgres", port)
    try:
        assert second.init() is False  # the cluster is there: no second initdb
        second.start()
        with psycopg.connect(second.url()) as conn:
            assert conn.execute("SELECT n FROM kept").fetchall() == [(42,)]
    finally:
        second.stop()
    if os.geteuid() == 0:  # PostgreSQL refuses root: the cluster belongs to the server's own user
        assert (tmp_path / "postgres").stat().st_uid == first.account.pw_uid != 0


def test_postgres_leftover_server_is_stopped_before_a_new_start(tmp_path):
    crashed = EmbeddedPostgres(tmp_path / "postgres", free_port())
    crashed.start()  # and its owner "dies" without stopping it
    pid = crashed.leftover_pid()
    assert pid is not None
    again = EmbeddedPostgres(tmp_path / "postgres", free_port())
    try:
        again.start()
        assert again.leftover_pid() not in (None, pid)
        with psycopg.connect(again.url()) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
    finally:
        again.stop()


def test_redis_keeps_keys_across_restarts(tmp_path):
    port = free_port()
    first = EmbeddedRedis(tmp_path / "redis", port)
    first.start()
    try:
        client = redis.Redis.from_url(first.url(0))
        client.rpush("queued", "message-1")
        client.close()
    finally:
        assert first.stop() == 0
    assert port_is_free(port)
    assert (tmp_path / "redis").exists()

    second = EmbeddedRedis(tmp_path / "redis", port)
    second.start()
    try:
        client = redis.Redis.from_url(second.url(0))
        assert client.lrange("queued", 0, -1) == [b"message-1"]
        client.close()
    finally:
        second.stop()


def test_services_migrate_and_reuse_the_demo_client(tmp_path):
    """What ``up`` does before it starts processes; a second round keeps ports, data, client."""
    from routefarm.settings import Settings

    said: list[str] = []

    def round_trip(shards: int, remembered: dict) -> dict:
        farm = services.start(tmp_path, shards, remembered, {}, said.append)
        try:
            services.prepare_databases(farm)
            settings = Settings(directory_url=farm.directory_url, shard_urls=",".join(farm.shard_urls),
                                redis_url=farm.redis_url, cache_url=farm.cache_url)
            client_id, key, created = services.demo_client(settings, remembered)
            with psycopg.connect(farm.shard_urls[-1]) as conn:
                versions = conn.execute("SELECT count(*) FROM schema_migrations").fetchone()[0]
            return {"client_id": client_id, "api_key": key, "created": created, "versions": versions,
                    "shard_urls": farm.shard_urls, "directory_url": farm.directory_url,
                    "cache_url": farm.cache_url, **farm.remembered()}
        finally:
            farm.stop()

    first = round_trip(2, {})
    assert first["created"] and first["versions"] >= 1
    assert first["cache_url"].endswith("/1")
    assert [Path(url).name for url in first["shard_urls"]] == ["routefarm_shard0", "routefarm_shard1"]
    second = round_trip(1, first)  # asks for fewer shards: keeps both
    assert not second["created"]
    assert (second["client_id"], second["api_key"]) == (first["client_id"], first["api_key"])
    assert second["shard_urls"] == first["shard_urls"]
    assert (second["postgres_port"], second["redis_port"]) == (first["postgres_port"], first["redis_port"])
    assert second["kafka_port"] == first["kafka_port"]
    assert any("keeping 2 shards" in line for line in said)


def test_configured_services_are_used_as_they_are(monkeypatch, tmp_path):
    monkeypatch.setenv("ROUTEFARM_DIRECTORY_URL", "postgresql://db.example/dir")
    monkeypatch.setenv("ROUTEFARM_SHARD_URLS", "postgresql://db.example/s0,postgresql://db.example/s1")
    monkeypatch.setenv("ROUTEFARM_REDIS_URL", "redis://cache.example:6380/0")
    monkeypatch.delenv("ROUTEFARM_CACHE_URL", raising=False)
    monkeypatch.setenv("ROUTEFARM_KAFKA_BOOTSTRAP", "kafka.example:9092")
    farm = services.start(tmp_path, 2, {}, os.environ, lambda _: None)
    assert farm.postgres is None and farm.redis is None and farm.kafka is None and not farm.embedded
    assert farm.kafka_bootstrap == "kafka.example:9092" and farm.environment(os.environ) == {}
    assert farm.shard_urls == ["postgresql://db.example/s0", "postgresql://db.example/s1"]
    assert (farm.redis_url, farm.cache_url) == ("redis://cache.example:6380/0", "redis://cache.example:6380/1")
    assert not (tmp_path / "postgres").exists() and not (tmp_path / "kafka").exists()

    monkeypatch.delenv("ROUTEFARM_SHARD_URLS")
    with pytest.raises(FarmError, match="set both ROUTEFARM_DIRECTORY_URL and ROUTEFARM_SHARD_URLS"):
        services.start(tmp_path, 2, {}, os.environ, lambda _: None)
