"""The job state machine: the statuses, the transitions allowed between them, and the one
statement that makes each transition. Every change of a job's status (and of a batch's)
is made here and nowhere else.

Every transition is one conditional statement on the state it expects (``WHERE status =
'queued'``), so a late or duplicate actor changes nothing and learns that it lost (the
function returns None). A trigger in the shard writes an outbox event for every status
change in the same transaction (migration 0004). Who moves what (DESIGN §1):

========================  ==========================  =======================================
transition                from -> to                  by
========================  ==========================  =======================================
``create``                new -> queued | succeeded    API, ingest (succeeded: de-duplicated)
``create_batch_jobs``     new -> queued | succeeded    API (a batch, in one statement)
``claim``                 queued -> running            worker: attempt + 1, a lease
``finish``                running -> succeeded,        worker: the result in the same statement
                          failed, cancelled
``cancel``                queued -> cancelled          API (a running job is asked to stop:
                                                       ``cancel_requested``, the worker ends it)
``cancel_batch_jobs``     queued -> cancelled          API (every open job of a batch)
``hand_back``             running -> queued            worker on shutdown (attempt not counted)
``retry``                 running -> queued            worker: a service its job needs is down
                                                       (attempt counted; failed after the last)
``expire_leases``         running -> queued | failed   reaper: lease expired (failed:
                                                       ``worker_lost`` after max attempts)
``cancel_stranded``       queued -> cancelled          reaper: a queued job asked to stop
========================  ==========================  =======================================

Cancelled means cancelled: a job asked to stop (``cancel_requested``) is never queued
again. Every way back to the queue (``hand_back``, ``retry``, ``expire_leases``) is one
statement (``_REQUEUE``) that ends such a job ``cancelled`` instead, as its worker would
have: the caller sees the terminal row and runs its effects (webhook deliveries, the batch's
completion) in the same transaction, as for any cancel. ``cancel_stranded`` ends the queued
jobs asked to stop that an earlier version of this code left waiting.

A batch's status follows from its jobs and two marks, each set once: ``cancel_requested_at``
(``request_batch_cancel``) and ``completed_at`` (``complete_batch``, when its last open job
ends, in that job's terminal transaction).
"""

from __future__ import annotations

import uuid
from typing import Any

from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

NEW = None  # the "from" of a job that does not exist yet
TRANSITIONS: dict[str, frozenset[tuple[str | None, str]]] = {
    "create": frozenset({(NEW, "queued"), (NEW, "succeeded")}),
    "create_batch_jobs": frozenset({(NEW, "queued"), (NEW, "succeeded")}),
    "claim": frozenset({("queued", "running")}),
    "finish": frozenset({("running", "succeeded"), ("running", "failed"), ("running", "cancelled")}),
    "cancel": frozenset({("queued", "cancelled")}),
    "cancel_batch_jobs": frozenset({("queued", "cancelled")}),
    "hand_back": frozenset({("running", "queued"), ("running", "cancelled")}),
    "retry": frozenset({("running", "queued"), ("running", "cancelled")}),
    "expire_leases": frozenset({("running", "queued"), ("running", "failed"), ("running", "cancelled")}),
    "cancel_stranded": frozenset({("queued", "cancelled")}),
}
ALLOWED = frozenset(pair for pairs in TRANSITIONS.values() for pair in pairs)

SUMMARY_COLUMNS = (
    "id, client_id, status, metadata, attempts, max_attempts, cancel_requested, deduplicated_from,"
    " request_id, created_at, updated_at, started_at, finished_at, error, batch_id, webhook_url"
)
BATCH_JOB_COLUMNS = ("id", "client_id", "status", "problem", "problem_hash", "metadata", "max_attempts",
                     "request_id", "message_id", "solution", "deduplicated_from", "batch_id", "webhook_url")


def prior_solutions(conn, client_id: str, hashes: list[str], window_s: float) -> dict[str, dict]:
    """De-duplication: problem hash -> {id, solution} of this client's latest succeeded job
    of that problem within ``window_s`` seconds (the original job, not a copy of it)."""
    if window_s <= 0 or not hashes:
        return {}
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            "SELECT DISTINCT ON (problem_hash) problem_hash, coalesce(deduplicated_from, id) AS id, solution"
            " FROM jobs WHERE client_id = %s AND problem_hash = ANY(%s) AND status = 'succeeded'"
            " AND finished_at > now() - make_interval(secs => %s) ORDER BY problem_hash, finished_at DESC",
            (client_id, list(set(hashes)), window_s))
        return {row["problem_hash"]: row for row in cur.fetchall()}


