"""The one door of job transitions: every change of a job's status goes through ``Transitions``
(mixed into ``JobStore``), and so does everything that follows it.

Each transition is one statement of ``states`` on the client's shard. When it ends a job, the
``Effects`` plugged in by the composition root run in the same transaction (``farm.Farm``
plugs in ``webhooks.events``: webhook deliveries and batch completion; ``jobs`` never imports
them). After the commit, in one place each:

- a job that ended (``_ended``): metrics, its terminal document cached (which wakes its
  long-polls), the jobs-per-second count for a solved one, then its deliveries' messages;
- a job back in the queue (``_requeued``, for a hand-back, a retry and a lease that expired
  alike): its cached document dropped, then its new message sent;
- every message (``send``): Redis down is logged, never raised: the rows are committed and the
  reaper sends what is missing.

A job asked to stop (``cancel_requested``) that any path puts back in the queue ends
``cancelled`` there instead (``states``), and follows the path of a job that ended.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import dramatiq
import redis

from ..broker import SOLVE_QUEUE, enqueue, enqueue_all, messages_present, solve_message
from ..contract.statuses import TERMINAL
from ..errors import BrokerUnavailable
from ..observability.throughput import count_finished
from . import states
from .documents import status_document
from .ending import Ended, observe

log = logging.getLogger(__name__)
REAP_BATCH = 500  # rows one reaper pass takes per shard


class Effects(Protocol):
    """What a job's ending sets off inside its transaction; each returns the broker messages
    to send once the transaction commits."""

    def on_job_terminal(self, conn, row: dict) -> list[dramatiq.Message]:
        """One job ended: its deliveries, and its batch's completion when it was the last."""

    def jobs_ended(self, conn, client_id: str, rows: list[dict]) -> list[dramatiq.Message]:
        """Jobs of one client ended together (no batch check)."""

    def complete_batch(self, conn, client_id: str, batch_id: uuid.UUID) -> list[dramatiq.Message]:
        """The batch's completion, when none of its jobs is open."""


class NoEffects:
    """Nothing set off (a store opened by an operator command that moves no job)."""

    def on_job_terminal(self, conn, row: dict) -> list:
        return []

    def jobs_ended(self, conn, client_id: str, rows: list[dict]) -> list:
        return []

    def complete_batch(self, conn, client_id: str, batch_id: uuid.UUID) -> list:
        return []


@dataclass
class Reaped:
    """One reaper pass over one shard (job ids)."""

    requeued: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)  # asked to stop: ended instead of queued
    resent: list[str] = field(default_factory=list)  # queued, their lost message sent again


