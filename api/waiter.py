"""Long-poll wake-ups: one Redis pub/sub connection per process, many waiting requests.

A request waiting on a job registers an event; the listener thread sets it when
``rf:done:{id}`` is published. When the subscription breaks (Redis restarted), every waiter
is woken so it re-reads the job from the store: nobody sleeps through a lost message.

``held_open`` is the share of one client: every request held open (a long-poll, an event
stream alike) takes one of the client's ``max_long_polls_per_client`` slots, farm-wide, for
as long as it is held; past them the request is refused at once (429, ``Retry-After``).
The slots are counted in Redis (``routefarm.fairness.slots``), not per process: a client's
share does not grow with the number of web processes, and whatever process serves its
requests, it never holds more threads than that (a quarter of one process by default). A
slot's lease is the request's wait plus ``HELD_OPEN_MARGIN_S``: a process that dies holding
slots does not keep them.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import defaultdict

import redis

from routefarm.cache import DONE_PATTERN
from routefarm.fairness.slots import Slots

log = logging.getLogger(__name__)
RECONNECT_DELAY = 1.0  # seconds between attempts to re-subscribe
HELD_OPEN_MARGIN_S = 10.0  # seconds a held-open request's slot outlives its wait (reads around it)


def held_open(farm, client_id: str, seconds: float, what: str = "long-polls"):
    """Context manager around a request the client holds open for up to ``seconds``: one of
    the client's slots, or ``TooManyAtOnce`` (429 with ``Retry-After``) when all are held."""
    settings = farm.settings
    slots = Slots(farm.cache.client, "held-open", settings.max_long_polls_per_client,
                  seconds + HELD_OPEN_MARGIN_S, max_wait_s=settings.max_wait_s)
    return slots.hold(client_id, expected_hold_s=seconds, what=what)


class Waiter:
    def __init__(self, client: redis.Redis):
        self._client = client
        self._lock = threading.Lock()
        self._events: dict[str, set[threading.Event]] = defaultdict(set)
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._ready = threading.Event()

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._listen, name="rf-waiter", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 3.0) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def register(self, job_id: str) -> threading.Event:
        self.start()
        event = threading.Event()
        with self._lock:
            self._events[job_id].add(event)
        return event

    def unregister(self, job_id: str, event: threading.Event) -> None:
        with self._lock:
            waiters = self._events.get(job_id)
            if waiters is not None:
                waiters.discard(event)
                if not waiters:
                    del self._events[job_id]

    def wait_ready(self, timeout: float) -> bool:
        return self._ready.wait(timeout)

    def _wake(self, job_id: str | None) -> None:
        with self._lock:
            targets = [e for events in self._events.values() for e in events] if job_id is None \
                else list(self._events.get(job_id, ()))
        for event in targets:
            event.set()

    def _listen(self) -> None:
        while not self._stopping.is_set():
            pubsub = self._client.pubsub(ignore_subscribe_messages=True)
            try:
                pubsub.psubscribe(DONE_PATTERN)
                self._ready.set()
                self._wake(None)  # anything published while unsubscribed is re-read
                while not self._stopping.is_set():
                    message = pubsub.get_message(timeout=1.0)
                    if message and message["type"] == "pmessage":
                        channel = message["channel"]
                        channel = channel.decode() if isinstance(channel, bytes) else channel
                        self._wake(channel.rsplit(":", 1)[-1])
            except (redis.RedisError, OSError) as exc:
                self._ready.clear()
                log.warning("long-poll subscription lost (%s); waking waiters", exc)
                self._wake(None)
                time.sleep(RECONNECT_DELAY)
            finally:
                with contextlib.suppress(redis.RedisError, OSError):
                    pubsub.close()