def create(conn, job: dict, dedup_window_s: float) -> dict | None:
    """Insert a job: ``queued``, or ``succeeded`` with the solution of the same problem when
    this client solved it within ``dedup_window_s`` seconds. None when the job's idempotency
    key is already taken (nothing is inserted)."""
    prior = prior_solutions(conn, job["client_id"], [job["problem_hash"]], dedup_window_s).get(job["problem_hash"])
    values = {**job, "problem": Jsonb(job["problem"]), "metadata": Jsonb(job["metadata"]),
              "status": "succeeded" if prior else "queued",
              "message_id": None if prior else job["message_id"],
              "solution": Jsonb(prior["solution"]) if prior else None,
              "deduplicated_from": prior["id"] if prior else None, "done": prior is not None}
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(_CREATE, values)
        return cur.fetchone()


def create_batch(conn, batch_id: uuid.UUID, client_id: str, total: int, metadata: dict,
                 webhook_url: str | None) -> None:
    conn.execute("INSERT INTO batches (id, client_id, total, metadata, webhook_url) VALUES (%s, %s, %s, %s, %s)",
                 (batch_id, client_id, total, Jsonb(metadata), webhook_url))


def create_batch_jobs(conn, rows: list[dict]) -> None:
    """Insert a batch's jobs (each ``queued``, or ``succeeded`` when de-duplicated)."""
    values = [tuple(Jsonb(r[c]) if c in ("problem", "metadata", "solution") and r[c] is not None else r[c]
                    for c in BATCH_JOB_COLUMNS) + (r["status"] == "succeeded",) * 2 for r in rows]
    with conn.cursor() as cur:
        cur.executemany(
            f"INSERT INTO jobs ({', '.join(BATCH_JOB_COLUMNS)}, started_at, finished_at) VALUES"
            f" ({', '.join(['%s'] * len(BATCH_JOB_COLUMNS))},"
            " CASE WHEN %s THEN now() END, CASE WHEN %s THEN now() END)", values)


def claim(conn, client_id: str, job_id: uuid.UUID, worker: str, lease_s: float) -> dict | None:
    """queued -> running: attempt + 1 and a lease. None when the job is not queued."""
    return _one(conn,
                "UPDATE jobs SET status = 'running', attempts = attempts + 1, worker = %s,"
                " lease_until = now() + make_interval(secs => %s), updated_at = now(),"
                " started_at = coalesce(started_at, now())"
                " WHERE id = %s AND client_id = %s AND status = 'queued' AND NOT cancel_requested"
                " RETURNING id, problem, attempts, max_attempts, request_id, created_at, queued_at",
                (worker, lease_s, job_id, client_id))


def renew(conn, client_id: str, job_id: uuid.UUID, worker: str, lease_s: float) -> dict | None:
    """Extend a running job's lease; {cancel_requested}, or None when the lease was lost."""
    return _one(conn,
                "UPDATE jobs SET lease_until = now() + make_interval(secs => %s)"
                " WHERE id = %s AND client_id = %s AND status = 'running' AND worker = %s"
                " RETURNING cancel_requested",
                (lease_s, job_id, client_id, worker))


def finish(conn, client_id: str, job_id: uuid.UUID, worker: str, status: str,
           solution: dict | None, error: dict | None) -> dict | None:
    """running -> succeeded | failed | cancelled, with the result."""
    _check("finish", "running", status)
    return _one(conn,
                "UPDATE jobs SET status = %s, solution = %s, error = %s, finished_at = now(),"
                " updated_at = now(), lease_until = NULL"
                " WHERE id = %s AND client_id = %s AND status = 'running' AND worker = %s"
                f" RETURNING {SUMMARY_COLUMNS}",
                (status, _json(solution), _json(error), job_id, client_id, worker))


def hand_back(conn, client_id: str, job_id: uuid.UUID, worker: str, message_id: str) -> dict | None:
    """running -> queued (the worker is stopping); the attempt is not counted. A job asked to
    stop ends ``cancelled`` instead."""
    return _one(conn, _REQUEUE.format(attempts="greatest(attempts - 1, 0)", where=_WORKER_HOLDS),
                {"message_id": message_id, "id": job_id, "client_id": client_id, "worker": worker})


