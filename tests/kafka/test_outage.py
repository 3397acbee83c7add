"""Acceptance: the Kafka broker stopped for 30 s while jobs finish; after it returns every
lifecycle event arrives, in per-job order, none lost (real worker and stream processes)."""

from __future__ import annotations

import time

import pytest
from kafka_support import TopicReader, per_job, wait_until
from support import SMALL_PROBLEM, Processes

from routefarm.jobs.submit import submit
from routefarm.kafka.clients import ensure_topics
from routefarm.kafka.names import JOB_EVENTS_TOPIC
from routefarm.kafka.relay import backlog

OUTAGE = 30.0
LIFECYCLE = ["queued", "running", "succeeded"]


def submit_jobs(farm, client_id: str, first: int, count: int) -> list[str]:
    return [submit(farm, client_id, {"problem": {**SMALL_PROBLEM, "options": {"time_limit": 0.1, "seed": n}}})
            .document["id"] for n in range(first, first + count)]


def all_succeeded(farm, client_id: str, ids: list[str]) -> bool:
    with farm.db.shard(farm.directory.shard_of(client_id)) as conn:
        statuses = conn.execute("SELECT status FROM jobs WHERE id = ANY(%s::uuid[])", (ids,)).fetchall()
    return len(statuses) == len(ids) and all(s == "succeeded" for (s,) in statuses)


@pytest.mark.slow
def test_events_wait_out_a_broker_outage_and_arrive_in_order(farm, client_factory, kafka_broker,
                                                              kafka_settings, tmp_path):
    if not hasattr(kafka_broker, "stop"):
        pytest.skip("needs the embedded broker (a configured one cannot be stopped here)")
    client_id, _ = client_factory()
    procs = Processes(kafka_settings.model_copy(update={"relay_interval_s": 0.2}), tmp_path)
    reader = TopicReader(kafka_broker.bootstrap, JOB_EVENTS_TOPIC)
    reader.start()
    try:
        procs.worker()
        procs.stream()
        before = submit_jobs(farm, client_id, 0, 10)
        wait_until(lambda: all_succeeded(farm, client_id, before), 60, "the first jobs succeeded")
        wait_until(lambda: sum(backlog(farm.db).values()) == 0, 30, "the first events published")
        reader.wait_for(lambda v: len(per_job(v, client_id)) == 10
                        and all(len(s) == 3 for s in per_job(v, client_id).values()))
        reader.stop()  # the broker keeps its log in memory: what was read is all it will have had

        kafka_broker.stop(immediate=True)
        stopped = time.monotonic()
        during = submit_jobs(farm, client_id, 100, 10)
        wait_until(lambda: all_succeeded(farm, client_id, during), 60, "jobs finished during the outage")
        waiting = sum(backlog(farm.db).values())
        assert waiting >= 30  # nothing could be published: every event waits in the outbox
        time.sleep(max(0.0, OUTAGE - (time.monotonic() - stopped)))

        kafka_broker.start()  # same port, empty log: the topic is created again, as an operator would
        ensure_topics(kafka_broker.bootstrap, partitions=3)
        after = TopicReader(kafka_broker.bootstrap, JOB_EVENTS_TOPIC)
        after.start()
        try:
            events = after.wait_for(lambda v: len(per_job(v, client_id)) == 10 and all(
                len(s) == 3 for s in per_job(v, client_id).values()), timeout=60)
            wait_until(lambda: sum(backlog(farm.db).values()) == 0, 30, "the backlog drained")
        finally:
            after.stop()
    finally:
        procs.stop_all()
    first = per_job(reader.values(), client_id)
    assert first == {job: LIFECYCLE for job in before}
    assert per_job(events, client_id) == {job: LIFECYCLE for job in during}
    ids: dict[str, dict] = {}
    for event in events:  # a duplicate is the same event: same id, same content
        assert ids.setdefault(event["id"], event) == event
