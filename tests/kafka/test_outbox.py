"""The transactional outbox and its relay, against real Postgres and a real Kafka broker."""

from __future__ import annotations

import threading
import uuid

import pytest
from kafka_support import TopicReader, outbox_rows, per_job
from support import SMALL_PROBLEM, free_port, solved_job

from routefarm.jobs.submit import submit
from routefarm.kafka.names import JOB_EVENTS_TOPIC
from routefarm.kafka.relay import Relay, backlog, producer

TIMEOUT_MS = 3000


def relay_for(farm, bootstrap: str, batch: int = 500, max_event_bytes: int | None = None, **config) -> Relay:
    """A relay as the stream process makes one (its producer takes ``config`` on top)."""
    limit = max_event_bytes or farm.settings.relay_max_event_bytes
    return Relay(farm.db, producer(bootstrap, limit, TIMEOUT_MS, "test-relay", **config), batch, retention=3600,
                 message_timeout=TIMEOUT_MS / 1000, max_event_bytes=limit)


def problem(n: int) -> dict:
    return {**SMALL_PROBLEM, "options": {"time_limit": 0.2, "seed": n}}


def test_every_status_change_writes_one_event_with_the_change(farm, client_factory):
    client_id, _ = client_factory()
    job_id, solution = solved_job(farm, client_id, problem(1))
    rows = outbox_rows(farm, client_id)
    assert [r["type"] for r in rows] == ["routefarm.job.queued", "routefarm.job.running",
                                         "routefarm.job.succeeded"]
    assert {str(r["job_id"]) for r in rows} == {job_id} and all(r["sent_at"] is None for r in rows)
    done = rows[-1]["data"]
    assert done["previous_status"] == "running" and done["attempt"] == 1
    assert done["summary"] == solution["summary"] and done["solution_status"] == solution["status"]
    assert "solution" not in done and done["metadata"] == {"base": True}

    again = submit(farm, client_id, {"problem": problem(1)})  # de-duplicated: born succeeded
    queued = submit(farm, client_id, {"problem": problem(2)})
    farm.store.cancel(client_id, uuid.UUID(queued.document["id"]))
    events = [(str(r["job_id"]), r["type"]) for r in outbox_rows(farm, client_id)[3:]]
    assert events == [(again.document["id"], "routefarm.job.succeeded"),
                      (queued.document["id"], "routefarm.job.queued"),
                      (queued.document["id"], "routefarm.job.cancelled")]
    # a write that changes no status (a lease renewal) is no event
    farm.store.renew(client_id, uuid.UUID(job_id), "test-worker", 5.0)
    assert len(outbox_rows(farm, client_id)) == 6


def test_the_relay_publishes_each_jobs_events_in_order_and_marks_them_sent(farm, client_factory, kafka_settings):
    bootstrap = kafka_settings.kafka_bootstrap
    clients_ = [client_factory(f"c{i}")[0] for i in range(3)]
    jobs = {solved_job(farm, c, problem(10 + i))[0]: c for i, c in enumerate(clients_)}
    reader = TopicReader(bootstrap, JOB_EVENTS_TOPIC)
    reader.start()
    try:
        relay = relay_for(farm, bootstrap, batch=2)  # several passes, each in id order
        published = 0
        for _ in range(10):
            result, more = relay.run_once()
            published += result.published
            if not more:
                break
        assert published == 9
        events = reader.wait_for(lambda v: len(v) >= 9)
    finally:
        reader.stop()
    assert per_job(events) == {job: ["queued", "running", "succeeded"] for job in jobs}
    for record in reader.records:
        event = record["value"]
        assert record["key"] == jobs[event["subject"]]  # key = client id: a client's events share a partition
        assert record["headers"]["content-type"].startswith(b"application/cloudevents+json")
        assert event["specversion"] == "1.0" and event["source"] == "/routefarm/jobs"
        assert event["type"] == f"routefarm.job.{event['data']['status']}" and event["time"].endswith("Z")
        assert event["data"]["client_id"] == jobs[event["subject"]]
    assert all(r["sent_at"] is not None for c in clients_ for r in outbox_rows(farm, c))
    assert set(backlog(farm.db).values()) == {0}
    assert relay.run_once()[0].published == 0


def test_with_kafka_down_events_wait_and_none_is_lost(farm, client_factory, kafka_settings):
    client_id, _ = client_factory()
    job_id, _ = solved_job(farm, client_id, problem(20))
    dead = relay_for(farm, f"127.0.0.1:{free_port()}")  # nobody listens there
    result, more = dead.run_once()
    assert (result.published, result.failed, more) == (0, 3, False)
    assert [r["sent_at"] for r in outbox_rows(farm, client_id)] == [None] * 3
    assert sum(backlog(farm.db).values()) == 3

    reader = TopicReader(kafka_settings.kafka_bootstrap, JOB_EVENTS_TOPIC)
    reader.start()
    try:
        assert relay_for(farm, kafka_settings.kafka_bootstrap).run_once()[0].published == 3
        events = reader.wait_for(lambda v: len(v) >= 3)
    finally:
        reader.stop()
    assert per_job(events) == {job_id: ["queued", "running", "succeeded"]}
    assert [e["id"] for e in events] == [str(r["event_id"]) for r in outbox_rows(farm, client_id)]


def test_relays_running_together_share_the_shards_and_keep_the_order(farm, client_factory, kafka_settings):
    bootstrap = kafka_settings.kafka_bootstrap
    jobs = {}
    for i in range(6):
        client_id = client_factory(f"r{i}")[0]
        jobs[solved_job(farm, client_id, problem(30 + i))[0]] = client_id
    relays = [relay_for(farm, bootstrap, batch=3) for _ in range(3)]
    published = [0] * len(relays)

    def drain(i: int) -> None:
        for _ in range(30):
            result, _more = relays[i].run_once()
            published[i] += result.published

    reader = TopicReader(bootstrap, JOB_EVENTS_TOPIC)
    reader.start()
    try:
        threads = [threading.Thread(target=drain, args=(i,)) for i in range(len(relays))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        events = reader.wait_for(lambda v: len(v) >= 18)
    finally:
        reader.stop()
    # each row is marked sent by one relay (a shard is published by one relay at a time); Kafka
    # may still deliver a retried send twice, with the same id
    assert sum(published) == 18 == len({e["id"] for e in events}), (published, len(events))
    assert per_job(events) == {job: ["queued", "running", "succeeded"] for job in jobs}


@pytest.mark.parametrize("unsent", [True, False])
def test_a_shard_move_carries_unsent_events_and_copies_make_none(farm, client_factory, kafka_settings, unsent):
    from routefarm.db.sharding import move

    client_id, _ = client_factory()
    job_id, _ = solved_job(farm, client_id, problem(40))
    if not unsent:
        relay_for(farm, kafka_settings.kafka_bootstrap).run_once()
    before = outbox_rows(farm, client_id)
    source = farm.directory.shard_of(client_id)
    target = next(s for s in farm.db.shards if s != source)
    assert move(farm, client_id, target) == 1
    after = outbox_rows(farm, client_id)
    with farm.db.shard(source) as conn:
        assert conn.execute("SELECT count(*) FROM outbox WHERE client_id = %s", (client_id,)).fetchone()[0] == 0
    if unsent:
        assert [(r["event_id"], r["type"], r["sent_at"]) for r in after] == \
            [(r["event_id"], r["type"], None) for r in before]
    else:
        assert after == []  # published before the move: nothing left to send, no copy made an event
    farm.store.cancel(client_id, uuid.UUID(job_id))  # succeeded: no change, no event
    assert len(outbox_rows(farm, client_id)) == len(after)
