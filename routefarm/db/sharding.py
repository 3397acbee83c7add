"""Operator tools across shards: job counts per shard, and moving a client between shards.

A move copies the client's rows while its jobs keep being served, then switches the
directory under short locks on the source that only the moved client's writers wait for:

1. mark the move in the directory (``moving_to``), so two moves cannot overlap;
2. copy every row to the target (upsert), then again the rows changed since, until quiet;
3. take the client's lock exclusive (``db.locks``: every transaction of the client takes it
   shared first, batch creation before its batch and job rows, so the move takes it first
   too), then the client's existing rows (``FOR UPDATE``: its jobs in id order, then its batches
   and webhook rows, the order in which a job's end and a batch's cancellation take them);
   copy the last changes (and the client's batches, webhook endpoints, secrets, deliveries
   and attempts, whole, and its unsent outbox events in order), record the client as moved
   on the source (an insert for it there now fails and is retried on the new shard), switch
   the directory, delete the source rows, commit.

No table is locked: another client's jobs are created and solved on the shard while a move
holds its locks. A writer of the moved client blocked by them then finds no row on the
source (or, inserting, finds the client moved) and follows the directory to the target
(``JobStore.on_shard``). No job is lost or duplicated. Copied job rows write no
outbox events on the target (they are not changes); their unsent events move with them, so
no lifecycle event is lost either (one the source's relay was publishing at that moment
may be published twice, with the same event id).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from ..errors import Conflict, NotFound
from .directory import Directory
from .locks import own_client
from .pools import Databases


class Stores(Protocol):
    """What a move reads and writes: the shards and the directory (a ``Farm`` has both)."""

    db: Databases
    directory: Directory


log = logging.getLogger(__name__)
QUIET = 20  # rows changed in a pass below which the final, locked pass runs
MAX_PASSES = 10
LOOK_BACK = 60  # seconds
JSON_COLUMNS = ("problem", "metadata", "solution", "error")
# the client's other tables, copied whole under the final lock (parents before children)
CLIENT_TABLES = {"client_secrets": "client_id", "webhook_endpoints": "id", "batches": "id",
                 "webhook_deliveries": "id", "webhook_attempts": "id"}


@dataclass(frozen=True)
class ShardCount:
    shard: str
    client_id: str
    name: str
    jobs: int
    by_status: dict[str, int]


def counts(farm: Stores) -> list[ShardCount]:
    """Every client with its shard and job counts (reads every shard: an operator tool)."""
    clients = farm.directory.clients()
    per_shard: dict[str, dict[str, dict[str, int]]] = {}
    for shard in farm.db.shards:
        with farm.db.shard(shard) as conn:
            rows = conn.execute("SELECT client_id, status, count(*) FROM jobs GROUP BY 1, 2").fetchall()
        for client_id, status, n in rows:
            per_shard.setdefault(shard, {}).setdefault(client_id, {})[status] = n
    out = []
    for c in clients:
        statuses = per_shard.get(c.shard, {}).get(c.id, {})
        out.append(ShardCount(c.shard, c.id, c.name, sum(statuses.values()), statuses))
    return out


def move(farm: Stores, client_id: str, target: str) -> int:
    """Move ``client_id``'s rows to shard ``target``; returns the number of jobs moved."""
    if target not in farm.db.shards:
        raise NotFound(f"no shard {target!r} (known: {', '.join(farm.db.shards)})")
    source = farm.directory.shard_of(client_id, fresh=True)
    if source == target:
        return 0
    with farm.db.dir() as conn:
        marked = conn.execute(
            "UPDATE client_shards SET moving_to = %s WHERE client_id = %s AND moving_to IS NULL",
            (target, client_id)).rowcount
    if not marked:
        raise Conflict(f"a move of {client_id!r} is already under way")
    switched = False
    try:
        with farm.db.shard(target) as conn:
            conn.execute("DELETE FROM moved_clients WHERE client_id = %s", (client_id,))
        mark, changed = None, QUIET + 1
        for _ in range(MAX_PASSES):
            if changed <= QUIET:
                break
            mark, changed = _copy(farm, source, target, client_id, mark)
        with farm.db.shard(source) as src:
            lock_client_rows(src, client_id)
            _copy_with(src, farm, target, client_id, mark)
            _copy_client_tables(src, farm, target, client_id)
            _move_outbox(src, farm, target, client_id)
            src.execute("INSERT INTO moved_clients (client_id, moved_to) VALUES (%s, %s)"
                        " ON CONFLICT (client_id) DO UPDATE SET moved_to = EXCLUDED.moved_to, moved_at = now()",
                        (client_id, target))
            moved = src.execute("DELETE FROM jobs WHERE client_id = %s", (client_id,)).rowcount
            for table in reversed(CLIENT_TABLES):
                src.execute(f"DELETE FROM {table} WHERE client_id = %s", (client_id,))
            with farm.db.dir() as conn:
                farm.directory.set_shard(conn, client_id, target)
            switched = True
    except BaseException:
        if not switched:  # the source still owns every row: drop the copies, unmark the move
            with farm.db.shard(target) as conn:
                for table in (*reversed(CLIENT_TABLES), "jobs", "outbox"):
                    conn.execute(f"DELETE FROM {table} WHERE client_id = %s", (client_id,))
            with farm.db.dir() as conn:
                conn.execute("UPDATE client_shards SET moving_to = NULL WHERE client_id = %s AND shard = %s",
                             (client_id, source))
        raise
    log.info("moved %d jobs of %s from %s to %s", moved, client_id, source, target)
    return moved


