"""Job rows in the client's shard: routing through the directory (a client may move between
shards at any moment), reads, and the transitions of ``states`` run on the right shard.

A transition that ends a job runs its ``effects`` (webhook deliveries, batch completion) in
the same transaction; the broker messages they make are sent after the commit.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import psycopg
from psycopg.rows import dict_row

from ..contract.statuses import TERMINAL
from ..db.directory import Directory
from ..db.locks import share_client
from ..db.pools import Databases
from ..errors import RoutefarmError
from . import states
from .states import SUMMARY_COLUMNS

log = logging.getLogger(__name__)
MOVED = "RF001"  # SQLSTATE of an insert on a shard the client has left
T = TypeVar("T")
Effects = Callable[[Any, dict], list]  # (conn, terminal row) -> broker messages to send after commit


class JobStore:
    """Job rows, routed to the client's shard through the directory."""

    def __init__(self, db: Databases, directory: Directory, send: Callable[[list], None] | None = None):
        self.db = db
        self.directory = directory
        self.send = send  # sends broker messages (those of ``effects``) once their rows are committed

    def dispatch(self, messages: list) -> None:
        """Send messages whose rows are committed; a failure is logged (the reaper re-sends)."""
        if messages and self.send is not None:
            try:
                self.send(messages)
            except RoutefarmError as exc:
                log.warning("%d message(s) not sent now (%s); the reaper will send them", len(messages), exc)

    def _transition(self, client_id: str, update: Callable[[Any], dict | None], effects: Effects | None):
        """``update(conn)`` on the client's shard; when it ends the job, ``effects`` run in the same
        transaction (webhook deliveries, batch completion) and their messages go after the commit."""
        messages: list = []

        def action(conn):
            row = update(conn)
            terminal = effects is not None and row is not None and row["status"] in TERMINAL
            messages[:] = effects(conn, row) if terminal else []
            return row

        row = self.on_shard(client_id, action)
        if row is not None:
            self.dispatch(messages)
        return row

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

    def create(self, conn, job: dict, dedup_window_s: float) -> dict | None:
        return states.create(conn, job, dedup_window_s)

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

    # -- transitions (``states``) ------------------------------------------------------

    def claim(self, client_id: str, job_id: uuid.UUID, worker: str, lease_s: float) -> dict | None:
        """queued -> running: attempt + 1 and a lease. None when the job is not queued."""
        return self.on_shard(client_id, lambda conn: states.claim(conn, client_id, job_id, worker, lease_s))

    def renew(self, client_id: str, job_id: uuid.UUID, worker: str, lease_s: float) -> dict | None:
        """Extend the lease; returns {cancel_requested} or None when the lease was lost."""
        return self.on_shard(client_id, lambda conn: states.renew(conn, client_id, job_id, worker, lease_s))

    def finish(self, client_id: str, job_id: uuid.UUID, worker: str, status: str,
               solution: dict | None, error: dict | None, effects: Effects | None = None) -> dict | None:
        """running -> succeeded | failed | cancelled, with the result, in one transaction."""
        return self._transition(client_id, lambda conn: states.finish(conn, client_id, job_id, worker, status,
                                                                      solution, error), effects)

    def hand_back(self, client_id: str, job_id: uuid.UUID, worker: str, message_id: str,
                  effects: Effects | None = None) -> dict | None:
        """running -> queued (the worker is stopping); the attempt is not counted. A job asked
        to stop ends ``cancelled`` instead, with ``effects``."""
        return self._transition(client_id, lambda conn: states.hand_back(conn, client_id, job_id, worker,
                                                                         message_id), effects)

    def retry(self, client_id: str, job_id: uuid.UUID, worker: str, message_id: str,
              effects: Effects | None = None) -> dict | None:
        """running -> queued, to be tried again; the attempt counts. A job asked to stop ends
        ``cancelled`` instead, with ``effects``."""
        return self._transition(client_id, lambda conn: states.retry(conn, client_id, job_id, worker,
                                                                     message_id), effects)

    def cancel(self, client_id: str, job_id: uuid.UUID, effects: Effects | None = None) -> dict | None:
        """queued -> cancelled at once; running -> cancel_requested (the worker stops it)."""
        return self._transition(client_id, lambda conn: states.cancel(conn, client_id, job_id), effects)


def _one(conn, sql: str, params) -> dict | None:
    """The first row of ``sql`` as a dict (None when there is none)."""
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(sql, params)
        return cur.fetchone()
