"""The reaper: jobs whose worker vanished or whose message was lost get going again.

- ``running`` with an expired lease: back to ``queued`` with a new message, or ``failed``
  (``worker_lost``) once ``max_attempts`` claims have been made, or ``cancelled`` when it was
  asked to stop (never queued again); ``queued`` jobs asked to stop are ``cancelled`` too.
- ``queued`` for longer than the grace period whose message is in no broker queue (Redis
  restarted or flushed, or Redis was down when the job was accepted): sent again. A message
  that a killed worker had taken goes back to its queue first (Dramatiq's maintenance, run
  at every pass), once the worker has been silent for ``broker.HEARTBEAT_MS``.
- webhook deliveries due for longer than the grace period whose message is lost: sent again
  (``routefarm.webhooks.resend``). A ``worker_lost`` failure creates the job's deliveries in
  the transaction that fails it, like every terminal transition.

Rows are taken with ``FOR UPDATE SKIP LOCKED`` (``states.expire_leases``, ``states.orphans``),
so several reapers never act on one job.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import redis

from ..broker import (
    SOLVE_QUEUE,
    WEBHOOK_QUEUE,
    enqueue,
    messages_present,
    requeue_from_dead_workers,
    solve_message,
)
from ..errors import BrokerUnavailable, ShardUnavailable
from ..farm import Farm
from ..webhooks.events import on_job_terminal
from ..webhooks.resend import resend_lost
from . import states
from .ending import Ended, ended

log = logging.getLogger(__name__)
BATCH = 500


@dataclass
class Reaped:
    requeued: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)  # asked to stop: ended instead of queued
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
    effects = []  # webhook deliveries of the jobs failed here
    with farm.db.shard(shard) as conn:
        finished, to_send = states.expire_leases(conn, BATCH, solve_message)
        finished += states.cancel_stranded(conn, BATCH)
        for row in finished:
            effects += on_job_terminal(conn, row)
        result.failed = [str(row["id"]) for row in finished if row["status"] == "failed"]
        result.cancelled = [str(row["id"]) for row in finished if row["status"] == "cancelled"]
        result.requeued = [m.args[0] for m in to_send]
        waiting = states.orphans(conn, farm.settings.orphan_grace_s, BATCH)
        try:
            present = messages_present(farm.broker, SOLVE_QUEUE, [j["message_id"] or "" for j in waiting])
        except (redis.RedisError, OSError) as exc:  # cannot tell now: look again next pass
            log.warning("reaper cannot read the broker: %s", exc)
            present = [True] * len(waiting)
        for job, there in zip(waiting, present, strict=True):
            if there:
                continue
            message = solve_message(job["id"], job["client_id"])
            states.resend(conn, job["id"], message.message_id)
            to_send.append(message)
            result.resent.append(str(job["id"]))
    for message in to_send:  # after the commit: the row always exists before its message
        farm.cache.drop_job(message.args[0])
        try:
            enqueue(farm.broker, message)
        except BrokerUnavailable as exc:
            log.warning("reaper could not send job %s now (%s); next pass retries", message.args[0], exc)
    ended(farm, [Ended(row, row["client_id"]) for row in finished], effects)
    result.deliveries = resend_lost(farm, shard)
    if result.requeued or result.failed or result.cancelled or result.resent or result.deliveries:
        log.info("reaper %s: requeued %d, failed %d, cancelled %d, re-sent %d jobs and %d webhook deliveries",
                 shard, len(result.requeued), len(result.failed), len(result.cancelled), len(result.resent),
                 len(result.deliveries))
    total.requeued += result.requeued
    total.failed += result.failed
    total.cancelled += result.cancelled
    total.resent += result.resent
    total.deliveries += result.deliveries
