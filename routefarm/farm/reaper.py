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

The jobs' part is the job store's door (``JobStore.reap``): rows taken with ``FOR UPDATE SKIP
LOCKED``, so several reapers never act on one job.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import redis

from ..broker import SOLVE_QUEUE, WEBHOOK_QUEUE, requeue_from_dead_workers
from ..errors import ShardUnavailable
from ..jobs import door
from ..webhooks.resend import resend_lost

log = logging.getLogger(__name__)


@dataclass
class Reaped(door.Reaped):
    """A reaper pass over every shard (ids)."""

    deliveries: list[str] = field(default_factory=list)  # webhook deliveries re-sent
    unavailable: list[str] = field(default_factory=list)  # shards that did not answer


def reap(farm) -> Reaped:
    """One pass: what killed workers held goes back to its queue, then each shard's jobs
    (``JobStore.reap``) and webhook deliveries (``webhooks.resend``)."""
    result = Reaped()
    try:  # first, what killed workers held goes back to its queue (then it counts as present)
        requeue_from_dead_workers(farm.broker, [SOLVE_QUEUE, WEBHOOK_QUEUE])
    except (redis.RedisError, OSError) as exc:
        log.warning("reaper cannot read the broker: %s", exc)
    for shard in farm.db.shards:
        try:
            jobs = farm.store.reap(shard, farm.settings.orphan_grace_s)
            deliveries = resend_lost(farm, shard)
        except ShardUnavailable as exc:
            result.unavailable.append(shard)
            log.warning("reaper skipped %s: %s", shard, exc.reason)
            continue
        if jobs.requeued or jobs.failed or jobs.cancelled or jobs.resent or deliveries:
            log.info("reaper %s: requeued %d, failed %d, cancelled %d, re-sent %d jobs and %d webhook deliveries",
                     shard, len(jobs.requeued), len(jobs.failed), len(jobs.cancelled), len(jobs.resent),
                     len(deliveries))
        for name in ("requeued", "failed", "cancelled", "resent"):
            getattr(result, name).extend(getattr(jobs, name))
        result.deliveries += deliveries
    return result
