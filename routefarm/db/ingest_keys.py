"""Ingest keys, in the directory: the secret that signs a client's events on
``routefarm.reoptimize`` (``routefarm/kafka/signing.py`` says how). One per client; a
rotation keeps the replaced secret verifying for a grace period."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from ..errors import NotFound

KEY_PREFIX = "rfik_"
KEY_BYTES = 32  # random bytes in a new key


@dataclass(frozen=True)
class IngestKey:
    client_id: str
    secret: str
    previous_expires_at: datetime | None  # when the replaced secret stops verifying (None: none replaced)


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(KEY_BYTES)


def issue(db, client_id: str, grace_s: float) -> IngestKey:
    """Give the client a new ingest key: its first, or one that replaces the current key,
    which then verifies for ``grace_s`` more seconds (a key replaced before is forgotten)."""
    secret = new_key()
    with db.dir() as conn:
        if conn.execute("SELECT 1 FROM clients WHERE id = %s", (client_id,)).fetchone() is None:
            raise NotFound(f"no client {client_id!r}")
        (expires,) = conn.execute(
            "INSERT INTO ingest_keys (client_id, secret) VALUES (%s, %s) ON CONFLICT (client_id) DO UPDATE"
            " SET previous_secret = ingest_keys.secret, secret = EXCLUDED.secret, rotated_at = now(),"
            " previous_expires_at = now() + make_interval(secs => %s) RETURNING previous_expires_at",
            (client_id, secret, grace_s)).fetchone()
    return IngestKey(client_id, secret, expires)


def verifying(db, client_id: str) -> list[str]:
    """The client's secrets that verify now: its key, and the replaced one during its grace
    period (none when the client has no ingest key)."""
    with db.dir() as conn:
        row = conn.execute("SELECT secret, CASE WHEN previous_expires_at > now() THEN previous_secret END"
                           " FROM ingest_keys WHERE client_id = %s", (client_id,)).fetchone()
    return [] if row is None else [secret for secret in row if secret]
