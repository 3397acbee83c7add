"""The outbox relay: unsent outbox rows of every shard go to ``routefarm.job-events``.

A pass over one shard runs in one transaction holding that shard's relay lock (a
transaction-level advisory lock, taken with ``try``): several relays share the shards
between them, and only one at a time publishes a given shard's rows, in id order, which
keeps every job's events in order. Rows are published with the idempotent producer (key =
client id, so a client's events share a partition), then the delivered ones are marked
sent. When Kafka is down nothing is marked and the rows wait; a job whose event failed has
its later events held back to the next pass, so its order holds. A row published but not
marked (the relay died in between) is published again with the same event id.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from psycopg.rows import dict_row

from routefarm.errors import ShardUnavailable

from .envelope import HEADERS, encode, envelope
from .names import JOB_EVENTS_TOPIC

log = logging.getLogger(__name__)
RELAY_LOCK = 0x72656C6179  # pg_try_advisory_xact_lock key: one relay per shard at a time
FLUSH_MARGIN = 5.0  # seconds past the producer's message timeout to wait for delivery reports
CLEANUP_EVERY = 60.0  # seconds between deletions of old sent rows


@dataclass
class Pass:
    published: int = 0
    failed: int = 0
    busy: list[str] = field(default_factory=list)  # shards another relay holds
    unavailable: list[str] = field(default_factory=list)


class Relay:
    def __init__(self, db, producer, batch: int, retention: float, message_timeout: float):
        self.db, self.producer = db, producer
        self.batch, self.retention = batch, retention
        self.flush_timeout = message_timeout + FLUSH_MARGIN
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
            cur.execute("SELECT id, event_id, client_id, job_id, type, data, created_at FROM outbox"
                        " WHERE sent_at IS NULL ORDER BY id LIMIT %s", (self.batch,))
            rows = cur.fetchall()
            if not rows:
                return False
            delivered = self._publish(rows)
            sent = _in_order(rows, delivered)
            if sent:
                cur.execute("UPDATE outbox SET sent_at = now() WHERE id = ANY(%s)", (sent,))
            result.published += len(sent)
            result.failed += len(rows) - len(sent)
            return len(rows) == self.batch and len(sent) == len(rows)

    def _publish(self, rows: list[dict]) -> set[int]:
        """Produce every row; the ids Kafka acknowledged."""
        delivered: set[int] = set()
        errors: list[str] = []

        def report(row_id: int):
            def on_delivery(err, _msg):
                if err is None:
                    delivered.add(row_id)
                else:
                    errors.append(str(err))
            return on_delivery

        for row in rows:
            event = envelope(str(row["event_id"]), row["type"], str(row["job_id"]), row["created_at"], row["data"])
            self._produce(row["client_id"], encode(event), report(row["id"]))
        left = self.producer.flush(self.flush_timeout)
        if errors or left:
            log.warning("relay: %d of %d events not acknowledged (%s); they wait for the next pass",
                        len(rows) - len(delivered), len(rows), errors[0] if errors else "no answer")
        return delivered

    def _produce(self, key: str, value: bytes, on_delivery) -> None:
        while True:
            try:
                self.producer.produce(JOB_EVENTS_TOPIC, key=key.encode(), value=value, headers=HEADERS,
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


def _in_order(rows: list[dict], delivered: set[int]) -> list[int]:
    """The delivered rows of each job up to its first undelivered one (rows are in id order)."""
    held: set = set()
    sent = []
    for row in rows:
        if row["job_id"] in held:
            continue
        if row["id"] in delivered:
            sent.append(row["id"])
        else:
            held.add(row["job_id"])
    return sent


def backlog(db) -> dict[str, int | None]:
    """Unsent outbox rows per shard (None for a shard that does not answer)."""
    counts: dict[str, int | None] = {}
    for shard in db.shards:
        try:
            with db.shard(shard) as conn:
                counts[shard] = conn.execute("SELECT count(*) FROM outbox WHERE sent_at IS NULL").fetchone()[0]
        except ShardUnavailable:
            counts[shard] = None
    return counts
