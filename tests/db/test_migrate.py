"""The migration runner on real databases: checksums of applied files, two migrators at
once, and files that run outside a transaction."""

from __future__ import annotations

import threading
import uuid

import psycopg
import pytest

from routefarm.db import migrate as runner


@pytest.fixture
def empty_db(pg_server):
    name = f"rf_test_migrate_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{pg_server}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"{pg_server}/{name}"
    with psycopg.connect(f"{pg_server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _files(monkeypatch, files: dict[str, str]) -> None:
    monkeypatch.setattr(runner, "migration_files", lambda kind: sorted(files.items()))


def test_every_migration_is_recorded_with_its_checksum(empty_db):
    applied = runner.migrate(empty_db, "shard")
    assert applied == [v for v, _ in runner.migration_files("shard")]
    with psycopg.connect(empty_db) as conn:
        rows = dict(conn.execute("SELECT version, checksum FROM schema_migrations").fetchall())
        # the concurrent index builds of the no-transaction file are there and valid
        invalid = conn.execute("SELECT count(*) FROM pg_index WHERE NOT indisvalid").fetchone()[0]
        names = {r[0] for r in conn.execute("SELECT indexname FROM pg_indexes WHERE tablename IN"
                                            " ('jobs', 'batches', 'outbox')")}
    assert rows == {v: runner.checksum(sql) for v, sql in runner.migration_files("shard")}
    assert invalid == 0 and {"jobs_ended", "batches_completed", "outbox_job"} <= names
    assert runner.migrate(empty_db, "shard") == []


def test_a_changed_migration_is_refused(empty_db, monkeypatch):
    _files(monkeypatch, {"0001_a": "CREATE TABLE a (x int);"})
    assert runner.migrate(empty_db, "shard") == ["0001_a"]
    _files(monkeypatch, {"0001_a": "CREATE TABLE a (x bigint);", "0002_b": "CREATE TABLE b (x int);"})
    with pytest.raises(runner.MigrationChanged, match="0001_a has changed"):
        runner.migrate(empty_db, "shard")
    with psycopg.connect(empty_db) as conn:  # nothing after the changed file ran
        assert conn.execute("SELECT to_regclass('b')").fetchone()[0] is None


def test_rows_from_before_checksums_are_adopted(empty_db, monkeypatch):
    _files(monkeypatch, {"0001_a": "CREATE TABLE a (x int);"})
    with psycopg.connect(empty_db, autocommit=True) as conn:  # a database migrated by the older runner
        conn.execute("CREATE TABLE schema_migrations (version text PRIMARY KEY,"
                     " applied_at timestamptz NOT NULL DEFAULT now())")
        conn.execute("CREATE TABLE a (x int)")
        conn.execute("INSERT INTO schema_migrations (version) VALUES ('0001_a')")
    assert runner.migrate(empty_db, "shard") == []
    with psycopg.connect(empty_db) as conn:
        assert conn.execute("SELECT checksum FROM schema_migrations").fetchone()[0] == runner.checksum(
            "CREATE TABLE a (x int);")


def test_two_migrators_at_once_apply_each_migration_once(empty_db, monkeypatch):
    # the first file holds the lock a while: the second migrator must wait, then find it applied
    _files(monkeypatch, {"0001_slow": "SELECT pg_sleep(1); CREATE TABLE slow (x int);",
                         "0002_next": "CREATE TABLE next (x int);"})
    results, errors = [], []

    def run():
        try:
            results.append(runner.migrate(empty_db, "shard"))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert sorted(results, key=len) == [[], ["0001_slow", "0002_next"]]


def test_a_no_transaction_file_runs_statement_by_statement(empty_db, monkeypatch):
    _files(monkeypatch, {"0001_t": "CREATE TABLE t (x int);",
                         "0002_i": f"{runner.NO_TRANSACTION}\n-- a comment;\nCREATE INDEX CONCURRENTLY t_x ON t (x);\n"
                                   "CREATE INDEX CONCURRENTLY t_x2\n    ON t (x);\n"})
    assert runner.migrate(empty_db, "shard") == ["0001_t", "0002_i"]
    # the same in one transaction is refused by PostgreSQL
    with psycopg.connect(empty_db) as conn, pytest.raises(psycopg.errors.ActiveSqlTransaction):
        conn.execute("CREATE INDEX CONCURRENTLY t_x3 ON t (x)")


def test_statements_split_at_line_ends():
    sql = f"{runner.NO_TRANSACTION}\n-- comment\nA 1;\nB\n  2;\n\n-- trailing;\nC 3"
    assert runner.statements(sql) == [f"{runner.NO_TRANSACTION}\n-- comment\nA 1;", "B\n  2;", "C 3"]  # a comment alone is no statement
