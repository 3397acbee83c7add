"""Dramatiq actors. Thin: the work is in ``workers.solving`` and ``routefarm.webhooks.sender``.

``solve_job`` runs on the ``solve`` queue (one thread per process: OR-Tools is CPU-bound);
``deliver_webhook`` on its own ``webhooks`` queue, consumed by the ``webhook`` process with
many threads (deliveries wait on the network), so a slow receiver never delays solving.
Webhook retries follow the published schedule by re-enqueueing with a delay, not Dramatiq's
backoff; Dramatiq retries only infrastructure errors (the message token makes a retry safe).

``declare(rt)`` runs after ``workers.runtime.install()`` (``workers.main:setup`` does both):
the actors' time limits come from the settings, and nothing is declared at import.
"""

from __future__ import annotations

import dramatiq
import psycopg
import redis

from routefarm.broker import MAX_RETRIES, SOLVE_ACTOR, SOLVE_QUEUE, WEBHOOK_ACTOR, WEBHOOK_QUEUE
from routefarm.errors import BrokerUnavailable, ShardUnavailable
from routefarm.observability import logs
from routefarm.webhooks import sender

from . import runtime, solving

INFRASTRUCTURE = (ShardUnavailable, BrokerUnavailable, psycopg.OperationalError, redis.RedisError, OSError)
SOLVE_MARGIN_S = 120  # seconds Dramatiq allows beyond the longest solve before interrupting


def _retry_infrastructure_only(retries: int, exc: Exception) -> bool:
    """Retry what a later attempt may fix (databases, Redis); never a bad problem."""
    return retries < MAX_RETRIES and isinstance(exc, INFRASTRUCTURE)


def declare(rt: runtime.Runtime) -> None:
    """Declare the actors on the installed broker, with the time limits of ``rt``'s settings."""
    settings = rt.settings
    dramatiq.actor(
        solve_job,
        actor_name=SOLVE_ACTOR,
        queue_name=SOLVE_QUEUE,
        time_limit=int((settings.max_time_limit_s + SOLVE_MARGIN_S) * 1000),
        retry_when=_retry_infrastructure_only,
        max_retries=MAX_RETRIES,
        min_backoff=1_000,
        max_backoff=30_000,
    )
    dramatiq.actor(
        deliver_webhook,
        actor_name=WEBHOOK_ACTOR,
        queue_name=WEBHOOK_QUEUE,
        time_limit=int((settings.webhook_timeout_s + sender.LEASE_MARGIN) * 1000),
        retry_when=_retry_infrastructure_only,
        max_retries=MAX_RETRIES,
        min_backoff=1_000,
        max_backoff=30_000,
    )


def solve_job(job_id: str, client_id: str) -> None:
    rt = runtime.current()
    with rt.solving(), logs.bound(job_id=job_id, client_id=client_id):  # on every line of the solve
        solving.run(rt, job_id, client_id)


def deliver_webhook(delivery_id: str, client_id: str, token: str) -> None:
    with logs.bound(delivery_id=delivery_id, client_id=client_id):
        sender.deliver(runtime.current().farm, delivery_id, client_id, token)
