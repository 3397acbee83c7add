"""Finished jobs per second, from one counter per second in the cache Redis.

A worker adds one to ``rf:finished:{unix second}`` each time it stores a job's end (the
key expires after the window); the rate is the sum over the last ``WINDOW`` whole seconds
divided by ``WINDOW``: one MGET, no job table read. Fails soft: Redis down means no count
and no rate, never a failed job.
"""

from __future__ import annotations

import logging
import time

import redis

log = logging.getLogger(__name__)
KEY = "rf:finished:{}"
WINDOW = 30  # seconds the rate is measured over


def count_finished(client: redis.Redis, now: float | None = None) -> None:
    key = KEY.format(int(time.time() if now is None else now))
    try:
        pipe = client.pipeline(transaction=False)
        pipe.incr(key)
        pipe.expire(key, WINDOW + 5)
        pipe.execute()
    except (redis.RedisError, OSError) as exc:
        log.warning("finished job not counted: %s", exc)


def jobs_per_second(client: redis.Redis, now: float | None = None, window: int = WINDOW) -> float | None:
    """Jobs finished per second over the last ``window`` whole seconds; None if Redis is down."""
    second = int(time.time() if now is None else now)
    try:
        counts = client.mget([KEY.format(s) for s in range(second - window, second)])
    except (redis.RedisError, OSError) as exc:
        log.warning("throughput not read: %s", exc)
        return None
    return round(sum(int(c) for c in counts if c) / window, 3)
