"""A consumer group's lag on a topic: what the KEDA Kafka trigger scales on.

Per partition: the high watermark minus the group's committed offset. A partition where
the group has committed nothing counts from its low watermark, because the ingest consumer
starts there (``auto.offset.reset=earliest``); KEDA's ``offsetResetPolicy: earliest`` counts
the same way on a log that starts at offset 0. Three admin requests per reading (topic
metadata, committed offsets, watermarks), nothing joins the group.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from confluent_kafka import (
    OFFSET_INVALID,
    ConsumerGroupTopicPartitions,
    KafkaException,
    TopicPartition,
)
from confluent_kafka.admin import OffsetSpec

from ..errors import Unavailable
from . import clients


class LagUnavailable(Unavailable):
    """The broker did not answer, or answered with an error."""


@dataclass(frozen=True)
class Lag:
    total: int
    partitions: int  # the topic's partitions (0: the topic does not exist)
    by_partition: dict[int, int]
    committed: dict[int, int] = field(default_factory=dict)  # the group's offsets (negative: none)


class LagReader:
    """Reads lags through one admin client (kept between readings)."""

    def __init__(self, bootstrap: str, timeout: float = 5.0):
        self.admin = clients.admin(bootstrap)
        self.timeout = timeout

    def close(self) -> None:
        """Drop the admin client, which closes its connections (librdkafka has no close call for
        it): a broker may wait for open connections when it stops."""
        self.admin = None

    def lag(self, group: str, topic: str) -> Lag:
        try:
            return self._lag(group, topic)
        except (KafkaException, TimeoutError, OSError) as exc:  # futures raise TimeoutError too
            raise LagUnavailable(f"lag of {group} on {topic}: {exc}") from None

    def _lag(self, group: str, topic: str) -> Lag:
        # all topics: asking for one by name makes some brokers create it
        metadata = self.admin.list_topics(timeout=self.timeout).topics.get(topic)
        if metadata is None or metadata.error is not None or not metadata.partitions:
            return Lag(0, 0, {})
        wanted = [TopicPartition(topic, p) for p in sorted(metadata.partitions)]
        request = [ConsumerGroupTopicPartitions(group, wanted)]
        answer = self.admin.list_consumer_group_offsets(request, request_timeout=self.timeout)[group]
        committed = {tp.partition: tp.offset for tp in answer.result(self.timeout).topic_partitions}
        high = self._watermarks(wanted, OffsetSpec.latest())
        low = self._watermarks(wanted, OffsetSpec.earliest())
        lags = {}
        for tp in wanted:
            start = committed.get(tp.partition, OFFSET_INVALID)
            if start == OFFSET_INVALID or start < 0:
                start = low[tp.partition]
            lags[tp.partition] = max(0, high[tp.partition] - start)
        return Lag(sum(lags.values()), len(wanted), lags, committed)

    def _watermarks(self, partitions: list[TopicPartition], spec: OffsetSpec) -> dict[int, int]:
        futures = self.admin.list_offsets({tp: spec for tp in partitions}, request_timeout=self.timeout)
        return {tp.partition: future.result(self.timeout).offset for tp, future in futures.items()}
