"""The autoscaler's inputs and outputs on a real Redis and Kafka: trigger metrics read the
way KEDA reads them, the finished-jobs rate, the record the web processes read."""

from __future__ import annotations

import time

import pytest
import redis

from routefarm.autoscale.scaledobject import parse
from routefarm.autoscale.sources import TriggerSources
from routefarm.observability import scaler as record
from routefarm.observability import throughput

DB = 4  # tests/conftest.py flushes 10/11; see tests/metrics/metrics_support.py for the others


@pytest.fixture
def client(redis_server):
    client = redis.Redis.from_url(f"{redis_server}/{DB}")
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


def triggers(*entries):
    spec = parse({"kind": "ScaledObject", "spec": {"triggers": [
        {"type": kind, "metadata": metadata} for kind, metadata in entries]}})
    return spec.triggers


def test_redis_triggers_read_a_key_by_its_type(client):
    hashed, listed, missing = triggers(("redis", {"listName": "dramatiq:solve.msgs"}),
                                       ("redis", {"listName": "plain-list"}),
                                       ("redis", {"listName": "nothing-here"}))
    client.hset("dramatiq:solve.msgs", mapping={f"m{n}": "x" for n in range(7)})
    client.rpush("plain-list", "a", "b")
    sources = TriggerSources(client)
    assert [sources.measure(t).value for t in (hashed, listed, missing)] == [7, 2, 0]
    client.set("plain-list-str", "x")
    (wrong,) = triggers(("redis", {"listName": "plain-list-str"}))
    assert sources.measure(wrong) is None  # a string has no length KEDA would read


def test_kafka_trigger_counts_the_lag_as_keda_does(client, kafka_broker):
    """Uncommitted partitions by offsetResetPolicy; persistent lag activates but does not scale."""
    from confluent_kafka import ConsumerGroupTopicPartitions, TopicPartition

    from routefarm.kafka import clients

    topic, group = f"sources-test-{time.monotonic_ns()}", "sources-test-group"
    clients.ensure_topics(kafka_broker.bootstrap, partitions=3, names=[topic])
    producer = clients.producer(kafka_broker.bootstrap, client_id="sources-test")
    for n in range(5):  # partitions 0, 1, 2, 0, 1: 2 + 2 + 1 messages
        producer.produce(topic, value=b"{}", partition=n % 3)
        producer.flush(10)

    def measure(sources, **metadata):
        (trigger,) = triggers(("kafka", {"consumerGroup": group, "topic": topic, **metadata}))
        return sources.measure(trigger)

    sources = TriggerSources(client, kafka_broker.bootstrap)
    measured = measure(sources, offsetResetPolicy="earliest")
    assert (measured.value, measured.partitions, measured.scaling) == (5, 3, None)
    assert measure(sources).value == 3  # latest, KEDA's default: 1 per partition with no commit
    assert measure(sources, offsetResetPolicy="earliest", scaleToZeroOnInvalidOffset="true").value == 0

    committed = [TopicPartition(topic, 0, 1), TopicPartition(topic, 1, 2)]  # 1 behind on 0, none on 1
    admin = clients.admin(kafka_broker.bootstrap)  # kept until the answer: it owns the request
    admin.alter_consumer_group_offsets([ConsumerGroupTopicPartitions(group, committed)])[group].result(10)
    persistent = {"offsetResetPolicy": "earliest", "excludePersistentLag": "true"}
    first = measure(sources, **persistent)
    assert (first.value, first.scaling) == (2, None)  # partition 0: 1, partition 2 (no commit): 1
    again = measure(sources, **persistent)  # partition 0 has not moved since: left out of scaling
    assert (again.value, again.scaling) == (2, 1)
    (trigger,) = triggers(("kafka", {"consumerGroup": group, "topic": topic}))
    assert TriggerSources(client, "").measure(trigger) is None  # no Kafka configured


def test_finished_jobs_per_second_over_the_window(client):
    now = 1_000_000.5
    for offset in (-31, -10, -10, -1, 0):  # the first is out of the window, the last in the current second
        throughput.count_finished(client, now + offset)
    assert throughput.jobs_per_second(client, now) == round(3 / throughput.WINDOW, 3)
    assert 0 < client.ttl(throughput.KEY.format(int(now))) <= throughput.WINDOW + 5
    down = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2, retry=None)
    throughput.count_finished(down)  # soft
    assert throughput.jobs_per_second(down) is None


def test_the_record_expires(client):
    assert record.read(client) is None
    published = record.ScalerRecord(current=2, desired=3, max=4, queue_depth=12, kafka_lag=None,
                                    jobs_per_s=1.5)
    record.publish(client, published, ttl=1)
    assert record.read(client) == published
    time.sleep(1.2)
    assert record.read(client) is None
    client.set(record.KEY, "not json")
    assert record.read(client) is None
