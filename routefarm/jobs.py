"""The job lifecycle in the client's shard: every transition is one conditional UPDATE.

A transition names the state it expects (``WHERE status = 'queued'``), so a late or
duplicate actor changes nothing and learns that it lost. See DESIGN §1 for who moves what.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from .db.pools import Databases
from .directory import Directory
from .errors import RoutefarmError, ShardUnavailable
from .ids import canonical_hash, new_job_id, worker_name

log = logging.getLogger(__name__)
MOVED = "RF001"  # SQLSTATE of an insert on a shard the client has left
TERMINAL = ("succeeded", "failed", "cancelled")
STATUSES = ("queued", "running", *TERMINAL)
T = TypeVar("T")
Effects = Callable[[Any, dict], list]  # (conn, terminal row) -> broker messages to send after commit

SUMMARY_COLUMNS = (
    "id, client_id, status, metadata, attempts, max_attempts, cancel_requested, deduplicated_from,"
    " request_id, created_at, updated_at, started_at, finished_at, error, batch_id, webhook_url"
)


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
        shard, the client was moved in between: the action runs again there.
        """
        shard = self.directory.shard_of(client_id)
        try:
            with self.db.shard(shard) as conn:
                result = action(conn)
        except psycopg.Error as exc:
            if exc.sqlstate != MOVED:
                raise
            result = None  # the client moved away from this shard a moment ago
        if result is None:
            current = self.directory.shard_of(client_id, fresh=True)
            if current != shard:
                with self.db.shard(current) as conn:
                    result = action(conn)
        return result

    # -- creation ------------------------------------------------------------------------

    def create(self, conn, job: dict, dedup_window: float) -> dict | None:
        """Insert a job in one statement: ``queued``, or ``succeeded`` with the solution of
        the same problem when this client solved it within ``dedup_window`` seconds.

        Returns None when the job's idempotency key is already taken.
        """
        values = {**job, "window": dedup_window, "problem": Jsonb(job["problem"]),
                  "metadata": Jsonb(job["metadata"])}
        with conn.cursor(row_factory=dict_row) as cur:
            cur.execute(_CREATE, values)
            return cur.fetchone()

    def insert(self, conn, job: dict) -> dict:
        """Insert a job row (``status`` queued, or succeeded for a de-duplicated job)."""
        columns = list(job)
        values = [Jsonb(v) if k in ("problem", "metadata", "solution", "error") and v is not None else v
                  for k, v in job.items()]
        placeholders = ", ".join(["%s"] * len(columns))
        with conn.cursor(row_factory=dict_row) as cur:
            cur.execute(
                f"INSERT INTO jobs ({', '.join(columns)}) VALUES ({placeholders})"
                f" RETURNING {SUMMARY_COLUMNS}",
                values,
            )
            return cur.fetchone()

    def by_idempotency_key(self, conn, client_id: str, key: str) -> dict | None:
        with conn.cursor(row_factory=dict_row) as cur:
            cur.execute(
                f"SELECT {SUMMARY_COLUMNS}, request_hash FROM jobs WHERE client_id = %s AND idempotency_key = %s",
                (client_id, key),
            )
            return cur.fetchone()

    def recent_solution(self, conn, client_id: str, problem_hash: str, window: float) -> dict | None:
        with conn.cursor(row_factory=dict_row) as cur:
            cur.execute(
                "SELECT coalesce(deduplicated_from, id) AS id, solution FROM jobs"
                " WHERE client_id = %s AND problem_hash = %s"
                " AND status = 'succeeded' AND finished_at > now() - make_interval(secs => %s)"
                " ORDER BY finished_at DESC LIMIT 1",
                (client_id, problem_hash, window),
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

    # -- transitions ---------------------------------------------------------------------

    def claim(self, client_id: str, job_id: uuid.UUID, worker: str, lease: float) -> dict | None:
        """queued -> running: attempt + 1 and a lease. None when the job is not queued."""

        def update(conn):
            return _one(
                conn,
                "UPDATE jobs SET status = 'running', attempts = attempts + 1, worker = %s,"
                " lease_until = now() + make_interval(secs => %s), updated_at = now(),"
                " started_at = coalesce(started_at, now())"
                " WHERE id = %s AND client_id = %s AND status = 'queued' AND NOT cancel_requested"
                " RETURNING id, problem, attempts, max_attempts, request_id, created_at, queued_at",
                (worker, lease, job_id, client_id),
            )

        return self.on_shard(client_id, update)

    def renew(self, client_id: str, job_id: uuid.UUID, worker: str, lease: float) -> dict | None:
        """Extend the lease; returns {cancel_requested} or None when the lease was lost."""

        def update(conn):
            return _one(
                conn,
                "UPDATE jobs SET lease_until = now() + make_interval(secs => %s)"
                " WHERE id = %s AND client_id = %s AND status = 'running' AND worker = %s"
                " RETURNING cancel_requested",
                (lease, job_id, client_id, worker),
            )

        return self.on_shard(client_id, update)

    def finish(self, client_id: str, job_id: uuid.UUID, worker: str, status: str,
               solution: dict | None, error: dict | None, effects: Effects | None = None) -> dict | None:
        """running -> succeeded | failed | cancelled, with the result, in one transaction."""

        def update(conn):
            return _one(
                conn,
                "UPDATE jobs SET status = %s, solution = %s, error = %s, finished_at = now(),"
                " updated_at = now(), lease_until = NULL"
                " WHERE id = %s AND client_id = %s AND status = 'running' AND worker = %s"
                f" RETURNING {SUMMARY_COLUMNS}",
                (status, _json(solution), _json(error), job_id, client_id, worker),
            )

        return self._transition(client_id, update, effects)

    def hand_back(self, client_id: str, job_id: uuid.UUID, worker: str, message_id: str) -> dict | None:
        """running -> queued (the worker is stopping); the attempt is not counted."""

        def update(conn):
            return _one(
                conn,
                "UPDATE jobs SET status = 'queued', attempts = greatest(attempts - 1, 0),"
                " worker = NULL, lease_until = NULL, message_id = %s, queued_at = now(), updated_at = now()"
                " WHERE id = %s AND client_id = %s AND status = 'running' AND worker = %s"
                f" RETURNING {SUMMARY_COLUMNS}",
                (message_id, job_id, client_id, worker),
            )

        return self.on_shard(client_id, update)

    def cancel(self, client_id: str, job_id: uuid.UUID, effects: Effects | None = None) -> dict | None:
        """queued -> cancelled at once; running -> cancel_requested (the worker stops it)."""

        def update(conn):
            with conn.cursor(row_factory=dict_row) as cur:
                cur.execute(
                    "UPDATE jobs SET status = 'cancelled', finished_at = now(), updated_at = now()"
                    f" WHERE id = %s AND client_id = %s AND status = 'queued' RETURNING {SUMMARY_COLUMNS}",
                    (job_id, client_id),
                )
                row = cur.fetchone()
                if row is None:
                    cur.execute(
                        "UPDATE jobs SET cancel_requested = true, updated_at = now()"
                        f" WHERE id = %s AND client_id = %s AND status = 'running' RETURNING {SUMMARY_COLUMNS}",
                        (job_id, client_id),
                    )
                    row = cur.fetchone()
                return row

        return self._transition(client_id, update, effects)


_CREATE = """
WITH prior AS (
    SELECT coalesce(deduplicated_from, id) AS id, solution FROM jobs
    WHERE %(window)s > 0 AND client_id = %(client_id)s AND problem_hash = %(problem_hash)s
      AND status = 'succeeded' AND finished_at > now() - make_interval(secs => %(window)s)
    ORDER BY finished_at DESC LIMIT 1
)
INSERT INTO jobs (id, client_id, status, problem, problem_hash, metadata, max_attempts,
                  idempotency_key, request_hash, request_id, message_id,
                  solution, deduplicated_from, started_at, finished_at, webhook_url)
SELECT %(id)s, %(client_id)s, CASE WHEN prior.id IS NULL THEN 'queued' ELSE 'succeeded' END,
       %(problem)s, %(problem_hash)s, %(metadata)s, %(max_attempts)s,
       %(idempotency_key)s, %(request_hash)s, %(request_id)s,
       CASE WHEN prior.id IS NULL THEN %(message_id)s END,
       prior.solution, prior.id,
       CASE WHEN prior.id IS NOT NULL THEN now() END, CASE WHEN prior.id IS NOT NULL THEN now() END,
       %(webhook_url)s
FROM (SELECT 1) AS one LEFT JOIN prior ON true
ON CONFLICT (client_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
RETURNING id, status, created_at, deduplicated_from, webhook_url
"""


def _one(conn, sql: str, params) -> dict | None:
    """The first row of ``sql`` as a dict (None when there is none)."""
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(sql, params)
        return cur.fetchone()


def _json(value: Any) -> Jsonb | None:
    return None if value is None else Jsonb(value)


__all__ = ["JobStore", "ShardUnavailable", "STATUSES", "TERMINAL", "canonical_hash", "new_job_id",
           "worker_name"]
