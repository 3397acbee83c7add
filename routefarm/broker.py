"""The Dramatiq broker as the API and the workers share it: queue and actor names, enqueue.

The API never imports ``workers``: it sends messages by actor name through here.
"""

from __future__ import annotations

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker

from .errors import BrokerUnavailable
from .settings import Settings

SOLVE_QUEUE = "solve"
SOLVE_ACTOR = "solve_job"
HEARTBEAT_MS = 60_000  # Dramatiq's own requeue of a dead worker's messages (our reaper is faster)


def make_broker(settings: Settings) -> RedisBroker:
    broker = RedisBroker(url=settings.redis_url, namespace=settings.namespace,
                         heartbeat_timeout=HEARTBEAT_MS)
    broker.declare_queue(SOLVE_QUEUE)
    return broker


def solve_message(job_id: str, client_id: str) -> dramatiq.Message:
    """A new message (with a fresh id, recorded in the job row before it is sent)."""
    return dramatiq.Message(queue_name=SOLVE_QUEUE, actor_name=SOLVE_ACTOR,
                            args=(str(job_id), client_id), kwargs={}, options={})


def enqueue(broker: RedisBroker, message: dramatiq.Message) -> None:
    try:
        broker.enqueue(message)
    except (redis.RedisError, OSError) as exc:
        raise BrokerUnavailable(str(exc)) from exc


def messages_present(broker: RedisBroker, queue: str, message_ids: list[str]) -> list[bool]:
    """Whether each message is still queued, in flight or delayed on ``queue``."""
    client = broker.client
    pipe = client.pipeline(transaction=False)
    for mid in message_ids:
        pipe.hexists(f"{broker.namespace}:{queue}.msgs", mid)
        pipe.hexists(f"{broker.namespace}:{dramatiq.common.dq_name(queue)}.msgs", mid)
    flags = pipe.execute()
    return [bool(flags[2 * i] or flags[2 * i + 1]) for i in range(len(message_ids))]


def queue_depth(broker: RedisBroker, queue: str) -> int:
    """Queued plus in-flight messages, plus delayed retries (what KEDA scales on)."""
    client = broker.client
    pipe = client.pipeline(transaction=False)
    pipe.hlen(f"{broker.namespace}:{queue}.msgs")
    pipe.hlen(f"{broker.namespace}:{dramatiq.common.dq_name(queue)}.msgs")
    return sum(pipe.execute())
