"""Retention: ended jobs, their deliveries and events, and completed batches are deleted once
they are older than their client's retention (the farm's ``job_retention_s``, 30 days by
default, or the client's own; 0 keeps them).

A job expires ``retention`` after it ended (``finished_at``); with it go its solution and
problem, its idempotency key and de-duplication hash (both are columns of the job), its
webhook deliveries and their attempts, and its outbox events (a job's events older than its
retention are not published any more). A job with a delivery still pending waits for it.
A batch expires ``retention`` after it completed, once none of its jobs is left.

The purge deletes in slices of ``purge_slice`` rows, each slice its own short transaction
taking its rows with SKIP LOCKED, so that no lock is held for long, other purgers (stream
replicas) take other rows, and autovacuum keeps up between slices. A client whose rows are
being moved to another shard is left alone until the move ends.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

from ..errors import Gone, NotFound
from ..ids import made_at
from ..observability import metrics

log = logging.getLogger(__name__)
TABLES = ("jobs", "webhook_deliveries", "webhook_attempts", "outbox", "batches")
PAUSE_S = 0.05  # between two slices of one shard


@dataclass(frozen=True)
class Policy:
    """Seconds each client's ended rows are kept: ``default`` unless ``clients`` says otherwise
    (0 keeps them); ``frozen`` clients (being moved) are not purged."""

    default: float
    clients: dict[str, float] = field(default_factory=dict)
    frozen: frozenset[str] = frozenset()

    def keep(self, client_id: str) -> float:
        return self.clients.get(client_id, self.default)

    @property
    def shortest(self) -> float | None:
        """The shortest positive retention (None: nothing expires)."""
        kept = [s for s in (self.default, *self.clients.values()) if s > 0]
        return min(kept) if kept else None

    def params(self) -> dict:
        return {"ids": list(self.clients), "secs": list(self.clients.values()), "default": self.default,
                "shortest": self.shortest, "frozen": list(self.frozen)}


def policy(farm) -> Policy:
    """The farm's default and the clients' own retentions, read from the directory."""
    with farm.db.dir() as conn:
        own = conn.execute("SELECT id, retention_s FROM clients WHERE retention_s IS NOT NULL").fetchall()
        moving = conn.execute("SELECT client_id FROM client_shards WHERE moving_to IS NOT NULL").fetchall()
    return Policy(farm.settings.job_retention_s, {c: float(s) for c, s in own}, frozenset(c for (c,) in moving))


def _expired(table: str, ended: str, owner: str, limit: str, also: str = "") -> str:
    """``WITH policy, expired``: the rows of ``table`` (alias x) whose ``ended`` time is past
    their client's retention, with no webhook delivery pending on them (``owner``: the
    delivery column naming them), not frozen, plus ``also``; oldest first."""
    return f"""
WITH policy AS (SELECT * FROM unnest(%(ids)s::text[], %(secs)s::float8[]) AS p (client_id, keep_s)),
expired AS (
    SELECT x.id, x.client_id FROM {table} x LEFT JOIN policy p ON p.client_id = x.client_id
    WHERE x.{ended} < now() - make_interval(secs => %(shortest)s)
      AND COALESCE(p.keep_s, %(default)s) > 0
      AND x.{ended} < now() - make_interval(secs => COALESCE(p.keep_s, %(default)s))
      AND x.client_id <> ALL (%(frozen)s::text[]){also}
      AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d
                      WHERE d.client_id = x.client_id AND d.{owner} = x.id AND d.status = 'pending')
    ORDER BY x.{ended}{limit}
)"""


SLICE = " LIMIT %(slice)s FOR UPDATE OF x SKIP LOCKED"
# the jobs of one slice: ended longer ago than their client's retention, nothing pending
_PURGE_JOBS = _expired("jobs", "finished_at", "job_id", SLICE) + """,
attempts AS (SELECT count(*) AS n FROM webhook_attempts a
             JOIN webhook_deliveries d ON d.id = a.delivery_id
             JOIN expired e ON d.client_id = e.client_id AND d.job_id = e.id),
deliveries AS (DELETE FROM webhook_deliveries d USING expired e
               WHERE d.client_id = e.client_id AND d.job_id = e.id RETURNING 1),
events AS (DELETE FROM outbox o USING expired e WHERE o.job_id = e.id RETURNING 1),
jobs AS (DELETE FROM jobs j USING expired e WHERE j.id = e.id RETURNING j.id)
SELECT (SELECT array_agg(id) FROM jobs), (SELECT count(*) FROM deliveries),
       (SELECT n FROM attempts), (SELECT count(*) FROM events)
"""

_COUNT_JOBS = _expired("jobs", "finished_at", "job_id", "") + """
SELECT (SELECT count(*) FROM expired),
       (SELECT count(*) FROM webhook_deliveries d JOIN expired e ON d.client_id = e.client_id AND d.job_id = e.id),
       (SELECT count(*) FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id
        JOIN expired e ON d.client_id = e.client_id AND d.job_id = e.id),
       (SELECT count(*) FROM outbox o JOIN expired e ON o.job_id = e.id)
