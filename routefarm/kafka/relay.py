"""The outbox relay: unsent outbox rows of every shard go to ``routefarm.job-events``.

A pass over one shard runs in one transaction holding that shard's relay lock (a
transaction-level advisory lock, taken with ``try``): several relays share the shards
between them, and only one at a time publishes a given shard's rows, in id order, which
keeps every job's events in order. Rows are published with the idempotent producer (key =
client id, so a client's events share a partition), then the delivered ones are marked
sent. When Kafka is down nothing is marked and the rows wait; a job whose event failed has
its later events held back to the next pass, so its order holds. A row published but not
marked (the relay died in between) is published again with the same event id.

What Kafka refuses for good is parked, never retried in a loop: an event over
``max_event_bytes`` is first cut down (``envelope.fit``: its largest data members go, named
in ``data.omitted``); a row whose event still does not fit, that Kafka refuses for its size
or content (``clients.refusal``: at ``produce`` or in the delivery report), or that cannot
be encoded (data nested too deeply to decode, say) gets ``parked_at`` and ``parked_reason``
in its shard, is logged and counted, and is passed over from then on. A parked row does not
hold its job's later events back (ordering skips it: a consumer sees the job's next status
without this one). ``routefarm outbox`` lists, re-sends or drops parked rows (``parked.py``). A producer that failed for good
(``clients.is_fatal``) ends the pass with ``Pass.fatal`` set: its owner makes a new one.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field

from confluent_kafka import KafkaError, KafkaException
from psycopg.rows import dict_row

from routefarm.errors import ShardUnavailable

from . import clients
from .clients import is_fatal, refusal
from .envelope import HEADERS, envelope, fit
from .names import JOB_EVENTS_TOPIC
from .parked import per_shard

log = logging.getLogger(__name__)
RELAY_LOCK = 0x72656C6179  # pg_try_advisory_xact_lock key: one relay per shard at a time
FLUSH_MARGIN = 5.0  # seconds past the producer's message timeout to wait for delivery reports
CLEANUP_EVERY = 60.0  # seconds between deletions of old sent rows
# bytes a record adds to its value (key, headers, framing): the relay's producer accepts
# messages this much larger than the largest event it makes (``message.max.bytes``)
RECORD_HEADROOM = 64 * 1024


def producer(bootstrap: str, max_event_bytes: int, message_timeout_ms: int, client_id: str = "routefarm-relay",
             **extra):
    """The relay's producer: it takes any event the relay makes (``RECORD_HEADROOM`` over the limit)."""
    return clients.producer(bootstrap, client_id=client_id, **{
        "message.timeout.ms": message_timeout_ms, "message.max.bytes": max_event_bytes + RECORD_HEADROOM, **extra})


@dataclass
class Pass:
    published: int = 0
    failed: int = 0
    trimmed: int = 0  # events published without some of their data (too large whole)
    parked: dict[str, int] = field(default_factory=dict)  # reason (PARK_REASONS) -> rows
    busy: list[str] = field(default_factory=list)  # shards another relay holds
    unavailable: list[str] = field(default_factory=list)
    fatal: str | None = None  # the producer failed for good: make a new one


@dataclass
class Sent:
    """What became of one pass's rows."""

    delivered: set[int] = field(default_factory=set)
    parked: dict[int, tuple[str, str]] = field(default_factory=dict)  # row id -> (reason, detail)
    trimmed: set[int] = field(default_factory=set)  # rows produced without some of their data
    errors: list[str] = field(default_factory=list)
    fatal: str | None = None


