"""What a job's terminal transition sets off, inside the same shard transaction.

This module is what the composition root (``farm.Farm``) plugs into the job store's door as
its ``Effects``: ``on_job_terminal(conn, row)`` runs in every transaction that ends a job
(a result stored, a cancel, a ``worker_lost`` failure, a job asked to stop that goes back to
the queue, a de-duplicated job): it inserts one delivery per subscribed endpoint (plus the
job's one-off target), and completes the job's batch when it was the batch's last open job;
``jobs_ended`` and ``complete_batch`` serve a batch's jobs ended together. Because the rows commit with the state change, no
callback is lost; the returned messages are sent after the commit (the reaper re-sends any
that never reach Redis).

Batch completion fires once: the batch row is locked (``FOR UPDATE``) before the
``NOT EXISTS`` check, so two jobs ending at the same moment are serialized and the second
one sees the first as terminal; ``completed_at IS NULL`` makes a repeat change nothing.
"""

from __future__ import annotations

import uuid

import dramatiq

from ..jobs import states
from . import deliveries, endpoints
from .deliveries import NewDelivery

BATCH_COMPLETED = "batch.completed"


def job_event(status: str) -> str:
    return f"job.{status}"


def on_job_terminal(conn, row: dict) -> list[dramatiq.Message]:
    """Effects of one job reaching succeeded, failed or cancelled."""
    messages = jobs_ended(conn, row["client_id"], [row])
    if row.get("batch_id"):
        messages += complete_batch(conn, row["client_id"], row["batch_id"])
    return messages


def jobs_ended(conn, client_id: str, rows: list[dict]) -> list[dramatiq.Message]:
    """Deliveries of the terminal events of ``rows`` (one client's jobs); no batch check."""
    subscribed = endpoints.active_for(conn, client_id) if rows else []
    items = []
    for row in rows:
        event = job_event(row["status"])
        items += [NewDelivery(client_id, ep["url"], event, endpoint_id=ep["id"], job_id=row["id"],
                              batch_id=row.get("batch_id"))
                  for ep in subscribed if event in ep["event_types"]]
        if row.get("webhook_url"):
            items.append(NewDelivery(client_id, row["webhook_url"], event, job_id=row["id"],
                                     batch_id=row.get("batch_id")))
    return deliveries.insert(conn, items)


def complete_batch(conn, client_id: str, batch_id: uuid.UUID) -> list[dramatiq.Message]:
    """Mark the batch completed when none of its jobs is open; its deliveries, once."""
    completed = states.complete_batch(conn, client_id, batch_id)
    if completed is False:
        return []
    items = [NewDelivery(client_id, ep["url"], BATCH_COMPLETED, endpoint_id=ep["id"], batch_id=batch_id)
             for ep in endpoints.active_for(conn, client_id) if BATCH_COMPLETED in ep["event_types"]]
    if completed:
        items.append(NewDelivery(client_id, completed, BATCH_COMPLETED, batch_id=batch_id))
    return deliveries.insert(conn, items)
