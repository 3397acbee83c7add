"""Helpers of the Kafka tests: produce events, read a topic from its start, wait for rows."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition

from routefarm.kafka.clients import CLIENT_LOG
from routefarm.kafka.signing import header


def produce(bootstrap: str, topic: str, records: list[tuple], keys: dict[str, str] | None = None,
            partition: int | None = None) -> None:
    """Send records in order, one request each: (key, value), signed with ``keys[key]`` when
    the key has an ingest key there, or (key, value, headers) as given (values: dicts as
    JSON, bytes as is); all to ``partition`` when given."""
    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "logger": CLIENT_LOG})
    for key, value, *given in records:
        raw = value if isinstance(value, bytes) else json.dumps(value).encode()
        headers = given[0] if given else ([header(keys[key], raw)] if keys and key in keys else [])
        extra = {} if partition is None else {"partition": partition}
        producer.produce(topic, key=key.encode(), value=raw, headers=headers, **extra)
        producer.flush(10)
    assert producer.flush(10) == 0


class TopicReader(threading.Thread):
    """Reads every partition of a topic from its beginning (no consumer group) into ``records``."""

    def __init__(self, bootstrap: str, topic: str):
        super().__init__(daemon=True)
        self.records: list[dict] = []
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "test-reader",
                                  "enable.auto.commit": False, "auto.offset.reset": "earliest",
                                  "logger": CLIENT_LOG})
        partitions = self.consumer.list_topics(topic, timeout=10).topics[topic].partitions
        self.consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])

    def run(self) -> None:
        try:
            while not self.stopping.is_set():
                message = self.consumer.poll(0.2)
                if message is None or message.error() is not None:
                    continue
                record = {"key": message.key().decode() if message.key() else None,
                          "value": json.loads(message.value()), "headers": dict(message.headers() or []),
                          "partition": message.partition(), "offset": message.offset(),
                          "bytes": len(message.value())}
                with self.lock:
                    self.records.append(record)
        finally:
            self.consumer.close()

    def values(self) -> list[dict]:
        with self.lock:
            return [r["value"] for r in self.records]

    def wait_for(self, enough: Callable[[list[dict]], bool], timeout: float = 30.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while not enough(self.values()):
            if time.monotonic() > deadline:
                raise TimeoutError(f"only {len(self.values())} records after {timeout} s")
            time.sleep(0.1)
        return self.values()

    def stop(self) -> None:
        self.stopping.set()
        self.join(10)


def wait_until(check: Callable[[], Any], timeout: float, what: str, every: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not reached within {timeout} s")
        time.sleep(every)


def per_job(events: list[dict], client_id: str | None = None) -> dict[str, list[str]]:
    """job id -> statuses in the order first seen (a duplicate, same event id, counts once);
    with ``client_id``, that client's jobs only."""
    seen: set[str] = set()
    out: dict[str, list[str]] = {}
    for event in events:
        if event["id"] in seen or (client_id and event["data"]["client_id"] != client_id):
            continue
        seen.add(event["id"])
        out.setdefault(event["subject"], []).append(event["data"]["status"])
    return out


def outbox_rows(farm, client_id: str) -> list[dict]:
    from psycopg.rows import dict_row

    with farm.db.shard(farm.directory.shard_of(client_id)) as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute("SELECT * FROM outbox WHERE client_id = %s ORDER BY id", (client_id,))
        return cur.fetchall()


def scrape(url: str) -> dict[str, list]:
    """A /metrics page: family name -> its samples."""
    import urllib.request

    from prometheus_client.parser import text_string_to_metric_families

    with urllib.request.urlopen(url, timeout=10) as response:
        text = response.read().decode()
    return {family.name: family.samples for family in text_string_to_metric_families(text)}