def retry(conn, client_id: str, job_id: uuid.UUID, worker: str, message_id: str) -> dict | None:
    """running -> queued to be tried again later; the attempt counts (``max_attempts``). A job
    asked to stop ends ``cancelled`` instead."""
    return _one(conn, _REQUEUE.format(attempts="attempts", where=_WORKER_HOLDS),
                {"message_id": message_id, "id": job_id, "client_id": client_id, "worker": worker})


def cancel(conn, client_id: str, job_id: uuid.UUID) -> dict | None:
    """queued -> cancelled at once; a running job gets ``cancel_requested`` (its worker ends
    it). One statement: a job handed back at that moment is cancelled, not missed."""
    return _one(conn,
                "UPDATE jobs SET status = CASE WHEN status = 'queued' THEN 'cancelled' ELSE status END,"
                " finished_at = CASE WHEN status = 'queued' THEN now() END,"
                " cancel_requested = (status = 'running'), updated_at = now()"
                " WHERE id = %s AND client_id = %s AND status IN ('queued', 'running')"
                f" RETURNING {SUMMARY_COLUMNS}",
                (job_id, client_id))


def cancel_batch_jobs(conn, client_id: str, batch_id: uuid.UUID) -> tuple[list[dict], list[str]]:
    """Every queued job of the batch -> cancelled, every running one asked to stop, in one
    statement (a job claimed or handed back meanwhile is not missed): (the cancelled rows, the
    ids of the running ones)."""
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute("UPDATE jobs SET status = CASE WHEN status = 'queued' THEN 'cancelled' ELSE status END,"
                    " finished_at = CASE WHEN status = 'queued' THEN now() END,"
                    " cancel_requested = (status = 'running'), updated_at = now()"
                    " WHERE id IN (SELECT id FROM jobs WHERE batch_id = %s AND client_id = %s"
                    " AND status IN ('queued', 'running') ORDER BY id FOR UPDATE)"  # one lock order for all
                    f" RETURNING {SUMMARY_COLUMNS}", (batch_id, client_id))
        rows = cur.fetchall()
    return [r for r in rows if r["status"] == "cancelled"], [str(r["id"]) for r in rows if r["status"] == "running"]


def batch_exists(conn, client_id: str, batch_id: uuid.UUID) -> bool:
    return conn.execute("SELECT 1 FROM batches WHERE id = %s AND client_id = %s",
                        (batch_id, client_id)).fetchone() is not None


def request_batch_cancel(conn, batch_id: uuid.UUID) -> None:
    conn.execute("UPDATE batches SET cancel_requested_at = coalesce(cancel_requested_at, now()) WHERE id = %s",
                 (batch_id,))


def complete_batch(conn, client_id: str, batch_id: uuid.UUID) -> str | None | bool:
    """Mark the batch completed when none of its jobs is open (once): its one-off webhook URL
    (or None) when this call completed it, False when it did not."""
    locked = conn.execute("SELECT webhook_url FROM batches WHERE id = %s AND client_id = %s"
                          " AND completed_at IS NULL FOR UPDATE", (batch_id, client_id)).fetchone()
    if locked is None:
        return False
    done = conn.execute(
        "UPDATE batches SET completed_at = now() WHERE id = %s AND completed_at IS NULL"
        " AND NOT EXISTS (SELECT 1 FROM jobs WHERE batch_id = %s AND status IN ('queued', 'running'))"
        " RETURNING webhook_url", (batch_id, batch_id)).fetchone()
    return False if done is None else done[0]


