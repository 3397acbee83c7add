"""A dead letter fits in one Kafka message whatever the event, and a dead letter Kafka refuses
never blocks its partition. Real Postgres and Kafka."""

from __future__ import annotations

import hashlib
import json

from confluent_kafka import Message
from ingest_support import Running, base_problem, committed, event, reoptimized, signed
from kafka_support import TopicReader, produce, wait_until
from prometheus_client import REGISTRY
from support import solved_job

from routefarm.kafka.dead_letters import MAX_ERRORS, MAX_EVENT_COPY, MAX_TEXT, DeadLetter, record
from routefarm.kafka.names import DLQ_TOPIC, REOPTIMIZE_TOPIC
from routefarm.observability import metrics

BROKER_LIMIT = 1_048_588  # Kafka's default message.max.bytes


def long_pointers(client_id: str, base_id: str) -> dict:
    """About 30 kB whose 500 errors each point 18 kB deep: 9 MB of errors copied whole."""
    leaves: dict = {f"v{i}": "\u0000" for i in range(500)}
    for level in range(60):
        leaves = {f"{level:03d}" + "k" * 297: leaves}
    return {**event("deep", client_id, base_id), "notes": leaves}


def a_client(farm, client_factory, ingest_key, seed: int) -> tuple[str, str, str]:
    """(client id, its ingest key, a solved base job)."""
    client_id, _ = client_factory()
    return client_id, ingest_key(client_id), solved_job(farm, client_id, base_problem(seed))[0]


def dropped_count() -> float:
    metrics.INGEST_EVENTS  # noqa: B018 - defined on first use
    return REGISTRY.get_sample_value("routefarm_ingest_events_total", {"outcome": "dropped"}) or 0.0


def test_a_dead_letter_keeps_the_first_errors_and_a_bounded_copy_of_the_event():
    raw = b"\xff" * 900_000  # not even UTF-8: each byte would be a 6-byte escape in a copy
    message = Message(topic=REOPTIMIZE_TOPIC, partition=2, offset=41, key=b"k" * 1000, value=raw,
                      headers=[("a", b"x" * 10_000), ("b", b"y" * 10_000)])
    errors = tuple({"pointer": "/p" * 1000, "detail": f"error {i}"} for i in range(250))
    key, value, headers = record(message, DeadLetter("invalid-event", "d" * 10_000, errors))
    body = json.loads(value)
    assert len(value) < 200_000 and len(key) == 256 and headers == [("a", b"x" * 10_000)]
    assert len(body["error"]["errors"]) == MAX_ERRORS and body["error"]["errors_omitted"] == 150
    assert all(len(json.dumps(e["pointer"])) <= MAX_TEXT for e in body["error"]["errors"])
    assert body["error"]["errors"][99]["detail"] == "error 99" and body["headers_omitted"] == 1
    assert body["event_truncated"] is True and 0 < len(json.dumps(body["event"])) <= MAX_EVENT_COPY
    assert body["event_bytes"] == 900_000 and body["event_sha256"] == hashlib.sha256(raw).hexdigest()
    assert body["source"] == {"topic": REOPTIMIZE_TOPIC, "partition": 2, "offset": 41}

    _key, small, no_headers = record(message, DeadLetter("invalid-event", "d" * 10_000, errors), minimal=True)
    minimal = json.loads(small)
    assert len(small) < 1000 and no_headers == [] and minimal["event_omitted"] is True
    assert "event" not in minimal and "errors" not in minimal["error"] and minimal["error"]["errors_omitted"] == 250

    short = Message(topic=REOPTIMIZE_TOPIC, partition=0, offset=1, key=None, value=b'{"a": [1, 2]}')
    whole = json.loads(record(short, DeadLetter("malformed-event", "no"))[1])
    assert whole["event"] == {"a": [1, 2]} and "event_truncated" not in whole and whole["event_bytes"] == 13


def test_huge_invalid_events_make_dead_letters_that_fit_and_the_partition_goes_on(
        farm, client_factory, kafka_settings, ingest_key):
    bootstrap = kafka_settings.kafka_bootstrap
    client_id, key, base_id = a_client(farm, client_factory, ingest_key, 31)
    deep = json.dumps(long_pointers(client_id, base_id)).encode()
    garbage = b"\xff" * 900_000
    produce(bootstrap, REOPTIMIZE_TOPIC, [(client_id, *signed(key, deep)), (client_id, *signed(key, garbage)),
                                          (client_id, *signed(key, event("after", client_id, base_id)))], partition=0)
    reader = TopicReader(bootstrap, DLQ_TOPIC)
    reader.start()
    try:
        with Running(farm, kafka_settings):
            reader.wait_for(lambda v: len(v) >= 2)
            wait_until(lambda: committed(bootstrap) == 3, 30, "every offset committed")
    finally:
        reader.stop()
    assert 25_000 < len(deep) < 35_000
    assert [j["event_id"] for j in reoptimized(farm, client_id)] == ["after"]
    records = sorted(reader.records, key=lambda r: r["value"]["source"]["offset"])
    assert all(r["bytes"] < 200_000 < BROKER_LIMIT for r in records)
    invalid, malformed = (r["value"] for r in records)
    assert invalid["error"]["type"] == "invalid-event" and len(invalid["error"]["errors"]) == MAX_ERRORS
    assert invalid["error"]["errors_omitted"] == 400
    assert invalid["event"] == json.loads(deep) and "event_truncated" not in invalid  # 30 kB: copied whole
    assert malformed["error"]["type"] == "malformed-event" and malformed["event_truncated"] is True
    for letter, raw in ((invalid, deep), (malformed, garbage)):
        assert letter["event_bytes"] == len(raw) and letter["event_sha256"] == hashlib.sha256(raw).hexdigest()


def test_a_dead_letter_kafka_refuses_is_sent_minimal_or_dropped_and_the_partition_goes_on(
        farm, client_factory, kafka_settings, ingest_key):
    bootstrap = kafka_settings.kafka_bootstrap
    client_id, key, base_id = a_client(farm, client_factory, ingest_key, 32)
    stranger = ("é" * 128).encode()  # 256 bytes: a record key the ingest looks up, and quotes back
    produce(bootstrap, REOPTIMIZE_TOPIC, [
        (client_id, *signed(key, long_pointers(client_id, base_id))),  # its full dead letter is ~60 kB
        (stranger.decode(), *signed(key, event("stranger", client_id, base_id))),  # even minimal > 1 kB
        (client_id, *signed(key, event("after", client_id, base_id))),
    ], partition=0)
    before = dropped_count()
    reader = TopicReader(bootstrap, DLQ_TOPIC)
    reader.start()
    try:
        # a dead-letter producer that takes 1000 bytes at most (librdkafka's least): a topic
        # whose max.message.bytes is too small for the records the ingest makes
        with Running(farm, kafka_settings, **{"message.max.bytes": 1000}):
            wait_until(lambda: committed(bootstrap) == 3, 30, "every offset committed")
            (letter,) = reader.wait_for(lambda v: len(v) >= 1)
    finally:
        reader.stop()
    assert [j["event_id"] for j in reoptimized(farm, client_id)] == ["after"]
    assert letter["error"]["type"] == "invalid-event" and letter["event_omitted"] is True
    assert letter["error"]["errors_omitted"] == 500 and letter["source"]["offset"] == 0
    assert len(reader.records) == 1 and dropped_count() == before + 1
