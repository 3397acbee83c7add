"""Kafka clients configured one way for the whole farm (confluent-kafka / librdkafka).

librdkafka's own log lines go to Python logging (``routefarm.kafka.client``), so every
process keeps one JSON log format; a broker that is down is reported there, not on stderr.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from ..errors import Unavailable
from .names import TOPICS

CLIENT_LOG = logging.getLogger("routefarm.kafka.client")
# Errors that belong to one message and come back whenever it is sent again: the broker (or
# the producer itself) refuses it for its size or its content. Anything else (a broker down,
# a timeout, a missing topic or ACL) is about the cluster and may pass. librdkafka marks
# neither kind retriable in a delivery report (a timed-out message reports
# retriable() == False), so the message's own errors are named here.
REFUSALS = {
    KafkaError.MSG_SIZE_TOO_LARGE: "too_large", KafkaError.RECORD_LIST_TOO_LARGE: "too_large",
    KafkaError.INVALID_MSG_SIZE: "too_large", KafkaError.INVALID_RECORD: "invalid",
    KafkaError._BAD_MSG: "invalid",
}


def _base(bootstrap: str, client_id: str) -> dict:
    return {"bootstrap.servers": bootstrap, "client.id": client_id, "logger": CLIENT_LOG,
            "log_level": 4}  # warnings and worse (syslog levels)


class ProducerFailed(Unavailable):
    """A producer hit a fatal error: it sends nothing any more and must be replaced."""


def refusal(error: KafkaError) -> str | None:
    """``too_large`` or ``invalid`` when Kafka refused this very message for good, else None
    (the failure may pass: send it again later)."""
    if error.retriable() or error.fatal():
        return None
    return REFUSALS.get(error.code())


def is_fatal(error: KafkaError) -> bool:
    """The producer instance cannot send anything any more (it must be replaced)."""
    return error.fatal() or error.code() == KafkaError._FATAL


def admin(bootstrap: str) -> AdminClient:
    return AdminClient(_base(bootstrap, "routefarm-admin"))


def producer(bootstrap: str, client_id: str = "routefarm", **extra) -> Producer:
    """An idempotent producer: per-partition order is kept and a retried send is never doubled."""
    config = {**_base(bootstrap, client_id), "enable.idempotence": True, "acks": "all",
              "linger.ms": 5, "message.timeout.ms": 30000}
    config.update(extra)
    return Producer(config)


def consumer(bootstrap: str, group: str, session_timeout_ms: int, client_id: str = "routefarm",
             **extra) -> Consumer:
    """A group member that commits offsets itself (only after its work is durable)."""
    config = {**_base(bootstrap, client_id), "group.id": group, "enable.auto.commit": False,
              "enable.auto.offset.store": False, "auto.offset.reset": "earliest",
              "session.timeout.ms": session_timeout_ms,
              "heartbeat.interval.ms": max(1000, session_timeout_ms // 6)}
    config.update(extra)
    return Consumer(config)


def ensure_topics(bootstrap: str, partitions: int, names: Iterable[str] = TOPICS,
                  timeout: float = 15.0) -> list[str]:
    """Create the farm's topics that do not exist yet; returns the names created."""
    client = admin(bootstrap)
    existing = set(client.list_topics(timeout=timeout).topics)
    wanted = [NewTopic(name, num_partitions=partitions, replication_factor=1)
              for name in names if name not in existing]
    created = []
    for name, future in (client.create_topics(wanted, request_timeout=timeout).items() if wanted else []):
        try:
            future.result(timeout)
            created.append(name)
        except KafkaException as exc:
            if exc.args[0].name() != "TOPIC_ALREADY_EXISTS":  # another process made it first
                raise
    return created
