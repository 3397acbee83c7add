"""Delivery rows: one per event per target, and the log of their attempts.

A delivery's ``message_id`` names the one broker message allowed to make its next attempt:
the attempt claims the row by that token (``UPDATE … WHERE message_id = token``), so a
duplicate or stale message changes nothing. A row that is ``pending`` past its
``next_attempt_at`` while its message is in no queue is re-sent by the reaper.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import dramatiq
from psycopg.rows import dict_row

from ..broker import delivery_message
from ..ids import new_job_id
from ..jobs.documents import iso_time

STATUSES = ("pending", "succeeded", "failed", "disabled")
COLUMNS = ("id, client_id, endpoint_id, url, event_type, job_id, batch_id, event_at, status, attempts,"
           " schedule_from, next_attempt_at, message_id, last_error, created_at, updated_at, finished_at")


@dataclass(frozen=True)
class NewDelivery:
    client_id: str
    url: str
    event_type: str
    endpoint_id: uuid.UUID | None = None
    job_id: uuid.UUID | None = None
    batch_id: uuid.UUID | None = None


def insert(conn, items: list[NewDelivery]) -> list[dramatiq.Message]:
    """Insert pending deliveries due now; return their first messages (send after commit)."""
    if not items:
        return []
    messages, rows = [], []
    for item in items:
        delivery_id = new_job_id()
        message = delivery_message(str(delivery_id), item.client_id)
        messages.append(message)
        rows.append((delivery_id, item.client_id, item.endpoint_id, item.url, item.event_type,
                     item.job_id, item.batch_id, message.message_id))
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO webhook_deliveries (id, client_id, endpoint_id, url, event_type, job_id,"
            " batch_id, event_at, next_attempt_at, message_id)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, now(), now(), %s)", rows)
    return messages


def claim(conn, delivery_id: uuid.UUID, client_id: str, token: str, lease: float) -> dict | None:
    """Take the row for one attempt (None: another message owns it, or it is over)."""
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            "UPDATE webhook_deliveries SET message_id = NULL, updated_at = now(),"
            " next_attempt_at = now() + make_interval(secs => %s)"
            " WHERE id = %s AND client_id = %s AND status = 'pending' AND message_id = %s"
            f" RETURNING {COLUMNS}", (lease, delivery_id, client_id, token))
        return cur.fetchone()


def add_attempt(conn, delivery: dict, url: str, status_code: int | None, latency: float,
                error: str | None, next_attempt_at: datetime | None) -> None:
    conn.execute(
        "INSERT INTO webhook_attempts (id, delivery_id, client_id, attempt, url, status_code, latency_ms,"
        " error, next_attempt_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (new_job_id(), delivery["id"], delivery["client_id"], delivery["attempts"] + 1, url, status_code,
         round(latency * 1000, 3), error, next_attempt_at))


def settle(conn, delivery_id: uuid.UUID, status: str, error: str | None, attempted: bool = True) -> None:
    """End a delivery: succeeded, failed (schedule exhausted, 410) or disabled (its endpoint)."""
    conn.execute(
        "UPDATE webhook_deliveries SET status = %s, last_error = %s, attempts = attempts + %s,"
        " next_attempt_at = NULL, message_id = NULL, finished_at = now(), updated_at = now()"
        " WHERE id = %s", (status, error, 1 if attempted else 0, delivery_id))


def reschedule(conn, delivery: dict, delay: float, error: str) -> tuple[dramatiq.Message, datetime]:
    """One more attempt in ``delay`` seconds, by a new message (send it after commit)."""
    message = delivery_message(str(delivery["id"]), delivery["client_id"])
    row = conn.execute(
        "UPDATE webhook_deliveries SET attempts = attempts + 1, last_error = %s, message_id = %s,"
        " next_attempt_at = now() + make_interval(secs => %s), updated_at = now()"
        " WHERE id = %s RETURNING next_attempt_at", (error, message.message_id, delay, delivery["id"])).fetchone()
    return message, row[0]


def postpone(conn, delivery_id: uuid.UUID, client_id: str, token: str, delay: float) -> dramatiq.Message | None:
    """The attempt ``token`` stands for, moved ``delay`` seconds later by a new message (send it
    after commit); not an attempt. None when the token is stale."""
    message = delivery_message(str(delivery_id), client_id)
    row = conn.execute(
        "UPDATE webhook_deliveries SET message_id = %s, next_attempt_at = now() + make_interval(secs => %s),"
        " updated_at = now() WHERE id = %s AND client_id = %s AND status = 'pending' AND message_id = %s"
        " RETURNING id", (message.message_id, delay, delivery_id, client_id, token)).fetchone()
    return None if row is None else message


def close_pending(conn, endpoint_id: uuid.UUID, reason: str) -> int:
    """Stop every pending delivery to an endpoint (disabled or deleted); their messages go stale."""
    return conn.execute(
        "UPDATE webhook_deliveries SET status = 'disabled', last_error = %s, message_id = NULL,"
        " next_attempt_at = NULL, finished_at = now(), updated_at = now()"
        " WHERE endpoint_id = %s AND status = 'pending'", (reason, endpoint_id)).rowcount


def reopen(conn, client_id: str, delivery_id: uuid.UUID) -> tuple[dict, dramatiq.Message] | None:
    """A manual retry: pending again, due now, the schedule starting over (same webhook-id)."""
    message = delivery_message(str(delivery_id), client_id)
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            "UPDATE webhook_deliveries SET status = 'pending', message_id = %s, next_attempt_at = now(),"
            " schedule_from = attempts, finished_at = NULL, updated_at = now()"
            f" WHERE id = %s AND client_id = %s RETURNING {COLUMNS}", (message.message_id, delivery_id, client_id))
        row = cur.fetchone()
    return None if row is None else (row, message)


def get(conn, client_id: str, delivery_id: uuid.UUID) -> dict | None:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(f"SELECT {COLUMNS} FROM webhook_deliveries WHERE id = %s AND client_id = %s",
                    (delivery_id, client_id))
        return cur.fetchone()


def for_job(conn, client_id: str, job_id: uuid.UUID, limit: int, after: uuid.UUID | None = None) -> list[dict]:
    """The deliveries of the job's terminal event (one per target), in id order: up to
    ``limit`` after ``after``."""
    return _page(conn, "job_id = %s", [job_id], client_id, limit, after)


def for_batch(conn, client_id: str, batch_id: uuid.UUID, limit: int, after: uuid.UUID | None = None) -> list[dict]:
    """The batch's own deliveries (batch.completed), as ``for_job``."""
    return _page(conn, "batch_id = %s AND job_id IS NULL", [batch_id], client_id, limit, after)


