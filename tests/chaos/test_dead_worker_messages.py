"""Regressions (found by the chaos run): a message taken by a worker that died before it
claimed the job went back to the queue only after Dramatiq's heartbeat timeout, 60 s, while
the job stayed ``queued`` and the reaper, seeing the message in the broker, left it alone;
and on a quiet queue (webhooks) not even then, until Dramatiq's maintenance happened to run
(one command in a thousand).

A consumer of these tests takes a message and is then abandoned without an ack, as a
``kill -9`` leaves it.
"""

from __future__ import annotations

import time
import uuid

import pytest
from pipeline_support import Processes, close_open_jobs
from support import SMALL_PROBLEM, make_settings

from routefarm.broker import (
    HEARTBEAT_MS,
    SOLVE_QUEUE,
    WEBHOOK_QUEUE,
    delivery_message,
    enqueue,
    make_broker,
    messages_present,
)
from routefarm.farm import Farm
from routefarm.farm.reaper import reap
from routefarm.jobs.submit import submit

WORKER_START = 15.0  # seconds for a worker process to boot on a busy 2-core machine


def take(broker, queue: str):
    """One message of ``queue``, taken by a consumer of ``broker`` and not acked."""
    consumer = broker.consume(queue, prefetch=1, timeout=100)
    deadline = time.monotonic() + 10
    taken = None
    while taken is None and time.monotonic() < deadline:
        taken = next(consumer)
    assert taken is not None, f"nothing to take on {queue}"
    return taken


@pytest.mark.chaos
def test_a_dead_workers_message_goes_back_to_the_queue(databases, own_redis, tmp_path):
    close_open_jobs(databases)
    settings = make_settings(databases, own_redis.url(0).rsplit("/", 1)[0])
    farm = Farm(settings).open(wait=True)
    procs = Processes(settings, tmp_path)
    doomed = make_broker(settings)
    try:
        client_id = farm.directory.create_client("dead-consumer")[0].id
        job_id = submit(farm, client_id, {"problem": SMALL_PROBLEM}).document["id"]

        assert take(doomed, SOLVE_QUEUE).args[0] == job_id
        doomed.close()  # never acked, never heard of again: what a kill -9 leaves behind
        died = time.monotonic()
        with farm.db.shard(farm.directory.shard_of(client_id)) as conn:
            [(message_id,)] = conn.execute(
                "SELECT message_id FROM jobs WHERE id = %s", (job_id,)
            ).fetchall()
        assert messages_present(farm.broker, SOLVE_QUEUE, [message_id]) == [True]

        procs.worker("solve-1")
        procs.stream()
        budget = HEARTBEAT_MS / 1000 + WORKER_START
        assert budget < 60
        while (
            status := farm.store.get(client_id, uuid.UUID(job_id), with_solution=False)["status"]
        ) != "succeeded":
            assert time.monotonic() - died < budget, (
                f"the job is still {status} {budget:.0f} s after its worker died"
            )
            time.sleep(0.2)
    finally:
        procs.stop_all()
        farm.close()


@pytest.mark.chaos
def test_the_reaper_puts_back_what_a_dead_webhook_sender_held(databases, own_redis):
    close_open_jobs(databases)
    settings = make_settings(databases, own_redis.url(0).rsplit("/", 1)[0])
    farm = Farm(settings).open(wait=True)
    farm.broker.heartbeat_timeout = 1000  # here a worker silent for 1 s counts as dead
    doomed = make_broker(settings)
    try:
        message = delivery_message(str(uuid.uuid4()), "a-client")
        enqueue(farm.broker, message)
        assert take(doomed, WEBHOOK_QUEUE).message_id == message.message_id
        doomed.close()  # killed while it held the message
        queue = f"{farm.broker.namespace}:{WEBHOOK_QUEUE}"
        key = f"{message.message_id}.0"
        assert key.encode() not in farm.broker.client.lrange(queue, 0, -1)

        time.sleep(1.5)
        reap(farm)
        assert key.encode() in farm.broker.client.lrange(queue, 0, -1)
        assert messages_present(farm.broker, WEBHOOK_QUEUE, [message.message_id]) == [True]
        assert not farm.broker.client.keys(f"{farm.broker.namespace}:__acks__.{doomed.broker_id}*")
    finally:
        farm.close()
