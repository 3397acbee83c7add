"""Cancelled means cancelled: a running job asked to stop that goes back to the queue by any
path (its worker handing it back on SIGTERM, a retry, the reaper's lease expiry) ends
``cancelled`` instead, with the webhook deliveries and outbox events of an ordinary cancel,
and its batch completes. On a real shard, through the job store and the reaper."""

from __future__ import annotations

import uuid

import pytest
from support import PUBLIC_HOOK, SMALL_PROBLEM

from routefarm.farm.reaper import reap
from routefarm.jobs import states
from routefarm.jobs.batches import submit_batch
from routefarm.webhooks import endpoints

WORKER = "w:requeue"


def batch_of_two(farm, client_id: str) -> tuple[str, uuid.UUID, uuid.UUID]:
    """A batch of two jobs for a client with an endpoint for every event: (batch id, the job
    that will run, the other one)."""
    farm.store.on_shard(client_id, lambda conn: endpoints.create(conn, client_id, {
        "url": PUBLIC_HOOK, "event_types": ["job.cancelled", "batch.completed"]}, limit=20))
    problems = [{**SMALL_PROBLEM, "options": {"time_limit": t}} for t in (0.31, 0.32)]
    accepted = submit_batch(farm, client_id, {"jobs": [{"problem": p} for p in problems]})
    first, second = (uuid.UUID(i) for i in accepted["job_ids"])
    return accepted["id"], first, second


def running_and_asked_to_stop(farm, client_id: str, job_id: uuid.UUID, lease_s: float = 30.0) -> None:
    assert farm.store.claim(client_id, job_id, WORKER, lease_s) is not None
    row = farm.store.cancel(client_id, job_id)
    assert row["status"] == "running" and row["cancel_requested"]


def shard_rows(farm, client_id: str, batch_id: str, job_id: uuid.UUID) -> dict:
    with farm.db.shard(farm.directory.shard_of(client_id)) as conn:
        status, attempts, message_id = conn.execute(
            "SELECT status, attempts, message_id FROM jobs WHERE id = %s", (job_id,)).fetchone()
        events = conn.execute("SELECT type, data->>'previous_status' FROM outbox WHERE job_id = %s ORDER BY id",
                              (job_id,)).fetchall()
        deliveries = conn.execute("SELECT event_type FROM webhook_deliveries WHERE job_id = %s",
                                  (job_id,)).fetchall()
        completed = conn.execute("SELECT completed_at IS NOT NULL FROM batches WHERE id = %s",
                                 (batch_id,)).fetchone()[0]
        batch_events = conn.execute("SELECT event_type FROM webhook_deliveries WHERE batch_id = %s"
                                    " AND job_id IS NULL", (batch_id,)).fetchall()
    return {"status": status, "attempts": attempts, "message_id": message_id, "events": events,
            "deliveries": [d for (d,) in deliveries], "completed": completed,
            "batch_deliveries": [d for (d,) in batch_events]}


def hand_back(farm, client_id, job_id):
    return farm.store.hand_back(client_id, job_id, WORKER)


def retry(farm, client_id, job_id):
    return farm.store.retry(client_id, job_id, WORKER, 0.0)


def lease_expiry(farm, client_id, job_id):
    reaped = reap(farm)
    assert str(job_id) in reaped.cancelled and str(job_id) not in reaped.requeued + reaped.failed
    return farm.store.get(client_id, job_id)


@pytest.mark.parametrize("requeue", [hand_back, retry, lease_expiry], ids=["hand_back", "retry", "lease_expiry"])
def test_a_job_asked_to_stop_ends_cancelled_instead_of_going_back_to_the_queue(farm, client_factory, requeue):
    client_id, _ = client_factory(f"requeue-{requeue.__name__}")
    batch_id, job_id, other = batch_of_two(farm, client_id)
    assert farm.store.cancel(client_id, other)["status"] == "cancelled"  # queued: at once
    lease = -1.0 if requeue is lease_expiry else 30.0  # the reaper's case: its worker vanished
    running_and_asked_to_stop(farm, client_id, job_id, lease)

    row = requeue(farm, client_id, job_id)
    assert row["status"] == "cancelled" and row["finished_at"] is not None
    found = shard_rows(farm, client_id, batch_id, job_id)
    assert found["status"] == "cancelled" and found["message_id"] is None
    # the events of an ordinary cancel of a running job: nothing says it was queued again
    assert found["events"] == [("routefarm.job.queued", None), ("routefarm.job.running", "queued"),
                               ("routefarm.job.cancelled", "running")]
    assert found["deliveries"] == ["job.cancelled"]
    assert found["completed"] and found["batch_deliveries"] == ["batch.completed"]
    assert farm.store.claim(client_id, job_id, WORKER, 30.0) is None  # no later message runs it
    if requeue is lease_expiry:  # the reaper ends it as every other path does: the cache says so
        assert farm.cache.get_job(str(job_id))["status"] == "cancelled"


@pytest.mark.parametrize("requeue", [hand_back, retry], ids=["hand_back", "retry"])
def test_a_job_not_asked_to_stop_goes_back_to_the_queue(farm, client_factory, requeue):
    client_id, _ = client_factory("requeue-plain")
    batch_id, job_id, _ = batch_of_two(farm, client_id)
    assert farm.store.claim(client_id, job_id, WORKER, 30.0) is not None
    row = requeue(farm, client_id, job_id)
    assert row["status"] == "queued" and row["finished_at"] is None
    found = shard_rows(farm, client_id, batch_id, job_id)
    assert found["message_id"] is not None and found["deliveries"] == [] and not found["completed"]
    assert found["attempts"] == (0 if requeue is hand_back else 1)


def test_a_queued_job_left_asked_to_stop_is_cancelled_by_the_reaper(farm, client_factory):
    """A job an earlier version left queued with its cancel flag (no claim takes it) ends."""
    client_id, _ = client_factory("stranded")
    batch_id, job_id, other = batch_of_two(farm, client_id)
    assert farm.store.cancel(client_id, other)["status"] == "cancelled"
    with farm.db.shard(farm.directory.shard_of(client_id)) as conn:
        conn.execute("UPDATE jobs SET cancel_requested = true WHERE id = %s", (job_id,))
    assert str(job_id) in reap(farm).cancelled
    found = shard_rows(farm, client_id, batch_id, job_id)
    assert found["status"] == "cancelled" and found["deliveries"] == ["job.cancelled"] and found["completed"]


def test_cancelling_a_batch_misses_no_job(farm, client_factory):
    """Queued jobs cancelled and running ones asked to stop in one statement; a running job
    handed back afterwards ends cancelled."""
    client_id, _ = client_factory("batch-cancel")
    batch_id, running, queued = batch_of_two(farm, client_id)
    assert farm.store.claim(client_id, running, WORKER, 30.0) is not None
    with farm.db.shard(farm.directory.shard_of(client_id)) as conn:
        ended, stopping = states.cancel_batch_jobs(conn, client_id, uuid.UUID(batch_id))
    assert [r["id"] for r in ended] == [queued] and stopping == [str(running)]
    assert hand_back(farm, client_id, running)["status"] == "cancelled"
    assert shard_rows(farm, client_id, batch_id, running)["completed"]
