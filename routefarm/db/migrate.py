"""Versioned SQL migrations for the directory and every shard, applied idempotently.

Each file ``migrations/<kind>/NNNN_name.sql`` runs once per database, in its own
transaction, under an advisory lock so that concurrent migrators wait for each other.
"""

from __future__ import annotations

from importlib import resources

import psycopg

LOCK_ID = 0x726F757465  # pg_advisory_xact_lock key shared by every migrator


def migration_files(kind: str) -> list[tuple[str, str]]:
    """(version, sql) for ``kind`` ("directory" or "shard"), in order."""
    folder = resources.files(__package__) / "migrations" / kind
    files = sorted(f for f in folder.iterdir() if f.name.endswith(".sql"))
    return [(f.name.removesuffix(".sql"), f.read_text(encoding="utf-8")) for f in files]


def migrate(url: str, kind: str) -> list[str]:
    """Apply the pending migrations of ``kind`` to the database at ``url``; return them."""
    applied: list[str] = []
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        for version, sql in migration_files(kind):
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_ID,))
                done = conn.execute(
                    "SELECT 1 FROM schema_migrations WHERE version = %s", (version,)
                ).fetchone()
                if done:
                    continue
                conn.execute(sql)
                conn.execute("INSERT INTO schema_migrations (version) VALUES (%s)", (version,))
                applied.append(version)
    return applied


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
