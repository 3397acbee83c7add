"""The reaper: jobs whose worker vanished or whose message was lost get going again.

- ``running`` with an expired lease: back to ``queued`` with a new message, or ``failed``
  (``worker_lost``) once ``max_attempts`` claims have been made.
- ``queued`` for longer than the grace period whose message is in no broker queue (Redis
  restarted or flushed, or Redis was down when the job was accepted): sent again. A message
  that a killed worker had taken goes back to its queue first (Dramatiq's maintenance, run
  at every pass), once the worker has been silent for ``broker.HEARTBEAT_MS``.
- webhook deliveries due for longer than the grace period whose message is lost: sent again
  (``routefarm.webhooks.resend``). A ``worker_lost`` failure creates the job's deliveries in
  the transaction that fails it, like every terminal transition.

Rows are taken with ``FOR UPDATE SKIP LOCKED``, so several reapers never act on one job.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import redis
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from .broker import (
    SOLVE_QUEUE,
    WEBHOOK_QUEUE,
    enqueue,
    enqueue_all,
    messages_present,
    requeue_from_dead_workers,
    solve_message,
)
from .documents import status_document
from .errors import BrokerUnavailable, ShardUnavailable
from .farm import Farm
from .webhooks.events import on_job_terminal
from .webhooks.resend import resend_lost

log = logging.getLogger(__name__)
BATCH = 500


@dataclass
class Reaped:
    requeued: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    resent: list[str] = field(default_factory=list)
    deliveries: list[str] = field(default_factory=list)  # webhook deliveries re-sent
    unavailable: list[str] = field(default_factory=list)


def reap(farm: Farm) -> Reaped:
    result = Reaped()
    try:  # first, what killed workers held goes back to its queue (then it counts as present)
        requeue_from_dead_workers(farm.broker, [SOLVE_QUEUE, WEBHOOK_QUEUE])
    except (redis.RedisError, OSError) as exc:
        log.warning("reaper cannot read the broker: %s", exc)
    for shard in farm.db.shards:
        try:
            _reap_shard(farm, shard, result)
        except ShardUnavailable as exc:
            result.unavailable.append(shard)
            log.warning("reaper skipped %s: %s", shard, exc.reason)
    return result


def _reap_shard(farm: Farm, shard: str, total: Reaped) -> None:
    result = Reaped()
    to_send = []
    finished = []
    effects = []  # webhook deliveries of the jobs failed here
    with farm.db.shard(shard) as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            "SELECT id, client_id, attempts, max_attempts FROM jobs"
            " WHERE status = 'running' AND lease_until < now()"
            " ORDER BY lease_until LIMIT %s FOR UPDATE SKIP LOCKED", (BATCH,))
        for job in cur.fetchall():
            if job["attempts"] >= job["max_attempts"]:
                cur.execute(
                    "UPDATE jobs SET status = 'failed', error = %s, finished_at = now(), updated_at = now(),"
                    " lease_until = NULL WHERE id = %s RETURNING *",
                    (Jsonb({"reason": "worker_lost",
                            "detail": f"the worker stopped answering on each of {job['attempts']} attempts"}),
                     job["id"]))
                finished.append(cur.fetchone())
                effects += on_job_terminal(conn, finished[-1])
                result.failed.append(str(job["id"]))
            else:
                message = solve_message(job["id"], job["client_id"])
                cur.execute(
                    "UPDATE jobs SET status = 'queued', worker = NULL, lease_until = NULL, message_id = %s,"
                    " queued_at = now(), updated_at = now() WHERE id = %s", (message.message_id, job["id"]))
                to_send.append(message)
                result.requeued.append(str(job["id"]))
        cur.execute(
            "SELECT id, client_id, message_id FROM jobs WHERE status = 'queued'"
            " AND queued_at < now() - make_interval(secs => %s)"
            " ORDER BY queued_at LIMIT %s FOR UPDATE SKIP LOCKED", (farm.settings.orphan_grace, BATCH))
        waiting = cur.fetchall()
        try:
            present = messages_present(farm.broker, SOLVE_QUEUE, [j["message_id"] or "" for j in waiting])
        except (redis.RedisError, OSError) as exc:  # cannot tell now: look again next pass
            log.warning("reaper cannot read the broker: %s", exc)
            present = [True] * len(waiting)
        for job, there in zip(waiting, present, strict=True):
            if there:
                continue
            message = solve_message(job["id"], job["client_id"])
            cur.execute("UPDATE jobs SET message_id = %s, queued_at = now() WHERE id = %s",
                        (message.message_id, job["id"]))
            to_send.append(message)
            result.resent.append(str(job["id"]))
    for message in to_send:  # after the commit: the row always exists before its message
        farm.cache.drop_job(message.args[0])
        try:
            enqueue(farm.broker, message)
        except BrokerUnavailable as exc:
            log.warning("reaper could not send job %s now (%s); next pass retries", message.args[0], exc)
    for row in finished:
        doc = status_document(row, farm.settings.base_url)
        farm.cache.finished(str(row["id"]), {**doc, "client_id": row["client_id"]})
    try:
        enqueue_all(farm.broker, effects)
    except BrokerUnavailable as exc:
        log.warning("reaper could not send %d webhook deliveries now (%s); next pass retries", len(effects), exc)
    result.deliveries = resend_lost(farm, shard)
    if result.requeued or result.failed or result.resent or result.deliveries:
        log.info("reaper %s: requeued %d, failed %d, re-sent %d jobs and %d webhook deliveries", shard,
                 len(result.requeued), len(result.failed), len(result.resent), len(result.deliveries))
    total.requeued += result.requeued
    total.failed += result.failed
    total.resent += result.resent
    total.deliveries += result.deliveries