def lock_client_rows(conn, client_id: str) -> None:
    """The client's lock, then its rows (no other client's) until the transaction ends."""
    own_client(conn, client_id)
    conn.execute("SELECT 1 FROM jobs WHERE client_id = %s ORDER BY id FOR UPDATE", (client_id,))
    for table, key in CLIENT_TABLES.items():
        conn.execute(f"SELECT 1 FROM {table} WHERE client_id = %s ORDER BY {key} FOR UPDATE", (client_id,))


def _copy(farm: Stores, source: str, target: str, client_id: str, since):
    with farm.db.shard(source) as src:
        return _copy_with(src, farm, target, client_id, since)


def _copy_with(src, farm: Stores, target: str, client_id: str, since):
    """Upsert the client's rows changed since ``since`` into ``target``; (new mark, count)."""
    mark = src.execute("SELECT now()").fetchone()[0]
    query = "SELECT * FROM jobs WHERE client_id = %s"
    params: list = [client_id]
    if since is not None:
        # a transaction that started before the mark may commit after it: look back a while,
        # and always take the rows still moving (a lease renewal does not touch updated_at)
        query += " AND (updated_at >= %s - make_interval(secs => %s) OR status IN ('queued', 'running'))"
        params += [since, LOOK_BACK]
    count = 0
    with src.cursor(row_factory=dict_row) as cur, farm.db.shard(target) as dst:
        _copying(dst)
        cur.execute(query, params)
        for row in cur:
            _upsert(dst, "jobs", "id", row, JSON_COLUMNS)
            count += 1
    return mark, count


def _copy_client_tables(src, farm: Stores, target: str, client_id: str) -> None:
    """Copy the client's webhook and batch rows (small next to its jobs), locked by the caller."""
    with src.cursor(row_factory=dict_row) as cur, farm.db.shard(target) as dst:
        for table, key in CLIENT_TABLES.items():
            cur.execute(f"SELECT * FROM {table} WHERE client_id = %s", (client_id,))
            for row in cur.fetchall():
                _upsert(dst, table, key, row, ("metadata",))


def _upsert(dst, table: str, key: str, row: dict, json_columns) -> None:
    """Copy one row as it is (a move copies state, it makes no transition)."""
    columns = list(row)
    values = [Jsonb(row[c]) if c in json_columns and row[c] is not None else row[c] for c in columns]
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns if c != key)
    dst.execute(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})"
                f" ON CONFLICT ({key}) DO UPDATE SET {updates}", values)


def _copying(conn) -> None:
    """Mark this transaction's job writes as copies: the outbox trigger skips them."""
    conn.execute("SELECT set_config('routefarm.copying_rows', 'on', true)")


def _move_outbox(src, farm: Stores, target: str, client_id: str) -> None:
    """The client's unsent events go to the target in their order (new ids there, same event
    ids; a parked one stays parked)."""
    with farm.db.shard(target) as dst:
        dst.execute(
            "INSERT INTO outbox (event_id, client_id, job_id, type, data, created_at, parked_at, parked_reason)"
            " SELECT * FROM unnest(%s::uuid[], %s::text[], %s::uuid[], %s::text[], %s::jsonb[], %s::timestamptz[],"
            " %s::timestamptz[], %s::text[])",
            _columns(src.execute(
                "SELECT event_id, client_id, job_id, type, data, created_at, parked_at, parked_reason FROM outbox"
                " WHERE client_id = %s AND sent_at IS NULL ORDER BY id", (client_id,)).fetchall(), 8))
    src.execute("DELETE FROM outbox WHERE client_id = %s", (client_id,))


def _columns(rows: list[tuple], width: int) -> list[list]:
    return [[Jsonb(row[i]) if isinstance(row[i], dict) else row[i] for row in rows] for i in range(width)]
