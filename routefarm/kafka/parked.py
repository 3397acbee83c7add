"""Parked outbox rows: events the relay could not publish for good (``relay.py``), kept unsent
in their shard with the reason until an operator re-sends them (after raising the topic's
size limit, say) or drops them: ``routefarm outbox parked | retry | drop``.

A re-sent row is published on the relay's next pass, after the later events of its job that
went out meanwhile; if Kafka refuses it again, it is parked again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..errors import ShardUnavailable

# why a row was parked: the label values of routefarm_outbox_parked_total, and the first
# word of outbox.parked_reason
PARK_REASONS = ("too_large", "invalid", "unencodable")
PARKED = "sent_at IS NULL AND parked_at IS NOT NULL"


@dataclass(frozen=True)
class ParkedRow:
    shard: str
    id: int
    event_id: str
    client_id: str
    job_id: str
    type: str
    data_bytes: int  # the size of the row's data as stored (jsonb text)
    parked_at: datetime
    reason: str


def counts(db) -> dict[str, int | None]:
    """Parked rows per shard (None for a shard that does not answer)."""
    return per_shard(db, f"SELECT count(*) FROM outbox WHERE {PARKED}")


def per_shard(db, count: str) -> dict[str, int | None]:
    """The answer of the ``count`` query on each shard (None for a shard that does not answer)."""
    found: dict[str, int | None] = {}
    for shard in db.shards:
        try:
            with db.shard(shard) as conn:
                found[shard] = conn.execute(count).fetchone()[0]
        except ShardUnavailable:
            found[shard] = None
    return found


def listing(db, limit: int, shard: str | None = None) -> list[ParkedRow]:
    """The oldest ``limit`` parked rows of each shard (or of ``shard``), in id order."""
    rows: list[ParkedRow] = []
    for name in [shard] if shard else db.shards:
        with db.shard(name) as conn:
            found = conn.execute(
                "SELECT id, event_id, client_id, job_id, type, octet_length(data::text), parked_at, parked_reason"
                f" FROM outbox WHERE {PARKED} ORDER BY id LIMIT %s", (limit,)).fetchall()
        rows += [ParkedRow(name, r[0], str(r[1]), r[2], str(r[3]), r[4], r[5], r[6], r[7]) for r in found]
    return rows


def retry(db, shard: str | None = None, ids: list[int] | None = None) -> int:
    """Hand parked rows back to the relay (all, a shard's, or ``ids`` of ``shard``); how many."""
    return _each(db, shard, ids, "UPDATE outbox SET parked_at = NULL, parked_reason = NULL")


def drop(db, shard: str | None = None, ids: list[int] | None = None) -> int:
    """Delete parked rows (all, a shard's, or ``ids`` of ``shard``): their events are never
    published; how many."""
    return _each(db, shard, ids, "DELETE FROM outbox")


def _each(db, shard: str | None, ids: list[int] | None, statement: str) -> int:
    done = 0
    for name in [shard] if shard else db.shards:
        with db.shard(name) as conn:
            if ids is None:
                done += conn.execute(f"{statement} WHERE {PARKED}").rowcount
            else:
                done += conn.execute(f"{statement} WHERE {PARKED} AND id = ANY(%s)", (ids,)).rowcount
    return done
