"""Re-optimization events from Kafka become jobs: idempotently, with a dead-letter topic and
backpressure; real Postgres, Redis and Kafka."""

from __future__ import annotations

import threading
import uuid

import pytest
import redis
from ingest_support import Running, base_problem, committed, event, reoptimized
from kafka_support import TopicReader, produce, scrape, wait_until
from support import free_port, solved_job

from routefarm.jobs.submit import submit
from routefarm.kafka.names import DLQ_TOPIC, REOPTIMIZE_TOPIC


def test_an_event_becomes_one_job_however_often_it_arrives(farm, client_factory, kafka_settings, ingest_key):
    client_id, _ = client_factory()
    keys = {client_id: ingest_key(client_id)}
    base_id, solution = solved_job(farm, client_id, base_problem(1))
    vehicle = solution["routes"][0]["vehicle_id"]
    first = [s["id"] for s in solution["routes"][0]["steps"] if s["type"] == "stop"][0]
    ev = event("evt-1", client_id, base_id, at=50, vehicles=[{"id": vehicle, "completed": [first]}])
    produce(kafka_settings.kafka_bootstrap, REOPTIMIZE_TOPIC, [(client_id, ev), (client_id, ev)], keys)
    with Running(farm, kafka_settings):
        wait_until(lambda: committed(kafka_settings.kafka_bootstrap) == 2, 30, "both offsets committed")
    jobs = reoptimized(farm, client_id)
    assert [(j["event_id"], j["reoptimized_from"]) for j in jobs] == [("evt-1", base_id)]
    job = farm.store.get(client_id, uuid.UUID(jobs[0]["id"]))
    assert job["status"] == "queued" and job["request_id"].startswith(f"kafka:{REOPTIMIZE_TOPIC}/")
    with farm.db.shard(farm.directory.shard_of(client_id)) as conn:
        problem = conn.execute("SELECT problem FROM jobs WHERE id = %s", (job["id"],)).fetchone()[0]
    assert first not in {s["id"] for s in problem["stops"]}  # a completed stop is never routed again


def test_poison_events_go_to_the_dead_letter_topic_and_the_events_behind_them_are_taken(
        farm, client_factory, kafka_settings, ingest_key):
    bootstrap = kafka_settings.kafka_bootstrap
    client_id, _ = client_factory()
    other_id, _ = client_factory("other")
    keys = {client_id: ingest_key(client_id), other_id: ingest_key(other_id)}
    base_id, _ = solved_job(farm, client_id, base_problem(2))
    queued = submit(farm, client_id, {"problem": base_problem(3)}).document["id"]
    poison = [
        (client_id, b"{not json"),
        (client_id, {"event_id": "p-2", "client_id": client_id, "at": -5}),  # no base job; negative time
        (client_id, event("p-3", client_id, "00000000-0000-7000-8000-000000000000")),  # no such job
        (other_id, event("p-4", other_id, base_id)),  # another client's job: not found for this client
        (client_id, event("p-5", client_id, queued)),  # not solved yet
        (client_id, event("p-6", client_id, base_id, cancel_stops=["nowhere"])),  # a change that does not fit
    ]
    # one partition: the good event sits behind every poison one
    produce(bootstrap, REOPTIMIZE_TOPIC, [*poison, (client_id, event("ok", client_id, base_id))], keys, partition=0)
    reader = TopicReader(bootstrap, DLQ_TOPIC)
    reader.start()
    try:
        with Running(farm, kafka_settings):
            reader.wait_for(lambda v: len(v) >= 6)
            wait_until(lambda: reoptimized(farm, client_id), 30, "the good event's job")
            wait_until(lambda: committed(bootstrap) == 7, 30, "every offset committed")
    finally:
        reader.stop()
    records = sorted(reader.records, key=lambda r: r["value"]["source"]["offset"])  # in the events' order
    letters = [r["value"] for r in records]
    assert [j["event_id"] for j in reoptimized(farm, client_id)] == ["ok"]
    kinds = [letter["error"]["type"] for letter in letters]
    assert kinds == ["malformed-event", "invalid-event", "not-found", "not-found", "job-not-succeeded",
                     "invalid-event"]
    invalid = letters[1]["error"]["errors"]
    assert {e["pointer"] for e in invalid} >= {"/base_job_id", "/at"}
    assert letters[0]["event"] == "{not json" and letters[2]["event"]["event_id"] == "p-3"
    assert letters[5]["error"]["errors"][0]["pointer"] == "/cancel_stops/0"
    assert all(letter["source"]["topic"] == REOPTIMIZE_TOPIC for letter in letters)
    assert [r["key"] for r in records] == [client_id] * 3 + [other_id] + [client_id] * 2  # the events' keys


