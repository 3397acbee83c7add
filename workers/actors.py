"""Dramatiq actors. Thin: the work is in ``workers.solving``.

Import only after ``workers.runtime.install()`` (``workers.main:setup`` does it).
"""

from __future__ import annotations

import dramatiq
import psycopg
import redis

from routefarm.broker import MAX_RETRIES, SOLVE_ACTOR, SOLVE_QUEUE
from routefarm.errors import BrokerUnavailable, ShardUnavailable

from . import runtime, solving

INFRASTRUCTURE = (ShardUnavailable, BrokerUnavailable, psycopg.OperationalError, redis.RedisError, OSError)
SOLVE_MARGIN = 120  # seconds Dramatiq allows beyond the longest solve before interrupting


def _retry_infrastructure_only(retries: int, exc: Exception) -> bool:
    """Retry what a later attempt may fix (databases, Redis); never a bad problem."""
    return retries < MAX_RETRIES and isinstance(exc, INFRASTRUCTURE)


@dramatiq.actor(
    actor_name=SOLVE_ACTOR,
    queue_name=SOLVE_QUEUE,
    time_limit=int((runtime.current().settings.max_time_limit + SOLVE_MARGIN) * 1000),
    retry_when=_retry_infrastructure_only,
    max_retries=MAX_RETRIES,
    min_backoff=1_000,
    max_backoff=30_000,
)
def solve_job(job_id: str, client_id: str) -> None:
    solving.run(runtime.current(), job_id, client_id)