def expire_leases(conn, limit: int, message_for) -> tuple[list[dict], list[Any]]:
    """Running jobs whose lease expired: back to queued with a new message (``message_for(id,
    client_id)``), failed with ``worker_lost`` once ``max_attempts`` claims were made, or
    cancelled when asked to stop. Rows are taken with ``FOR UPDATE SKIP LOCKED``: (the rows
    that ended, the messages to send)."""
    ended, messages = [], []
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute("SELECT id, client_id, attempts, max_attempts, cancel_requested FROM jobs"
                    " WHERE status = 'running' AND lease_until < now()"
                    " ORDER BY lease_until LIMIT %s FOR UPDATE SKIP LOCKED", (limit,))
        for job in cur.fetchall():
            if job["attempts"] >= job["max_attempts"] and not job["cancel_requested"]:
                error = {"reason": "worker_lost",
                         "detail": f"the worker stopped answering on each of {job['attempts']} attempts"}
                cur.execute("UPDATE jobs SET status = 'failed', error = %s, finished_at = now(), updated_at = now(),"
                            " lease_until = NULL WHERE id = %s RETURNING *", (Jsonb(error), job["id"]))
                ended.append(cur.fetchone())
                continue
            message = message_for(job["id"], job["client_id"])
            cur.execute(_REQUEUE.format(attempts="attempts", where="id = %(id)s"),
                        {"message_id": message.message_id, "id": job["id"]})
            row = cur.fetchone()
            if row["status"] == "queued":
                messages.append(message)
            else:
                ended.append(row)
    return ended, messages


def cancel_stranded(conn, limit: int) -> list[dict]:
    """Queued jobs asked to stop -> cancelled (no claim takes them); the rows, locked."""
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute("UPDATE jobs SET status = 'cancelled', finished_at = now(), updated_at = now(),"
                    " message_id = NULL WHERE id IN (SELECT id FROM jobs WHERE status = 'queued'"
                    " AND cancel_requested LIMIT %s FOR UPDATE SKIP LOCKED)"
                    f" RETURNING {SUMMARY_COLUMNS}", (limit,))
        return cur.fetchall()


def orphans(conn, grace_s: float, limit: int) -> list[dict]:
    """Queued jobs waiting longer than ``grace_s`` (their message may be lost), locked."""
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute("SELECT id, client_id, message_id FROM jobs WHERE status = 'queued' AND NOT cancel_requested"
                    " AND queued_at < now() - make_interval(secs => %s)"
                    " ORDER BY queued_at LIMIT %s FOR UPDATE SKIP LOCKED", (grace_s, limit))
        return cur.fetchall()


def resend(conn, job_id: uuid.UUID, message_id: str) -> None:
    """A queued job's new message (its old one was lost): no change of status."""
    conn.execute("UPDATE jobs SET message_id = %s, queued_at = now() WHERE id = %s", (message_id, job_id))


def allowed(transition: str, before: str | None, after: str) -> bool:
    return (before, after) in TRANSITIONS.get(transition, ())


def _check(transition: str, before: str | None, after: str) -> None:
    if not allowed(transition, before, after):
        raise ValueError(f"{transition}: {before} -> {after} is not a transition of the job state machine")


_WORKER_HOLDS = ("id = %(id)s AND client_id = %(client_id)s AND status = 'running'"
                 " AND worker = %(worker)s")
# Back to the queue, or cancelled when the job was asked to stop (never queued again)
_REQUEUE = (
    "UPDATE jobs SET status = CASE WHEN cancel_requested THEN 'cancelled' ELSE 'queued' END,"
    " finished_at = CASE WHEN cancel_requested THEN now() END,"
    " message_id = CASE WHEN cancel_requested THEN NULL ELSE %(message_id)s END,"
    " queued_at = CASE WHEN cancel_requested THEN queued_at ELSE now() END,"
    " attempts = {attempts}, worker = NULL, lease_until = NULL, updated_at = now()"
    f" WHERE {{where}} RETURNING {SUMMARY_COLUMNS}")

_CREATE = """
INSERT INTO jobs (id, client_id, status, problem, problem_hash, metadata, max_attempts,
                  idempotency_key, request_hash, request_id, message_id,
                  solution, deduplicated_from, started_at, finished_at, webhook_url)
VALUES (%(id)s, %(client_id)s, %(status)s, %(problem)s, %(problem_hash)s, %(metadata)s, %(max_attempts)s,
        %(idempotency_key)s, %(request_hash)s, %(request_id)s, %(message_id)s,
        %(solution)s, %(deduplicated_from)s,
        CASE WHEN %(done)s THEN now() END, CASE WHEN %(done)s THEN now() END, %(webhook_url)s)
ON CONFLICT (client_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
RETURNING id, status, created_at, deduplicated_from, webhook_url
"""


def _one(conn, sql: str, params) -> dict | None:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(sql, params)
        return cur.fetchone()


def _json(value: Any) -> Jsonb | None:
    return None if value is None else Jsonb(value)