def test_ingest_pauses_while_the_solve_queue_is_full(farm, client_factory, kafka_settings, ingest_key):
    client_id, _ = client_factory()
    base_id, _ = solved_job(farm, client_id, base_problem(4))
    produce(kafka_settings.kafka_bootstrap, REOPTIMIZE_TOPIC,
            [(client_id, event(f"bp-{i}", client_id, base_id, at=i)) for i in range(8)],
            {client_id: ingest_key(client_id)})
    broker_db = redis.Redis.from_url(kafka_settings.redis_url)
    broker_db.flushdb()  # the base job's message (it was solved here, not by a worker)
    with Running(farm, kafka_settings, max_depth=3) as ingest:
        wait_until(lambda: len(reoptimized(farm, client_id)) == 3 and ingest.paused, 30, "a full queue")
        threading.Event().wait(2.5)  # more polls: still paused, nothing more taken
        assert len(reoptimized(farm, client_id)) == 3
        broker_db.flushdb()  # the queue drains (the reaper would re-send these messages)
        wait_until(lambda: len(reoptimized(farm, client_id)) == 6, 30, "resumed")
        broker_db.flushdb()
        wait_until(lambda: len(reoptimized(farm, client_id)) == 8, 30, "every event taken")
    assert sorted(j["event_id"] for j in reoptimized(farm, client_id)) == sorted(f"bp-{i}" for i in range(8))


@pytest.mark.slow
def test_a_thousand_events_with_duplicates_and_a_killed_consumer_make_a_thousand_jobs(
        farm, client_factory, kafka_settings, ingest_key, tmp_path):
    """Acceptance: 1,000 events, 200 of them sent twice, the stream process killed with
    SIGKILL mid-stream and started again: exactly 1,000 jobs."""
    import random

    from support import Processes

    bootstrap = kafka_settings.kafka_bootstrap
    bases, keys = [], {}
    for i in range(4):
        client_id, _ = client_factory(f"fleet{i}")
        keys[client_id] = ingest_key(client_id)
        bases.append((client_id, solved_job(farm, client_id, base_problem(10 + i))[0]))
    events = [event(f"k-{n}", *bases[n % 4], at=n % 100) for n in range(1000)]
    rng = random.Random(7)
    stream = events + rng.sample(events, 200)
    rng.shuffle(stream)
    produce(bootstrap, REOPTIMIZE_TOPIC, [(e["client_id"], e) for e in stream], keys)

    metrics_port = free_port()
    settings = kafka_settings.model_copy(update={"ingest_max_queue_depth": 5000, "metrics_port": metrics_port})
    procs = Processes(settings, tmp_path)
    try:
        procs.stream()
        total = lambda: sum(len(reoptimized(farm, c)) for c, _ in bases)  # noqa: E731
        wait_until(lambda: total() >= 250, 120, "a quarter of the jobs", every=0.05)
        procs.children["stream"].kill()  # SIGKILL: offsets after the last commit are read again
        procs.children["stream"].wait(10)
        killed_at = total()
        procs.children.pop("stream")
        procs.stream()
        wait_until(lambda: committed(bootstrap) == len(stream), 240, "every offset committed", every=0.5)
        families = scrape(f"http://127.0.0.1:{metrics_port}/metrics")
    finally:
        procs.stop_all()
    assert 250 <= killed_at < 1000
    ids = [j["event_id"] for c, _ in bases for j in reoptimized(farm, c)]
    assert len(ids) == 1000 and set(ids) == {e["event_id"] for e in events}
    # the restarted stream process's own view: no lag left; what it took, by outcome
    assert [s.value for s in families["routefarm_kafka_lag"]] == [0]
    taken = {s.labels["outcome"]: s.value for s in families["routefarm_ingest_events"]
             if s.name.endswith("_total")}
    assert taken["created"] == 1000 - killed_at and taken.get("dead_letter", 0) == 0