"""

def _expired_batches(limit: str, jobs_left: str) -> str:
    return _expired("batches", "completed_at", "batch_id", limit,
                    f"\n      AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.batch_id = x.id{jobs_left})")


_PURGE_BATCHES = _expired_batches(SLICE, "") + """,
attempts AS (SELECT count(*) AS n FROM webhook_attempts a
             JOIN webhook_deliveries d ON d.id = a.delivery_id
             JOIN expired e ON d.client_id = e.client_id AND d.batch_id = e.id),
deliveries AS (DELETE FROM webhook_deliveries d USING expired e
               WHERE d.client_id = e.client_id AND d.batch_id = e.id RETURNING 1),
batches AS (DELETE FROM batches b USING expired e WHERE b.id = e.id RETURNING 1)
SELECT (SELECT count(*) FROM batches), (SELECT count(*) FROM deliveries), (SELECT n FROM attempts)
"""

# the dry run counts the batches whose every job is gone or goes in the same purge
_COUNT_BATCHES = _expired_batches("", """ AND NOT (
          j.finished_at < now() - make_interval(secs => COALESCE(p.keep_s, %(default)s))
          AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d
                          WHERE d.client_id = j.client_id AND d.job_id = j.id AND d.status = 'pending'))""") + """
SELECT (SELECT count(*) FROM expired),
       (SELECT count(*) FROM webhook_deliveries d JOIN expired e ON d.client_id = e.client_id AND d.batch_id = e.id),
       (SELECT count(*) FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id
        JOIN expired e ON d.client_id = e.client_id AND d.batch_id = e.id)
"""


def expired(conn, rules: Policy) -> Counter:
    """What a purge of this shard would delete now, per table (the ``--dry-run``)."""
    found: Counter = Counter({t: 0 for t in TABLES})
    if rules.shortest is None:
        return found
    jobs, deliveries, attempts, events = conn.execute(_COUNT_JOBS, rules.params()).fetchone()
    batches, batch_deliveries, batch_attempts = conn.execute(_COUNT_BATCHES, rules.params()).fetchone()
    found.update(jobs=jobs, webhook_deliveries=deliveries + batch_deliveries,
                 webhook_attempts=attempts + batch_attempts, outbox=events, batches=batches)
    return found


def purge_slice(conn, rules: Policy, size: int) -> tuple[Counter, list]:
    """Delete one slice of expired jobs (then, when none is left, of expired batches), in one
    transaction; return the rows deleted per table and the ids of the jobs deleted."""
    done: Counter = Counter()
    if rules.shortest is None:
        return done, []
    params = {**rules.params(), "slice": size}
    with conn.transaction():
        ids, deliveries, attempts, events = conn.execute(_PURGE_JOBS, params).fetchone()
    ids = ids or []
    done.update(jobs=len(ids), webhook_deliveries=deliveries, webhook_attempts=attempts or 0, outbox=events)
    if len(ids) < size:
        with conn.transaction():
            batches, deliveries, attempts = conn.execute(_PURGE_BATCHES, params).fetchone()
        done.update(batches=batches, webhook_deliveries=deliveries, webhook_attempts=attempts or 0)
    return +done, ids


@dataclass
class Pass:
    deleted: Counter = field(default_factory=Counter)
    unfinished: list[str] = field(default_factory=list)  # shards left with rows for the next pass


def purge(farm, budget_s: float = 30.0, stopping=None) -> Pass:
    """One pass over every shard: slices until a shard has nothing expired left, or this
    pass has used ``budget_s`` on it. Purged rows are counted in
    ``routefarm_purged_rows_total``; the cached documents of purged jobs are dropped."""
    rules = policy(farm)
    result = Pass()
    size = farm.settings.purge_slice
    for shard in farm.db.shards:
        began = time.monotonic()
        while True:
            with farm.db.shard(shard) as conn:
                done, ids = purge_slice(conn, rules, size)
            if ids:
                farm.cache.forget([str(i) for i in ids])
            for table, n in done.items():
                metrics.PURGED_ROWS.labels(shard=shard, table=table).inc(n)
            result.deleted.update(done)
            if done["jobs"] < size and done["batches"] < size:
                break
            if time.monotonic() - began > budget_s or (stopping is not None and stopping.is_set()):
                result.unfinished.append(shard)
                break
            time.sleep(PAUSE_S)
    if result.deleted:
        log.info("purged expired rows: %s", ", ".join(f"{t} {n}" for t, n in sorted(result.deleted.items())))
    return result


def absent(farm, client_id: str, kind: str, resource_id: uuid.UUID) -> NotFound:
    """The error for a job or batch that is not there: ``Gone`` when its id was made longer
    ago than the client's retention (it may have been purged), else ``NotFound``."""
    made = made_at(resource_id)
    if made is not None:
        keep = farm.directory.retention_of(client_id)
        keep = farm.settings.job_retention_s if keep is None else keep
        if keep > 0 and time.time() - made > keep:
            return Gone(f"no {kind} {resource_id}: {kind}s are kept {_duration(keep)} after they end,"
                        f" and this one was created {_duration(time.time() - made)} ago", "expired",
                        retention_s=keep)
    return NotFound(f"no {kind} {resource_id}")


def _duration(seconds: float) -> str:
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= 2 * size:
            return f"{seconds / size:.0f} {unit}"
    return f"{seconds:.0f} seconds"
