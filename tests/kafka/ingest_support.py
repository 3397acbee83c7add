"""Helpers of the ingest tests: events, an ingest loop in a thread, what it made."""

from __future__ import annotations

import json
import threading

from confluent_kafka import TopicPartition
from support import SMALL_PROBLEM

from routefarm.kafka import clients
from routefarm.kafka.ingest import Ingest
from routefarm.kafka.names import INGEST_GROUP, REOPTIMIZE_TOPIC
from routefarm.kafka.signing import header


def base_problem(seed: int) -> dict:
    return {**SMALL_PROBLEM, "options": {"time_limit": 0.2, "seed": seed}}


def event(event_id: str, client_id: str, base_job_id: str, at: float = 0, **changes) -> dict:
    return {"event_id": event_id, "client_id": client_id, "base_job_id": base_job_id, "at": at, **changes}


def signed(secret: str, value: dict | bytes) -> tuple[bytes, list]:
    """(the value's bytes, its signature header) for a record of ``kafka_support.produce``."""
    raw = value if isinstance(value, bytes) else json.dumps(value).encode()
    return raw, [header(secret, raw)]


def reoptimized(farm, client_id: str) -> list[dict]:
    """The client's jobs created from events: [{id, event_id, reoptimized_from}]."""
    with farm.db.shard(farm.directory.shard_of(client_id)) as conn:
        rows = conn.execute("SELECT id, metadata FROM jobs WHERE client_id = %s AND metadata ? 'event_id'"
                            " ORDER BY id", (client_id,)).fetchall()
    return [{"id": str(i), **m} for i, m in rows]


class Running:
    """An ``Ingest`` loop in a thread of the test process (its dead-letter producer takes
    ``producer_config`` on top of the farm's)."""

    def __init__(self, farm, settings, max_depth: int = 500, **producer_config):
        self.stopping = threading.Event()
        consumer = clients.consumer(settings.kafka_bootstrap, INGEST_GROUP, settings.kafka_session_timeout_ms)
        producer = clients.producer(settings.kafka_bootstrap, **producer_config)
        self.ingest = Ingest(farm, consumer, producer, max_depth, 100, self.stopping)
        self.thread = threading.Thread(target=self.ingest.run, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self.ingest

    def __exit__(self, *exc):
        self.stopping.set()
        self.thread.join(30)


def committed(bootstrap: str) -> int:
    """Offsets the ingest group committed, summed over the partitions."""
    consumer = clients.consumer(bootstrap, INGEST_GROUP, 6000)
    try:
        topic = consumer.list_topics(REOPTIMIZE_TOPIC, timeout=10).topics[REOPTIMIZE_TOPIC]
        offsets = consumer.committed([TopicPartition(REOPTIMIZE_TOPIC, p) for p in topic.partitions], timeout=10)
        return sum(max(tp.offset, 0) for tp in offsets)
    finally:
        consumer.close()
