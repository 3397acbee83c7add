"""Consumer-group lag against a real Kafka-protocol broker (one message per produce request:
the embedded broker's latest offset is wrong after a batch)."""

from __future__ import annotations

import os
import time

import pytest

from routefarm.kafka import clients
from routefarm.kafka.lag import LagReader, LagUnavailable

SESSION_TIMEOUT_MS = 6000  # the embedded broker holds a group join for half of it


def produce(bootstrap: str, topic: str, partitions: list[int]) -> None:
    producer = clients.producer(bootstrap, client_id="lag-test")
    for n, partition in enumerate(partitions):
        producer.produce(topic, key=str(n).encode(), value=b"{}", partition=partition)
        producer.flush(10)


def consume(bootstrap: str, group: str, topic: str, count: int) -> None:
    """Take ``count`` messages as a member of ``group``, committing each."""
    consumer = clients.consumer(bootstrap, group, SESSION_TIMEOUT_MS, client_id="lag-test")
    consumer.subscribe([topic])
    taken, deadline = 0, time.monotonic() + 30
    try:
        while taken < count and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is None or message.error():
                continue
            consumer.commit(message=message, asynchronous=False)
            taken += 1
    finally:
        consumer.close()
    assert taken == count


def test_lag_counts_from_the_committed_offset_or_from_the_start(kafka_broker):
    bootstrap = kafka_broker.bootstrap
    topic, group = f"lag-test-{os.getpid()}-{time.monotonic_ns()}", "lag-test-group"
    clients.ensure_topics(bootstrap, partitions=3, names=[topic])
    reader = LagReader(bootstrap)
    assert reader.lag(group, topic).total == 0  # an empty topic, a group that never committed

    produce(bootstrap, topic, [0, 0, 0, 1, 1, 2, 2])
    lag = reader.lag(group, topic)  # nothing committed: every message counts
    assert (lag.total, lag.partitions, lag.by_partition) == (7, 3, {0: 3, 1: 2, 2: 2})

    consume(bootstrap, group, topic, 7)
    assert reader.lag(group, topic).total == 0
    produce(bootstrap, topic, [1, 2])
    assert reader.lag(group, topic).by_partition == {0: 0, 1: 1, 2: 1}

    missing = reader.lag(group, f"{topic}-absent")
    assert (missing.total, missing.partitions) == (0, 0)


def test_an_unreachable_broker_is_reported_not_hidden():
    from routefarm.local.common import free_port

    reader = LagReader(f"127.0.0.1:{free_port()}", timeout=1.0)
    with pytest.raises(LagUnavailable):
        reader.lag("g", "t")
