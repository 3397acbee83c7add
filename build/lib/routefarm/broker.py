"""The Dramatiq broker as the API and the workers share it: queue and actor names, enqueue.

The API never imports ``workers``: it sends messages by actor name through here.
"""

from __future__ import annotations

import dramatiq
import dramatiq.common
import redis
from dramatiq.brokers.redis import RedisBroker
from dramatiq.message import generate_unique_id

from .errors import BrokerUnavailable
from .settings import Settings

SOLVE_QUEUE = "solve"
SOLVE_ACTOR = "solve_job"
WEBHOOK_QUEUE = "webhooks"
WEBHOOK_ACTOR = "deliver_webhook"
# A worker's messages go back to their queue once it has not been heard of for this long.
# The reaper re-sends a queued job's message only when it is in no queue, and a message taken
# by a worker killed before its claim (or a delayed retry it held) still counts as there, so
# this bounds how long such a job waits. A live worker silent for longer (a busy process) only
# causes a duplicate message, which the conditional claim ignores.
HEARTBEAT_MS = 15_000


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

    def _prepare(self, message: dramatiq.Message, delay: int | None) -> tuple[str, dramatiq.Message]:
        queue_name = message.queue_name
        key = f"{message.message_id}.{message.options.get('retries', 0)}"
        message = message.copy(options={"redis_message_id": key})
        if delay is not None:
            queue_name = dramatiq.common.dq_name(queue_name)
            message = message.copy(queue_name=queue_name,
                                   options={"eta": dramatiq.common.current_millis() + delay})
        return queue_name, message

    def enqueue(self, message: dramatiq.Message, *, delay: int | None = None) -> dramatiq.Message:
        queue_name, message = self._prepare(message, delay)
        self.emit_before("enqueue", message, delay)
        self.do_enqueue(queue_name, message.options["redis_message_id"], message.encode())
        self.emit_after("enqueue", message, delay)
        return message

    def enqueue_many(self, messages: list[dramatiq.Message]) -> None:
        """Enqueue every message in one Redis round trip (a pipeline of Dramatiq's own script)."""
        prepared = [self._prepare(m, None) for m in messages]
        if not prepared:
            return
        for _, message in prepared:
            self.emit_before("enqueue", message, None)
        dispatch, pipe = self.scripts["dispatch"], self.client.pipeline(transaction=False)
        for queue_name, message in prepared:
            args = ["enqueue", dramatiq.common.current_millis(), queue_name, self.broker_id,
                    self.heartbeat_timeout, self.dead_message_ttl, 0, self._max_unpack_size(),
                    message.options["redis_message_id"], message.encode()]
            dispatch(keys=[self.namespace], args=args, client=pipe)
        pipe.execute()
        for _, message in prepared:
            self.emit_after("enqueue", message, None)


def make_broker(settings: Settings) -> RedisBroker:
    broker = FarmBroker(url=settings.redis_url, namespace=settings.namespace,
                        heartbeat_timeout=HEARTBEAT_MS)
    broker.declare_queue(SOLVE_QUEUE)
    broker.declare_queue(WEBHOOK_QUEUE)
    return broker


def solve_message(job_id: str, client_id: str) -> dramatiq.Message:
    """A new message (with a fresh id, recorded in the job row before it is sent)."""
    return dramatiq.Message(queue_name=SOLVE_QUEUE, actor_name=SOLVE_ACTOR,
                            args=(str(job_id), client_id), kwargs={}, options={})


def delivery_message(delivery_id: str, client_id: str) -> dramatiq.Message:
    """A webhook delivery's next attempt; the message id doubles as the row's claim token."""
    message_id = generate_unique_id()
    return dramatiq.Message(queue_name=WEBHOOK_QUEUE, actor_name=WEBHOOK_ACTOR,
                            args=(str(delivery_id), client_id, message_id), kwargs={}, options={},
                            message_id=message_id)


def enqueue(broker: RedisBroker, message: dramatiq.Message, delay: float | None = None) -> None:
    """Send ``message`` (after ``delay`` seconds); ``BrokerUnavailable`` when Redis is down."""
    try:
        broker.enqueue(message, delay=None if delay is None else max(0, int(delay * 1000)))
    except (redis.RedisError, OSError) as exc:
        raise BrokerUnavailable(str(exc)) from exc


def enqueue_all(broker: RedisBroker, messages: list[dramatiq.Message]) -> None:
    """Send ``messages`` at once (one round trip with the farm's broker)."""
    if not messages:
        return
    try:
        if isinstance(broker, FarmBroker):
            broker.enqueue_many(messages)
        else:
            for message in messages:
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


def requeue_from_dead_workers(broker: RedisBroker, queues: list[str]) -> None:
    """Dramatiq's own maintenance of each queue and its delay queue, run now: the messages of
    workers silent for ``HEARTBEAT_MS`` (killed) go back to their queue. Dramatiq runs it on
    one command in a thousand, so a quiet queue (webhooks) could keep a dead worker's messages
    for minutes; the reaper runs it at every pass."""
    dispatch = broker.scripts["dispatch"]
    pipe = broker.client.pipeline(transaction=False)
    for queue in queues:
        for name in (queue, dramatiq.common.dq_name(queue)):
            args = ["qsize", dramatiq.common.current_millis(), name, broker.broker_id, broker.heartbeat_timeout,
                    broker.dead_message_ttl, 1, broker._max_unpack_size()]
            dispatch(keys=[broker.namespace], args=args, client=pipe)
    pipe.execute()


def queue_depth(broker: RedisBroker, queue: str) -> int:
    """Queued plus in-flight messages, plus delayed retries (what KEDA scales on)."""
    client = broker.client
    pipe = client.pipeline(transaction=False)
    pipe.hlen(f"{broker.namespace}:{queue}.msgs")
    pipe.hlen(f"{broker.namespace}:{dramatiq.common.dq_name(queue)}.msgs")
    return sum(pipe.execute())
