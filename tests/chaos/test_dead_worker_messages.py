"""Regression (found by the chaos run): a message taken by a worker that died before it
claimed the job went back to the queue only after Dramatiq's heartbeat timeout, 60 s, while
the job stayed ``queued`` and the reaper, seeing the message in the broker, left it alone.

A consumer of this test takes the job's message and is then abandoned without an ack, as a
``kill -9`` leaves it; a real worker must solve the job well within the old 60 s.
"""

from __future__ import annotations

import time
import uuid

import pytest
from pipeline_support import Processes, close_open_jobs
from support import SMALL_PROBLEM, make_settings

from routefarm.broker import HEARTBEAT_MS, SOLVE_QUEUE, make_broker, messages_present
from routefarm.farm import Farm
from routefarm.submit import submit

WORKER_START = 15.0  # seconds for a worker process to boot on a busy 2-core machine


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

        consumer = doomed.consume(SOLVE_QUEUE, prefetch=1, timeout=100)
        deadline = time.monotonic() + 10
        taken = None
        while taken is None and time.monotonic() < deadline:
            taken = next(consumer)
        assert taken is not None and taken.args[0] == job_id
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
