"""Versioned SQL migrations for the directory and every shard, applied once each.

Each file ``migrations/<kind>/NNNN_name.sql`` runs once per database. The runner:

- takes a session advisory lock before any statement that changes the schema (the
  bootstrap of ``schema_migrations`` included), so two migrators started at once apply
  each migration once, one after the other;
- records a SHA-256 of each applied file and refuses to go on when an applied file has
  changed since (``MigrationChanged``): a released migration is never edited, a new one is
  added;
- runs a file in one transaction, unless its first line is ``-- routefarm: no-transaction``:
  then its statements (separated by ``;`` at the end of a line) run one by one outside a
  transaction, as ``CREATE INDEX CONCURRENTLY`` needs on a large shard. Such a file must
  be safe to run again after a failure part-way (``IF NOT EXISTS``, or a ``DROP INDEX
  CONCURRENTLY IF EXISTS`` of an index a failed build left invalid), since its version is
  recorded only when every statement has succeeded.
"""

from __future__ import annotations

import hashlib
from importlib import resources

import psycopg

from ..errors import OperatorError

LOCK_ID = 0x726F757465  # pg_advisory_lock key shared by every migrator
NO_TRANSACTION = "-- routefarm: no-transaction"


class MigrationChanged(OperatorError):
    """An applied migration's file is not the one that was applied."""


def migration_files(kind: str) -> list[tuple[str, str]]:
    """(version, sql) for ``kind`` ("directory" or "shard"), in order."""
    folder = resources.files(__package__) / "migrations" / kind
    files = sorted(f for f in folder.iterdir() if f.name.endswith(".sql"))
    return [(f.name.removesuffix(".sql"), f.read_text(encoding="utf-8")) for f in files]


def checksum(sql: str) -> str:
    return hashlib.sha256(sql.encode()).hexdigest()


def statements(sql: str) -> list[str]:
    """The statements of a no-transaction file: split at each ``;`` that ends a line."""
    found, current = [], []
    for line in sql.splitlines():
        current.append(line)
        if line.rstrip().endswith(";"):
            text = "\n".join(current).strip()
            if any(part.strip() and not part.strip().startswith("--") for part in current):
                found.append(text)
            current = []
    if any(part.strip() and not part.strip().startswith("--") for part in current):
        found.append("\n".join(current).strip())
    return found


def migrate(url: str, kind: str) -> list[str]:
    """Apply the pending migrations of ``kind`` to the database at ``url``; return them."""
    applied: list[str] = []
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (LOCK_ID,))
        try:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            conn.execute("ALTER TABLE schema_migrations ADD COLUMN IF NOT EXISTS checksum text")
            done = dict(conn.execute("SELECT version, checksum FROM schema_migrations").fetchall())
            for version, sql in migration_files(kind):
                digest = checksum(sql)
                if version in done:
                    if done[version] is None:  # applied before checksums were recorded
                        conn.execute("UPDATE schema_migrations SET checksum = %s WHERE version = %s",
                                     (digest, version))
                    elif done[version] != digest:
                        raise MigrationChanged(
                            f"migration {kind}/{version} has changed since it was applied to this database"
                            " (applied files must not be edited; add a new migration instead)")
                    continue
                _apply(conn, sql)
                conn.execute("INSERT INTO schema_migrations (version, checksum) VALUES (%s, %s)",
                             (version, digest))
                applied.append(version)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_ID,))
    return applied


def _apply(conn: psycopg.Connection, sql: str) -> None:
    if sql.lstrip().startswith(NO_TRANSACTION):
        for statement in statements(sql):
            conn.execute(statement)
        return
    with conn.transaction():
        conn.execute(sql)


def ensure_database(url: str) -> bool:
    """Create the database named in ``url`` when it does not exist (needs CREATEDB)."""
    info = psycopg.conninfo.conninfo_to_dict(url)
    name = info.get("dbname")
    if not name:
        return False
    admin = psycopg.conninfo.make_conninfo(url, dbname="postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists:
            return False
        conn.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(name)))
        return True
