"""The Dramatiq broker as the API and the workers share it: queue and actor names, enqueue.

The API never imports ``workers``: it sends messages by actor name through here.
"""

from __future__ import annotations

import dramatiq
import dramatiq.common
import redis
from dramatiq.brokers.redis import RedisBroker

from .errors import BrokerUnavailable
from .settings import Settings

SOLVE_QUEUE = "solve"
SOLVE_ACTOR = "solve_job"
HEARTBEAT_MS = 60_000  # Dramatiq's own requeue of a dead worker's messages (our reaper is faster)


MAX_RETRIES = 5  # Dramatiq retries of one message (infrastructure errors only)


def redis_ids(message_id: str) -> list[str]:
    """Every key a message may have in Redis, one per retry."""
    return [f"{message_id}.{n}" for n in range(MAX_RETRIES + 1)]


class FarmBroker(RedisBroker):
    """Dramatiq's Redis broker, keying each message by its id and retry count.

    Dramatiq gives every enqueue a random Redis key (a retry must not share its original's
    key). Deriving the key from the message id instead keeps that property and lets the
    reaper ask Redis whether a job's message still exists.
    """

    def enqueue(self, message: dramatiq.Message, *, delay: int | None = None) -> dramatiq.Message:
        queue_name = message.queue_name
        key = f"{message.message_id}.{message.options.get('retries', 0)}"
        message = message.copy(options={"redis_message_id": key})
        if delay is not None:
            queue_name = dramatiq.common.dq_name(queue_name)
            message = message.copy(queue_name=queue_name,
                                   options={"eta": dramatiq.common.current_millis() + delay})
        self.emit_before("enqueue", message, delay)
        self.do_enqueue(queue_name, key, message.encode())
        self.emit_after("enqueue", message, delay)
        return message


def make_broker(settings: Settings) -> RedisBroker:
    broker = FarmBroker(url=settings.redis_url, namespace=settings.namespace,
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
    pipe = broker.client.pipeline(transaction=False)
    hashes = (f"{broker.namespace}:{queue}.msgs", f"{broker.namespace}:{dramatiq.common.dq_name(queue)}.msgs")
    for mid in message_ids:
        for key in redis_ids(mid):
            for name in hashes:
                pipe.hexists(name, key)
    flags = pipe.execute()
    per_message = 2 * (MAX_RETRIES + 1)
    return [any(flags[i * per_message:(i + 1) * per_message]) for i in range(len(message_ids))]


def queue_depth(broker: RedisBroker, queue: str) -> int:
    """Queued plus in-flight messages, plus delayed retries (what KEDA scales on)."""
    client = broker.client
    pipe = client.pipeline(transaction=False)
    pipe.hlen(f"{broker.namespace}:{queue}.msgs")
    pipe.hlen(f"{broker.namespace}:{dramatiq.common.dq_name(queue)}.msgs")
    return sum(pipe.execute())
