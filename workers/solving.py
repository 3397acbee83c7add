"""One solve, from claim to stored result.

claim (queued -> running, lease) -> solve with a stop check (cancel, SIGTERM, lost lease)
-> store result and state in one shard transaction -> cache and wake long-polls.
A heartbeat thread renews the lease, watches for a cancel request and publishes progress.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from datetime import UTC, datetime

from optimizer import InvalidProblem, parse_problem, solve
from routefarm import metrics
from routefarm.broker import enqueue, solve_message
from routefarm.documents import status_document
from routefarm.errors import BrokerUnavailable, RoutefarmError
from routefarm.jobs import worker_name
from routefarm.throughput import count_finished
from routefarm.webhooks.events import deferred

log = logging.getLogger(__name__)
CANCEL_POLL = 0.2  # seconds between two looks at the cancel flag
PROGRESS_EVERY = 0.25  # seconds between two progress writes
KEEP_IF_DONE = 0.8  # on SIGTERM, keep the best solution once this share of the time limit ran


class Heartbeat(threading.Thread):
    """Renews the lease and turns cancel requests and lost leases into a stop."""

    def __init__(self, rt, job_id: uuid.UUID, client_id: str, worker: str):
        super().__init__(name=f"heartbeat-{job_id}", daemon=True)
        self.rt, self.job_id, self.client_id, self.worker = rt, job_id, client_id, worker
        self.cancelled = threading.Event()
        self.lost = threading.Event()
        self.done = threading.Event()

    def stopping(self) -> bool:
        return self.cancelled.is_set() or self.lost.is_set() or self.rt.shutdown.is_set()

    def run(self) -> None:
        farm, lease = self.rt.farm, self.rt.settings.lease_seconds
        next_renewal = time.monotonic() + lease / 4
        while not self.done.wait(CANCEL_POLL):
            if farm.cache.cancel_requested(str(self.job_id)):
                self.cancelled.set()
            if time.monotonic() >= next_renewal:
                next_renewal = time.monotonic() + lease / 4
                try:
                    row = farm.store.renew(self.client_id, self.job_id, self.worker, lease)
                except RoutefarmError as exc:
                    log.warning("lease renewal failed: %s", exc, extra={"job_id": self.job_id})
                    continue
                if row is None:
                    log.warning("lease lost; stopping", extra={"job_id": self.job_id})
                    self.lost.set()
                elif row["cancel_requested"]:
                    self.cancelled.set()


def run(rt, job_id: str, client_id: str) -> None:
    farm, settings = rt.farm, rt.settings
    jid = uuid.UUID(job_id)
    worker = worker_name()
    job = farm.store.claim(client_id, jid, worker, settings.lease_seconds)
    context = {"job_id": job_id, "client_id": client_id, "worker": worker,
               "shard": farm.directory.shard_of(client_id)}  # cached: no query
    if job is None:
        log.info("job not claimable (already taken, ended or cancelled)", extra=context)
        return
    context.update(attempt=job["attempts"], request_id=job["request_id"])
    metrics.QUEUE_WAIT.observe(_since(job["queued_at"]))
    log.info("solving", extra=context)
    farm.cache.drop_job(job_id)
    try:
        problem = parse_problem(job["problem"])
    except InvalidProblem as exc:
        _store(rt, jid, client_id, worker, "failed", None,
               {"reason": "invalid_problem", "detail": str(exc)}, context)
        return
    limit = min(problem.options.time_limit if "time_limit" in problem.options.model_fields_set
                else settings.default_time_limit, settings.max_time_limit)
    beat = Heartbeat(rt, jid, client_id, worker)
    started = time.monotonic()
    last_progress = [0.0]
    improvements: list[tuple[float, int]] = []

    def progress(elapsed: float, objective: int) -> None:
        improvements.append((round(elapsed, 3), objective))
        now = time.monotonic()
        if now - last_progress[0] >= PROGRESS_EVERY:
            last_progress[0] = now
            farm.cache.put_progress(job_id, {"objective": objective, "elapsed": round(elapsed, 3),
                                             "improvements": improvements[-20:]})

    beat.start()
    try:
        solution = solve(problem, time_limit=limit, stop=beat.stopping, progress=progress)
    except Exception as exc:  # noqa: BLE001 - a solver failure ends the job, it is not retried
        log.exception("solver failed", extra=context)
        beat.done.set()
        _store(rt, jid, client_id, worker, "failed", None,
               {"reason": "solver_error", "detail": f"{type(exc).__name__}: {exc}"}, context)
        return
    finally:
        beat.done.set()
    elapsed = time.monotonic() - started
    metrics.SOLVE_SECONDS.observe(elapsed)
    document = solution.to_json_dict()
    if beat.lost.is_set():
        log.warning("result dropped: the lease was lost to another worker", extra=context)
    elif beat.cancelled.is_set():
        _store(rt, jid, client_id, worker, "cancelled", document, None, context)
    elif rt.shutdown.is_set() and elapsed < KEEP_IF_DONE * limit:
        _hand_back(rt, jid, client_id, worker, context)
    elif solution.status == "no_solution":
        _store(rt, jid, client_id, worker, "failed", document,
               {"reason": "no_solution", "detail": solution.solver.message or "no solution found"}, context)
    else:
        _store(rt, jid, client_id, worker, "succeeded", document, None, context)


def _store(rt, jid, client_id, worker, status, solution, error, context) -> None:
    farm = rt.farm
    effects, webhooks = deferred()  # the webhook deliveries commit with the result
    row = farm.store.finish(client_id, jid, worker, status, solution, error, effects=effects)
    if row is None:
        log.warning("result not stored: the job is no longer this worker's", extra=context)
        return
    _observe(status, error, solution, row)
    count_finished(farm.cache.client)  # jobs/s in GET /v1/farm and the status line
    row["solution"] = solution
    doc = status_document(row, rt.settings.base_url)
    farm.cache.finished(str(jid), {**doc, "client_id": client_id})
    farm.store.dispatch(webhooks)  # after the cache: a receiver reading the job sees it ended
    log.info("job %s", status, extra=context)


def _since(moment) -> float:
    return max(0.0, (datetime.now(UTC) - moment).total_seconds()) if moment else 0.0


def _observe(status: str, error: dict | None, solution: dict | None, row: dict) -> None:
    metrics.observe_finished(status, (error or {}).get("reason"))
    if row.get("created_at") and row.get("finished_at"):
        seconds = max(0.0, (row["finished_at"] - row["created_at"]).total_seconds())
        metrics.E2E_SECONDS.labels(outcome=status).observe(seconds)
    summary = (solution or {}).get("summary") or {}
    if "unassigned" in summary:
        unassigned = summary["unassigned"]
        metrics.UNASSIGNED_STOPS.observe(unassigned if isinstance(unassigned, int) else len(unassigned))
    if "vehicles_used" in summary:
        metrics.VEHICLES_USED.observe(summary["vehicles_used"])


def _hand_back(rt, jid, client_id, worker, context) -> None:
    farm = rt.farm
    message = solve_message(jid, client_id)
    row = farm.store.hand_back(client_id, jid, worker, message.message_id)
    if row is None:
        return
    farm.cache.drop_job(str(jid))  # the cached document says running: readers go to the shard
    try:
        enqueue(farm.broker, message)
    except BrokerUnavailable:
        log.warning("handed back; the reaper will send it", extra=context)
    log.info("shutting down: job handed back", extra=context)