class Transitions:
    """The transitions of ``states``, each with its effects and after-commit steps. Mixed into
    ``JobStore``, which gives ``on_shard``, ``cache``, ``broker``, ``settings`` and ``effects``."""

    on_shard: Callable
    by_idempotency_key: Callable
    db: Any
    cache: Any
    broker: Any
    settings: Any
    effects: Effects

    # -- creation ------------------------------------------------------------------------

    def create(self, client_id: str, job: dict, message: dramatiq.Message,
               dedup_window_s: float) -> tuple[dict, bool]:
        """new -> queued (``message`` sent once the row is committed), or succeeded at once
        with the solution of the same problem solved within ``dedup_window_s`` (its effects in
        the transaction): (the row, True). When the job's idempotency key was used before,
        nothing is created: (that earlier job's row, False)."""
        effects: list = []

        def action(conn):
            row = states.create(conn, job, dedup_window_s)
            if row is None:
                return self.by_idempotency_key(conn, client_id, job["idempotency_key"]), False
            if row["status"] == "succeeded":  # de-duplicated: its terminal event fires now
                with conn.transaction():
                    effects[:] = self.effects.on_job_terminal(conn, {**row, "client_id": client_id})
            return row, True

        row, new = self.on_shard(client_id, action)
        if new:
            self.created([row], client_id, [message] if row["status"] == "queued" else [], effects)
        return row, new

    def created(self, rows: list[dict], client_id: str, messages: list, effects: list,
                reason: str | None = "deduplicated") -> None:
        """After the commit of new jobs: those de-duplicated (``succeeded`` at once) have
        ended, with their ``effects``' messages; ``messages`` are the others' solve messages."""
        done = [Ended(r, client_id, reason=reason) for r in rows if r["status"] == "succeeded"]
        self._ended(done, effects, cache=False)  # a copy's document is read from its row
        self.send(messages)

    # -- a worker's ------------------------------------------------------------------------

    def claim(self, client_id: str, job_id: uuid.UUID, worker: str, lease_s: float) -> dict | None:
        """queued -> running: attempt + 1 and a lease. None when the job is not queued."""
        return self.on_shard(client_id, lambda conn: states.claim(conn, client_id, job_id, worker, lease_s))

    def renew(self, client_id: str, job_id: uuid.UUID, worker: str, lease_s: float) -> dict | None:
        """Extend the lease; returns {cancel_requested} or None when the lease was lost."""
        return self.on_shard(client_id, lambda conn: states.renew(conn, client_id, job_id, worker, lease_s))

    def finish(self, client_id: str, job_id: uuid.UUID, worker: str, status: str,
               solution: dict | None, error: dict | None) -> dict | None:
        """running -> succeeded | failed | cancelled, with the result; None when the job is no
        longer this worker's."""
        row = self._transition(client_id, lambda conn: states.finish(conn, client_id, job_id, worker, status,
                                                                     solution, error))
        if row is not None:
            messages = row.pop("_messages")
            self._ended([Ended({**row, "solution": solution}, client_id)], messages, solved=True)
        return row

    def hand_back(self, client_id: str, job_id: uuid.UUID, worker: str) -> dict | None:
        """running -> queued (the worker is stopping); the attempt is not counted."""
        return self._requeue(client_id, job_id, lambda conn, message: states.hand_back(
            conn, client_id, job_id, worker, message.message_id))

    def retry(self, client_id: str, job_id: uuid.UUID, worker: str, delay_s: float) -> dict | None:
        """running -> queued, tried again after ``delay_s``; the attempt counts."""
        return self._requeue(client_id, job_id, lambda conn, message: states.retry(
            conn, client_id, job_id, worker, message.message_id), delay_s)

    # -- a client's ------------------------------------------------------------------------

    def cancel(self, client_id: str, job_id: uuid.UUID) -> dict | None:
        """queued -> cancelled at once; running -> asked to stop (its worker ends it within a
        second). None when the job does not exist or has ended."""
        row = self._transition(client_id, lambda conn: states.cancel(conn, client_id, job_id))
        if row is None:
            return None
        if row["status"] in TERMINAL:
            self._ended([Ended(row, client_id)], row.pop("_messages"))
        else:
            row.pop("_messages")
            self.cache.request_cancel(str(job_id))
            self.cache.drop_job(str(job_id))
        return row

    def cancel_batch(self, client_id: str, batch_id: uuid.UUID,
                     document: Callable[[Any], dict | None]) -> tuple[dict, list[dict], list[str]] | None:
        """Every open job of the batch: queued ones cancelled at once, running ones asked to
        stop. (the batch's ``document`` read after, the cancelled rows, the stopping ids), or
        None when the client has no such batch."""
        sent: list = []

        def action(conn):
            if not states.batch_exists(conn, client_id, batch_id):
                return None
            ended, stopping = states.cancel_batch_jobs(conn, client_id, batch_id)
            sent[:] = self.effects.jobs_ended(conn, client_id, ended) + self.effects.complete_batch(
                conn, client_id, batch_id)
            states.request_batch_cancel(conn, batch_id)
            return document(conn), ended, stopping

        found = self.on_shard(client_id, action)
        if found is None:
            return None
        _, ended, stopping = found
        self._ended([Ended(r, client_id) for r in ended], sent)
        self.cache.request_cancel_many(stopping)
        return found

    # -- the reaper's ----------------------------------------------------------------------

    def reap(self, shard: str, orphan_grace_s: float) -> Reaped:
        """One pass over ``shard``: running jobs whose lease expired go back to the queue (or
        fail, ``worker_lost``, after their last attempt; or end ``cancelled`` when asked to
        stop), and queued jobs whose message is in no queue get a new one. Rows are taken
        ``FOR UPDATE SKIP LOCKED``: several reapers never act on one job."""
        result, effects = Reaped(), []
        with self.db.shard(shard) as conn:
            ended, messages = states.expire_leases(conn, REAP_BATCH, solve_message)
            ended += states.cancel_stranded(conn, REAP_BATCH)
            for row in ended:
                effects += self.effects.on_job_terminal(conn, row)
            result.requeued = [m.args[0] for m in messages]
            waiting = states.orphans(conn, orphan_grace_s, REAP_BATCH)
            for job, there in zip(waiting, self._present([j["message_id"] or "" for j in waiting]), strict=True):
                if not there:
                    message = solve_message(job["id"], job["client_id"])
                    states.resend(conn, job["id"], message.message_id)
                    messages.append(message)
                    result.resent.append(str(job["id"]))
        result.failed = [str(r["id"]) for r in ended if r["status"] == "failed"]
        result.cancelled = [str(r["id"]) for r in ended if r["status"] == "cancelled"]
        for message in messages:  # after the commit: the row always exists before its message
            self._requeued(message)
        self._ended([Ended(row, row["client_id"]) for row in ended], effects)
        return result

    def _present(self, message_ids: list[str]) -> list[bool]:
        """Whether each message is in the solve queue; all taken as present when Redis cannot
        tell now (they are looked at again next pass)."""
        try:
            return messages_present(self.broker, SOLVE_QUEUE, message_ids)
        except (redis.RedisError, OSError) as exc:
            log.warning("reaper cannot read the broker: %s", exc)
            return [True] * len(message_ids)

    # -- one way each ------------------------------------------------------------------------

    def _transition(self, client_id: str, update: Callable[[Any], dict | None]) -> dict | None:
        """``update(conn)`` on the client's shard; when it ends the job, the effects run in the
        same transaction. The row carries their messages as ``_messages``."""
        def action(conn):
            row = update(conn)
            if row is not None:
                row["_messages"] = self.effects.on_job_terminal(conn, row) if row["status"] in TERMINAL else []
            return row

        return self.on_shard(client_id, action)

    def _requeue(self, client_id: str, job_id: uuid.UUID, update: Callable[[Any, dramatiq.Message], dict | None],
                 delay_s: float | None = None) -> dict | None:
        """Back to the queue with a new message, or (asked to stop) ended ``cancelled``."""
        message = solve_message(job_id, client_id)
        row = self._transition(client_id, lambda conn: update(conn, message))
        if row is None:
            return None
        messages = row.pop("_messages")
        if row["status"] == "cancelled":
            self._ended([Ended(row, client_id)], messages)
        else:
            self._requeued(message, delay_s)
        return row

    def _requeued(self, message: dramatiq.Message, delay_s: float | None = None) -> None:
        """A job back in the queue: its cached document (running) dropped, its message sent."""
        self.cache.drop_job(message.args[0])
        self.send([message], delay_s)

    def _ended(self, jobs: list[Ended], messages: list, *, cache: bool = True, solved: bool = False) -> None:
        """After jobs reached a terminal state: metrics, their documents cached (waking their
        long-polls), the throughput count for solved ones, then their deliveries' messages last,
        so that a receiver reading the job at once sees it ended."""
        for job in jobs:
            observe(job)
        if cache and jobs:
            base = self.settings.base_url
            self.cache.finished_many({str(j.row["id"]): {**status_document(j.row, base), "client_id": j.client_id}
                                      for j in jobs})
        if solved:
            for _ in jobs:
                count_finished(self.cache.client)
        self.send(messages)

    def send(self, messages: list[dramatiq.Message], delay_s: float | None = None) -> None:
        """Send messages whose rows are committed. Redis down is logged, not raised: the reaper
        sends again what never arrived (solve messages, webhook deliveries)."""
        if not messages:
            return
        try:
            if delay_s is None:
                enqueue_all(self.broker, messages)
            else:
                for message in messages:
                    enqueue(self.broker, message, delay=delay_s)
        except BrokerUnavailable as exc:
            log.warning("%d message(s) not sent now (%s); the reaper will send them", len(messages), exc)
