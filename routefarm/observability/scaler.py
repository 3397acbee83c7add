"""What the local autoscaler publishes each second for the web processes: ``GET /v1/farm``
and the ``routefarm_workers{state="desired"}`` gauge read it.

One JSON value under ``rf:autoscaler`` in the cache Redis, with a TTL of a few publishing
periods: when the autoscaler stops (or on Kubernetes, where KEDA scales and nothing writes
it) the key is absent and readers report what they can measure themselves.
"""

from __future__ import annotations

import contextlib
import json
import logging
from dataclasses import asdict, dataclass

import redis

log = logging.getLogger(__name__)
KEY = "rf:autoscaler"
TTL = 10  # seconds; the autoscaler writes every second


@dataclass(frozen=True)
class ScalerRecord:
    current: int  # worker processes running (not counting those stopping)
    desired: int
    max: int
    queue_depth: int | None
    kafka_lag: int | None
    jobs_per_s: float | None


def publish(client: redis.Redis, record: ScalerRecord, ttl: int = TTL) -> None:
    try:
        client.set(KEY, json.dumps(asdict(record)), ex=ttl)
    except (redis.RedisError, OSError) as exc:
        log.warning("autoscaler state not published: %s", exc)


def clear(client: redis.Redis) -> None:
    """The autoscaler stopped: readers should not wait for the TTL to know."""
    with contextlib.suppress(redis.RedisError, OSError):
        client.delete(KEY)


def read(client: redis.Redis) -> ScalerRecord | None:
    """The autoscaler's latest record; None when none is fresh, or Redis cannot be read."""
    try:
        raw = client.get(KEY)
    except (redis.RedisError, OSError):
        return None
    if not raw:
        return None
    try:
        return ScalerRecord(**json.loads(raw))
    except (ValueError, TypeError):
        return None