class Relay:
    def __init__(self, db, producer, batch: int, retention: float, message_timeout: float, max_event_bytes: int):
        self.db, self.producer = db, producer
        self.batch, self.retention = batch, retention
        self.flush_timeout = message_timeout + FLUSH_MARGIN
        self.max_event_bytes = max_event_bytes  # larger events are cut down (envelope.fit)
        self._cleaned_at = 0.0

    def run_once(self) -> tuple[Pass, bool]:
        """One pass over every shard: (what happened, whether a shard had more rows waiting)."""
        result, more = Pass(), False
        for shard in self.db.shards:
            try:
                more |= self._shard(shard, result)
            except ShardUnavailable as exc:
                result.unavailable.append(shard)
                log.warning("relay skipped %s: %s", shard, exc.reason)
            if result.fatal:
                break
        if time.monotonic() - self._cleaned_at > CLEANUP_EVERY:
            self._cleaned_at = time.monotonic()
            self.cleanup()
        return result, more

    def _shard(self, shard: str, result: Pass) -> bool:
        with self.db.shard(shard) as conn, conn.cursor(row_factory=dict_row) as cur:
            cur.execute("SELECT pg_try_advisory_xact_lock(%s) AS mine", (RELAY_LOCK,))
            if not cur.fetchone()["mine"]:
                result.busy.append(shard)
                return False
            # data as text, decoded row by row: a row nested too deeply for the decoder is parked,
            # it does not fail the whole pass
            cur.execute("SELECT id, event_id, client_id, job_id, type, data::text AS data, created_at FROM outbox"
                        " WHERE sent_at IS NULL AND parked_at IS NULL ORDER BY id LIMIT %s", (self.batch,))
            rows = cur.fetchall()
            if not rows:
                return False
            outcome = self._publish(rows)
            sent = _in_order(rows, outcome.delivered, set(outcome.parked))
            if sent:
                cur.execute("UPDATE outbox SET sent_at = now() WHERE id = ANY(%s)", (sent,))
            if outcome.parked:
                _park(cur, shard, rows, outcome.parked)
            for reason, _detail in outcome.parked.values():
                result.parked[reason] = result.parked.get(reason, 0) + 1
            result.published += len(sent)
            result.trimmed += len(outcome.trimmed.intersection(sent))
            result.failed += len(rows) - len(sent) - len(outcome.parked)
            result.fatal = outcome.fatal
            done = len(sent) + len(outcome.parked)
            return len(rows) == self.batch and done == len(rows)

    def _publish(self, rows: list[dict]) -> Sent:
        """Produce every row; what Kafka acknowledged, what it refused for good."""
        outcome = Sent()

        def report(row_id: int):
            def on_delivery(err, _msg):
                if err is None:
                    outcome.delivered.add(row_id)
                else:
                    self._failed(outcome, row_id, err, "delivery")
            return on_delivery

        for row in rows:
            if outcome.fatal:
                break
            try:
                event = envelope(str(row["event_id"]), row["type"], str(row["job_id"]), row["created_at"],
                                 json.loads(row["data"]))
                value, omitted = fit(event, self.max_event_bytes)
                key = row["client_id"].encode()
            except (ValueError, TypeError, RecursionError) as exc:  # what JSON or UTF-8 cannot carry
                outcome.parked[row["id"]] = ("unencodable", f"the event cannot be encoded: {exc}")
                continue
            if len(value) > self.max_event_bytes:
                outcome.parked[row["id"]] = ("too_large", f"the event is {len(value)} bytes without its data"
                                             f" members, over the relay's limit of {self.max_event_bytes}")
                continue
            try:
                self._produce(key, value, report(row["id"]))
            except KafkaException as exc:
                self._failed(outcome, row["id"], exc.args[0], "produce")
                continue
            if omitted:
                outcome.trimmed.add(row["id"])
                log.warning("relay: event %s of job %s is over %d bytes whole; published without %s",
                            row["event_id"], row["job_id"], self.max_event_bytes, ", ".join(omitted))
        left = self.producer.flush(self.flush_timeout)
        if outcome.errors or left:
            log.warning("relay: %d of %d events not acknowledged (%s); they wait for the next pass",
                        len(rows) - len(outcome.delivered) - len(outcome.parked), len(rows),
                        outcome.errors[0] if outcome.errors else "no answer")
        return outcome

    @staticmethod
    def _failed(outcome: Sent, row_id: int, error: KafkaError, where: str) -> None:
        """Sort one failure: refused for good (parked), the producer gone, or may pass."""
        reason = refusal(error)
        if reason is not None:
            outcome.parked[row_id] = (reason, f"Kafka refused it ({where}): {error.name()}: {error.str()}")
        elif is_fatal(error):
            outcome.fatal = f"{error.name()}: {error.str()}"
        else:
            outcome.errors.append(str(error))

    def _produce(self, key: bytes, value: bytes, on_delivery) -> None:
        while True:
            try:
                self.producer.produce(JOB_EVENTS_TOPIC, key=key, value=value, headers=HEADERS,
                                      on_delivery=on_delivery)
                return
            except BufferError:  # the local queue is full: let deliveries drain it
                self.producer.poll(0.1)

    def cleanup(self) -> int:
        """Delete sent rows older than the retention (in slices: no long lock)."""
        deleted = 0
        for shard in self.db.shards:
            try:
                with self.db.shard(shard) as conn:
                    deleted += conn.execute(
                        "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE sent_at IS NOT NULL"
                        " AND sent_at < now() - make_interval(secs => %s) LIMIT 10000)",
                        (self.retention,)).rowcount
            except ShardUnavailable:
                continue
        return deleted


def _in_order(rows: list[dict], delivered: set[int], parked: set[int]) -> list[int]:
    """The delivered rows of each job up to its first row that waits (rows are in id order);
    a parked row waits for nothing and holds nothing back."""
    held: set = set()
    sent = []
    for row in rows:
        if row["job_id"] in held or row["id"] in parked:
            continue
        if row["id"] in delivered:
            sent.append(row["id"])
        else:
            held.add(row["job_id"])
    return sent


def _park(cur, shard: str, rows: list[dict], parked: dict[int, tuple[str, str]]) -> None:
    ids = list(parked)
    cur.execute("UPDATE outbox SET parked_at = now(), parked_reason = p.reason"
                " FROM unnest(%s::bigint[], %s::text[]) AS p(id, reason) WHERE outbox.id = p.id",
                (ids, [f"{reason}: {detail}" for reason, detail in parked.values()]))
    for row in rows:
        if row["id"] in parked:
            reason, detail = parked[row["id"]]
            log.error("relay: parked outbox row %d of %s (event %s, job %s, client %s): %s: %s; see"
                      " routefarm outbox parked", row["id"], shard, row["event_id"], row["job_id"],
                      row["client_id"], reason, detail)


def backlog(db) -> dict[str, int | None]:
    """Outbox rows waiting for Kafka per shard, parked ones apart (None for a shard that does
    not answer)."""
    return per_shard(db, "SELECT count(*) FROM outbox WHERE sent_at IS NULL AND parked_at IS NULL")
