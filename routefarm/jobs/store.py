"""Job rows in the client's shard: routing through the directory (a client may move between
shards at any moment), reads, and the transitions of ``states`` run on the right shard.

Every transition of a job goes through this store (``door``): its effects in the same
transaction, its after-commit steps in one place.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import psycopg
from psycopg.rows import dict_row

from ..db.directory import Directory
from ..db.locks import share_client
from ..db.pools import Databases
from .door import Effects, NoEffects, Transitions
from .states import SUMMARY_COLUMNS

log = logging.getLogger(__name__)
MOVED = "RF001"  # SQLSTATE of an insert on a shard the client has left
T = TypeVar("T")


class JobStore(Transitions):
    """Job rows, routed to the client's shard through the directory, and the one door of
    their transitions (``door.Transitions``)."""

    def __init__(self, db: Databases, directory: Directory, cache, broker, settings,
                 effects: Effects | None = None):
        self.db = db
        self.directory = directory
        self.cache = cache
        self.broker = broker
        self.settings = settings
        self.effects = effects or NoEffects()  # plugged in by the composition root (farm.Farm)

    def on_shard(self, client_id: str, action: Callable[[Any], T]) -> T:
        """Run ``action(conn)`` on the client's shard, following a move that just happened.

        When the action finds nothing (returns None) and the directory now names another
        shard, the client was moved in between: the action runs again there. Each run holds
        the client's lock, shared (``db.locks``): a move's last step waits for it, or it waits
        for the move.
        """
        shard = self.directory.shard_of(client_id)
        try:
            with self.db.shard(shard) as conn:
                share_client(conn, client_id)
                result = action(conn)
        except psycopg.Error as exc:
            if exc.sqlstate != MOVED:
                raise
            result = None  # the client moved away from this shard a moment ago
        if result is None:
            current = self.directory.shard_of(client_id, fresh=True)
            if current != shard:
                with self.db.shard(current) as conn:
                    share_client(conn, client_id)
                    result = action(conn)
        return result

    # -- creation ------------------------------------------------------------------------

    def by_idempotency_key(self, conn, client_id: str, key: str) -> dict | None:
        with conn.cursor(row_factory=dict_row) as cur:
            cur.execute(
                f"SELECT {SUMMARY_COLUMNS}, request_hash FROM jobs WHERE client_id = %s AND idempotency_key = %s",
                (client_id, key),
            )
            return cur.fetchone()

    # -- reads ---------------------------------------------------------------------------

    def get(self, client_id: str, job_id: uuid.UUID, with_solution: bool = True) -> dict | None:
        extra = ", solution" if with_solution else ""

        def read(conn):
            return _one(
                conn,
                f"SELECT {SUMMARY_COLUMNS}{extra} FROM jobs WHERE id = %s AND client_id = %s",
                (job_id, client_id),
            )

        return self.on_shard(client_id, read)

    def page(self, client_id: str, status: str | None, limit: int, before: uuid.UUID | None) -> list[dict]:
        clauses, params = ["client_id = %s"], [client_id]
        if status:
            clauses.append("status = %s")
            params.append(status)
        if before:
            clauses.append("id < %s")
            params.append(before)

        def read(conn):
            with conn.cursor(row_factory=dict_row) as cur:
                cur.execute(
                    f"SELECT {SUMMARY_COLUMNS} FROM jobs WHERE {' AND '.join(clauses)}"
                    " ORDER BY id DESC LIMIT %s",
                    [*params, limit],
                )
                return cur.fetchall() or None  # none: maybe moved a moment ago (on_shard looks again)

        return self.on_shard(client_id, read) or []


def _one(conn, sql: str, params) -> dict | None:
    """The first row of ``sql`` as a dict (None when there is none)."""
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(sql, params)
        return cur.fetchone()
