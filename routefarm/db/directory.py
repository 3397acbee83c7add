"""The directory: clients, their API keys (hashed) and the shard each client lives on.

A key is accepted while its ``revoked_at`` is unset or still ahead: ``revoke_keys`` sets it to
now for every key of a client; ``rotate_key`` issues a new key and sets it to now plus a grace
period for the others. Lookups are not cached here (``api.auth`` keeps verified keys in Redis,
where a revocation reaches every process at once).
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..errors import NotFound
from .pools import Databases

KEY_PREFIX = "rf_"
MAP_TTL = 2.0  # seconds a process trusts its cached shard map entry
ACCEPTED = "(revoked_at IS NULL OR revoked_at > now())"  # a key still accepted


def hash_key(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def rendezvous(client_id: str, shards: list[str]) -> str:
    """Highest-random-weight placement: stable, and moves few clients when shards change."""

    def weight(shard: str) -> int:
        return int.from_bytes(hashlib.sha256(f"{shard}/{client_id}".encode()).digest()[:8], "big")

    return max(sorted(shards), key=weight)


@dataclass(frozen=True)
class Client:
    id: str
    name: str
    shard: str


class Directory:
    """Reads and writes of the directory database, with small per-process caches."""

    def __init__(self, db: Databases):
        self.db = db
        self._lock = threading.Lock()
        self._shard_of: dict[str, tuple[str, float]] = {}

    def create_client(self, name: str, client_id: str | None = None) -> tuple[Client, str]:
        """Create a client placed by rendezvous hashing; return it and its new API key."""
        client_id = client_id or "c_" + secrets.token_hex(8)
        shard = rendezvous(client_id, list(self.db.shards))
        key = new_key()
        with self.db.dir() as conn:
            conn.execute("INSERT INTO clients (id, name) VALUES (%s, %s)", (client_id, name))
            conn.execute("INSERT INTO client_shards (client_id, shard) VALUES (%s, %s)", (client_id, shard))
            conn.execute("INSERT INTO api_keys (key_hash, client_id) VALUES (%s, %s)", (hash_key(key), client_id))
        return Client(client_id, name, shard), key

    def add_key(self, client_id: str) -> str:
        key = new_key()
        with self.db.dir() as conn:
            conn.execute("INSERT INTO api_keys (key_hash, client_id) VALUES (%s, %s)", (hash_key(key), client_id))
        return key

    def authenticate(self, key: str) -> str | None:
        """The client id owning ``key`` while it is accepted, or None."""
        found = self.owner_of(hash_key(key))
        return found[0] if found else None

    def owner_of(self, digest: bytes) -> tuple[str, float | None] | None:
        """(client id, seconds the key is still accepted, None: until revoked) of an accepted
        key's hash, or None."""
        with self.db.dir() as conn:
            row = conn.execute(
                "SELECT client_id, extract(epoch FROM revoked_at - now())::float8 FROM api_keys"
                f" WHERE key_hash = %s AND {ACCEPTED}", (digest,)).fetchone()
        return None if row is None else (row[0], row[1])

    def revoke_keys(self, client_id: str) -> list[bytes]:
        """Refuse every key of the client from now on; the hashes of the keys it had."""
        with self.db.dir() as conn:
            self._lock_client(conn, client_id)
            rows = conn.execute(f"UPDATE api_keys SET revoked_at = now() WHERE client_id = %s AND {ACCEPTED}"
                                " RETURNING key_hash", (client_id,)).fetchall()
        return [bytes(r[0]) for r in rows]

    def rotate_key(self, client_id: str, grace_s: float = 0.0) -> tuple[str, dict[bytes, datetime], datetime]:
        """A new key for the client; its other keys are refused ``grace_s`` seconds from now (a
        key already due to end sooner keeps its end). (the new key, the hash of each old one with
        its end, when the grace ends)."""
        key = new_key()
        with self.db.dir() as conn:
            self._lock_client(conn, client_id)
            ends = conn.execute("SELECT now() + %s", (timedelta(seconds=grace_s),)).fetchone()[0]
            rows = conn.execute(
                "UPDATE api_keys SET revoked_at = least(coalesce(revoked_at, 'infinity'), %s)"
                f" WHERE client_id = %s AND {ACCEPTED} RETURNING key_hash, revoked_at", (ends, client_id)).fetchall()
            conn.execute("INSERT INTO api_keys (key_hash, client_id) VALUES (%s, %s)", (hash_key(key), client_id))
        return key, {bytes(r[0]): r[1] for r in rows}, ends

    @staticmethod
    def _lock_client(conn, client_id: str) -> None:
        """Take the client's row (one key change at a time), or raise NotFound."""
        if conn.execute("SELECT 1 FROM clients WHERE id = %s FOR UPDATE", (client_id,)).fetchone() is None:
            raise NotFound(f"no client {client_id!r}")

    def shard_of(self, client_id: str, fresh: bool = False) -> str:
        now = time.monotonic()
        cached = self._shard_of.get(client_id)
        if cached and cached[1] > now and not fresh:
            return cached[0]
        with self.db.dir() as conn:
            row = conn.execute("SELECT shard FROM client_shards WHERE client_id = %s", (client_id,)).fetchone()
        if row is None:
            raise NotFound(f"no client {client_id!r}")
        with self._lock:
            self._shard_of[client_id] = (row[0], now + MAP_TTL)
        return row[0]

    def forget(self, client_id: str) -> None:
        with self._lock:
            self._shard_of.pop(client_id, None)

    def clients(self) -> list[Client]:
        with self.db.dir() as conn:
            rows = conn.execute(
                "SELECT c.id, c.name, s.shard FROM clients c JOIN client_shards s ON s.client_id = c.id"
                " ORDER BY c.created_at, c.id"
            ).fetchall()
        return [Client(*row) for row in rows]

    def set_shard(self, conn, client_id: str, shard: str) -> None:
        conn.execute(
            "UPDATE client_shards SET shard = %s, moving_to = NULL, updated_at = now() WHERE client_id = %s",
            (shard, client_id),
        )
        self.forget(client_id)

    def retention_of(self, client_id: str) -> float | None:
        """The client's own retention in seconds (None: the farm's default)."""
        with self.db.dir() as conn:
            row = conn.execute("SELECT retention_s FROM clients WHERE id = %s", (client_id,)).fetchone()
        return None if row is None or row[0] is None else float(row[0])

    def set_retention(self, client_id: str, seconds: float | None) -> None:
        """Give the client its own retention (None: back to the farm's default)."""
        with self.db.dir() as conn:
            found = conn.execute("UPDATE clients SET retention_s = %s WHERE id = %s RETURNING id",
                                 (seconds, client_id)).fetchone()
        if found is None:
            raise NotFound(f"no client {client_id!r}")
