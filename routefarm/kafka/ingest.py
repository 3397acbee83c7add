"""Ingest: re-optimization events on ``routefarm.reoptimize`` become jobs.

Consumer group ``routefarm-ingest``, offsets committed by hand and only after the job row
is committed, so an event is never lost; a redelivered event finds its job by its
idempotency key (``reoptimize:<event_id>``), so it never creates a second one.

- An event is taken for the client its record key names only when it is signed with that
  client's ingest key (``authenticate.py``), and its body's ``client_id``, when there is
  one, is that client; else it goes to the dead-letter topic as ``unauthenticated``.
- An event that is not JSON, breaks the request schema, names an unknown job,
  a job that has no solution, or whose changes do not fit the job, goes to
  ``routefarm.reoptimize.dlq`` with the error, and its offset is committed: it never
  blocks its partition. The dead-letter record is cut down to fit (``dead_letters.py``);
  if Kafka refuses it for good (``clients.refusal``), the minimal record is sent, and if
  that is refused too the event is dropped: logged with its size and SHA-256, counted as
  ``dropped``, and its offset committed. A dead letter that Kafka does not acknowledge for
  another reason (a broker down) is tried again, like the next point.
- A failure of the farm itself (a shard or Redis down) is retried: the partition is
  rewound to the event and read again after a back-off.
- Backpressure: while the solve queue holds ``ingest_max_queue_depth`` messages or more,
  the assigned partitions are paused (the group membership is kept alive).
- A producer that failed for good (``clients.is_fatal``) raises ``ProducerFailed``: the
  loop ends, its partitions go back to the group, and its owner starts a new one.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time

import psycopg
import redis
from confluent_kafka import KafkaError, KafkaException, Message, TopicPartition

from ..broker import SOLVE_QUEUE, queue_depth
from ..contract.reoptimize import ReoptimizeRequest, parse_request
from ..errors import (
    BrokerUnavailable,
    IdempotencyKeyReused,
    InvalidInput,
    NotFound,
    ShardUnavailable,
    Unavailable,
)
from ..observability import metrics
from ..reoptimize.submit import BaseJobNotSucceeded, reoptimize
from ..untrusted import loads, storage_findings
from .authenticate import Authenticator, Unauthenticated
from .clients import ProducerFailed, is_fatal, refusal
from .dead_letters import DeadLetter, clip, record
from .names import DLQ_TOPIC, REOPTIMIZE_TOPIC

log = logging.getLogger(__name__)
DEPTH_EVERY = 1.0  # seconds between two reads of the solve queue's depth
BACKOFF = (0.5, 1.0, 2.0, 5.0)  # seconds before re-reading an event the farm could not take
DLQ_TIMEOUT = 15.0  # seconds to get a dead letter acknowledged


class Retry(Unavailable):
    """The farm could not take the event now; it is read again later."""


def take(farm, client_id: str, value: bytes | None, request_id: str) -> str | DeadLetter:
    """Create the job of one event signed by ``client_id``: "created", "duplicate", or a
    ``DeadLetter``. Raises ``Retry`` when the farm cannot take it now.
    """
    try:
        data = loads(value or b"")
    except ValueError as exc:
        return DeadLetter("malformed-event", f"the event is not JSON: {exc}")
    unstorable = storage_findings(data)
    if unstorable:
        return DeadLetter("invalid-event", "the event breaks the re-optimization contract",
                          tuple({"pointer": i.pointer, "detail": i.message} for i in unstorable), unstorable.omitted)
    if isinstance(data, dict):
        named = data.setdefault("client_id", client_id)
        if named != client_id:
            return DeadLetter("unauthenticated", f"the event names client {named!r} but is signed for client"
                              f" {client_id!r} (the record key)")
    try:
        request = parse_request(data, ReoptimizeRequest)
        accepted = reoptimize(farm, request.client_id, request.base_job_id, request,
                              event_id=request.event_id, request_id=request_id)
    except InvalidInput as exc:
        return DeadLetter("invalid-event", "the event breaks the re-optimization contract",
                          tuple({"pointer": i.pointer, "detail": i.message} for i in exc.issues), exc.omitted)
    except NotFound as exc:
        return DeadLetter("not-found", str(exc))
    except BaseJobNotSucceeded as exc:
        return DeadLetter("job-not-succeeded", str(exc))
    except IdempotencyKeyReused as exc:
        return DeadLetter("conflict", f"event_id was used before by another event: {exc}")
    except (ShardUnavailable, BrokerUnavailable, psycopg.OperationalError, redis.RedisError, OSError) as exc:
        raise Retry(str(exc)) from exc
    return "created" if accepted.created else "duplicate"


class Ingest:
    """The consumer loop; ``run()`` until ``stopping`` is set."""

    def __init__(self, farm, consumer, producer, max_depth: int, batch: int, stopping: threading.Event):
        self.farm, self.consumer, self.producer = farm, consumer, producer
        self.auth = Authenticator(farm.db)
        self.max_depth, self.batch, self.stopping = max_depth, batch, stopping
        self.paused = False
        self._depth_at = 0.0
        self._depth = 0  # the solve queue's depth when last read
        self._since = 0  # jobs created since then
        self._failures = 0

    def run(self) -> None:
        self.consumer.subscribe([REOPTIMIZE_TOPIC], on_assign=self._assigned)
        try:
            while not self.stopping.is_set():
                self._backpressure()
                messages = self.consumer.consume(self.batch, timeout=0.5)
                if messages:
                    self.process(messages)
        finally:
            self.consumer.close()  # leaves the group at once: its partitions move on
            self.producer.flush(DLQ_TIMEOUT)

    def _assigned(self, consumer, partitions) -> None:
        if self.paused:
            consumer.pause(partitions)

    def _backpressure(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._depth_at < DEPTH_EVERY:
            return
        self._depth_at = now
        try:
            self._depth, self._since = queue_depth(self.farm.broker, SOLVE_QUEUE), 0
            full = self._depth >= self.max_depth
        except (redis.RedisError, OSError):
            full = self.paused  # Redis down: stay as we are; events wait in Kafka either way
        if full != self.paused:
            assignment = self.consumer.assignment()
            (self.consumer.pause if full else self.consumer.resume)(assignment)
            self.paused = full
            log.info("ingest %s: solve queue %s %d", "paused" if full else "resumed",
                     "at or above" if full else "below", self.max_depth)

    def process(self, messages: list[Message]) -> None:
        """Take each event in order; commit what is durable; rewind a partition that must wait."""
        done: dict[tuple[str, int], int] = {}
        stopped: set[tuple[str, int]] = set()
        for message in messages:
            where = (message.topic(), message.partition())
            if message.error() is not None:
                log.warning("ingest: %s", message.error())
                continue
            if where in stopped:
                continue
            if self.paused or not self._room():
                self._rewind(message, stopped)  # read again after resume
                continue
            try:
                outcome = self._take(message)
            except Retry as exc:
                self._rewind(message, stopped)
                self._failures += 1
                log.warning("ingest: event at %s/%d/%d waits (%s)", *where, message.offset(), exc)
                continue
            metrics.INGEST_EVENTS.labels(outcome=outcome).inc()
            self._since += outcome == "created"
            done[where] = message.offset() + 1
        if done:
            self._commit(done)
        if stopped and not self.paused and self._failures:
            self.stopping.wait(BACKOFF[min(self._failures, len(BACKOFF)) - 1])
        elif not stopped:
            self._failures = 0

    def _room(self) -> bool:
        """Whether the solve queue can take one more job (read again when it may be full)."""
        if self._depth + self._since < self.max_depth:
            return True
        self._backpressure(force=True)
        return not self.paused

    def _take(self, message: Message) -> str:
        request_id = f"kafka:{message.topic()}/{message.partition()}/{message.offset()}"
        try:
            client_id = self.auth.client_of(message.key(), message.value() or b"", message.headers())
            outcome = take(self.farm, client_id, message.value(), request_id)
        except Unauthenticated as exc:
            outcome = DeadLetter("unauthenticated", exc.detail)
        except (ShardUnavailable, psycopg.OperationalError, OSError) as exc:  # the directory
            raise Retry(str(exc)) from exc
        if not isinstance(outcome, DeadLetter):
            return outcome
        refused = self._send_dead_letter(message, outcome)
        if refused:
            raw = message.value() or b""
            log.error("ingest: event at %s (%d bytes, sha256 %s) dropped: it is a dead letter (%s: %s) that"
                      " Kafka refused to take on %s: %s", request_id, len(raw), hashlib.sha256(raw).hexdigest(),
                      outcome.kind, clip(outcome.detail, 512), DLQ_TOPIC, refused)
            return "dropped"
        log.warning("ingest: event at %s went to %s: %s %s", request_id, DLQ_TOPIC, outcome.kind,
                    clip(outcome.detail, 512))
        return "dead_letter"

    def _send_dead_letter(self, message: Message, letter: DeadLetter) -> str | None:
        """Send the dead letter, or its minimal form if Kafka refuses it for good; None when
        one is acknowledged, else why the minimal one was refused. ``Retry`` when Kafka does
        not answer."""
        refused = None
        for minimal in (False, True):
            refused = self._send(*record(message, letter, minimal))
            if refused is None:
                return None
            log.warning("ingest: the %s dead letter of %s/%d/%d was refused: %s", "minimal" if minimal else "full",
                        message.topic(), message.partition(), message.offset(), refused)
        return refused

    def _send(self, key: bytes | None, value: bytes, headers: list) -> str | None:
        """Produce one record to the DLQ and wait: None when acknowledged, the reason when
        Kafka refused it for good; ``Retry`` otherwise."""
        failures: list[KafkaError] = []
        try:
            self.producer.produce(DLQ_TOPIC, key=key, value=value, headers=headers,
                                  on_delivery=lambda err, _msg: err is not None and failures.append(err))
        except KafkaException as exc:
            failures.append(exc.args[0])
        else:
            if self.producer.flush(DLQ_TIMEOUT):
                raise Retry("the dead letter was not acknowledged in time")
        if not failures:
            return None
        error = failures[0]
        if is_fatal(error):
            raise ProducerFailed(f"the dead-letter producer failed: {error.name()}: {error.str()}")
        if refusal(error) is not None:
            return f"{error.name()}: {error.str()} ({len(value)} bytes)"
        raise Retry(f"the dead letter was not acknowledged: {error}")

    def _rewind(self, message: Message, stopped: set) -> None:
        stopped.add((message.topic(), message.partition()))
        try:
            self.consumer.seek(TopicPartition(message.topic(), message.partition(), message.offset()))
        except Exception as exc:  # noqa: BLE001 - a partition revoked meanwhile: its new owner reads it
            log.info("ingest: cannot rewind %s/%d: %s", message.topic(), message.partition(), exc)

    def _commit(self, done: dict[tuple[str, int], int]) -> None:
        offsets = [TopicPartition(topic, partition, offset) for (topic, partition), offset in done.items()]
        try:
            self.consumer.commit(offsets=offsets, asynchronous=False)
        except Exception as exc:  # noqa: BLE001 - e.g. a rebalance: the events come again, idempotently
            log.warning("ingest: offsets not committed (%s); those events will be read again", exc)