def _page(conn, where: str, params: list, client_id: str, limit: int, after: uuid.UUID | None) -> list[dict]:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(f"SELECT {COLUMNS} FROM webhook_deliveries WHERE client_id = %s AND {where}"
                    + (" AND id > %s" if after else "") + " ORDER BY id LIMIT %s",
                    [client_id, *params, *([after] if after else []), limit])
        return cur.fetchall()


def attempts_of(conn, delivery_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[dict]]:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute("SELECT delivery_id, attempt, url, at, status_code, latency_ms, error, next_attempt_at"
                    " FROM webhook_attempts WHERE delivery_id = ANY(%s) ORDER BY delivery_id, attempt",
                    (delivery_ids,))
        found: dict[uuid.UUID, list[dict]] = {}
        for row in cur.fetchall():
            found.setdefault(row.pop("delivery_id"), []).append(row)
        return found


def document(row: dict, attempts: list[dict] | None = None, base_url: str = "") -> dict[str, Any]:
    """The public view of a delivery and its attempts."""
    delivery_id = str(row["id"])
    doc: dict[str, Any] = {
        "id": delivery_id, "webhook_id": webhook_id(row["id"]), "event_type": row["event_type"],
        "status": row["status"], "url": row["url"],
        "endpoint_id": str(row["endpoint_id"]) if row["endpoint_id"] else None,
        "job_id": str(row["job_id"]) if row["job_id"] else None,
        "batch_id": str(row["batch_id"]) if row["batch_id"] else None,
        "attempts": row["attempts"], "next_attempt_at": iso_time(row["next_attempt_at"]),
        "last_error": row["last_error"], "created_at": iso_time(row["created_at"]),
        "finished_at": iso_time(row["finished_at"]),
        "links": {"self": f"{base_url}/v1/deliveries/{delivery_id}",
                  "retry": f"{base_url}/v1/deliveries/{delivery_id}/retry"},
    }
    if attempts is not None:
        doc["log"] = [{"attempt": a["attempt"], "at": iso_time(a["at"]), "url": a["url"],
                       "status_code": a["status_code"], "latency_ms": a["latency_ms"], "error": a["error"],
                       "next_attempt_at": iso_time(a["next_attempt_at"])} for a in attempts]
    return doc


def webhook_id(delivery_id: uuid.UUID | str) -> str:
    """The ``webhook-id`` header: the same on every attempt of one delivery."""
    return f"msg_{uuid.UUID(str(delivery_id)).hex}"
