"""One solve, from claim to stored result.

claim (queued -> running, lease) -> the search in a supervised child process (the runner)
while this process renews the lease, watches for a cancel and publishes the incumbents
-> store result and state in one shard transaction -> cache and wake long-polls.

How the solve ends decides what is stored:

- it ran to its time limit: ``succeeded`` (``failed`` with ``no_solution`` if nothing was found);
- cancel: ``cancelled``, with the best incumbent when there was one;
- the worker is shutting down: the best incumbent is kept as ``succeeded`` once
  ``KEEP_IF_DONE`` of the time limit has run, else the job is handed back to the queue
  (a job asked to stop ends ``cancelled`` instead: it never goes back to the queue);
- the lease was lost (another worker has the job): nothing is stored;
- the child could not solve (``memory_limit``, ``solver_crashed``, ``solver_error``,
  ``invalid_problem``): ``failed`` with that reason, and the best incumbent if any. The
  worker itself goes on.

A problem priced on roads (``travel``) gets its matrices first, from the road source or its
cache (``routefarm.roads.matrices``), and its time limit counts from then. When the source
cannot answer, the job goes back to the queue for a later attempt (``RETRY_AFTER_S`` times
its attempt) and fails with ``travel_source_unavailable`` after its last one.
"""

from __future__ import annotations

import logging
import time
import uuid
from datetime import UTC, datetime

from optimizer import InvalidProblem, parse_problem
from routefarm.errors import RoadSnapError, TravelSourceUnavailable
from routefarm.ids import worker_name
from routefarm.observability import metrics
from routefarm.roads.matrices import RoadMatrices, matrices

from .heartbeat import Heartbeat
from .progress import Progress

log = logging.getLogger(__name__)
KEEP_IF_DONE = 0.8  # on SIGTERM, keep the best solution once this share of the time limit ran
RETRY_AFTER_S = 5.0  # a job whose road source was down waits this long times its attempts


def time_limit(problem: dict, settings) -> float:
    """The job's time limit in seconds: its own (validated at submission), else the default,
    never above the farm's maximum."""
    options = problem.get("options") if isinstance(problem, dict) else None
    asked = options.get("time_limit") if isinstance(options, dict) else None
    limit = float(asked) if isinstance(asked, int | float) and asked > 0 else settings.default_time_limit_s
    return min(limit, settings.max_time_limit_s)


def run(rt, job_id: str, client_id: str) -> None:
    farm, settings = rt.farm, rt.settings
    jid = uuid.UUID(job_id)
    worker = worker_name()
    job = farm.store.claim(client_id, jid, worker, settings.lease_s)
    context = {"job_id": job_id, "client_id": client_id, "worker": worker,
               "shard": farm.directory.shard_of(client_id)}  # cached: no query
    if job is None:
        log.info("job not claimable (already taken, ended or cancelled)", extra=context)
        return
    started = time.monotonic()
    context.update(attempt=job["attempts"], request_id=job["request_id"])
    metrics.QUEUE_WAIT.observe(_since(job["queued_at"]))
    log.info("solving", extra=context)
    farm.cache.drop_job(job_id)
    limit = time_limit(job["problem"], settings)
    progress = Progress(farm.cache, job_id)
    beat = Heartbeat(rt, jid, client_id, worker, tick=progress.flush)
    beat.start()
    try:
        roads = _roads(rt, job, jid, client_id, worker, context)
        if roads is SETTLED:  # retried later, or failed: nothing more to do
            return
        started = time.monotonic()  # the time limit is the search's, after the matrices
        result = rt.runner.solve(job["problem"], time_limit=limit, started=started, stop=beat.reason,
                                 on_incumbent=progress.offer,
                                 roads=(roads.durations, roads.distances) if roads else None)
    finally:
        beat.done.set()
        beat.join()
    elapsed = time.monotonic() - started
    metrics.SOLVE_SECONDS.observe(elapsed)
    if result.peak_rss:
        metrics.SOLVER_PEAK_BYTES.observe(result.peak_rss)
    metrics.LEASE_GAP_SECONDS.observe(beat.max_gap_s)
    for rejection in result.rejections:  # another engine's result was taken instead
        log.warning("engine result rejected: %s", rejection, extra=context)
    log.info("solve ended", extra={**context, "stopped": result.stopped, "incumbents": result.incumbents,
                                   "elapsed_s": round(elapsed, 3), "peak_rss_bytes": result.peak_rss,
                                   "lease_renewals": beat.renewals, "lease_max_gap_s": round(beat.max_gap_s, 3)})
    document = result.solution
    if document is not None and roads:
        document = {**document, "travel": roads.record()}
    if result.stopped in ("cancelled", "shutdown") and document is not None:
        document = _stopped(document, elapsed)
    if result.stopped == "lease_lost":
        log.warning("result dropped: the lease was lost to another worker", extra=context)
    elif result.stopped == "cancelled":
        _store(rt, jid, client_id, worker, "cancelled", document, None, context)
    elif result.stopped == "shutdown" and (document is None or elapsed < KEEP_IF_DONE * limit):
        _hand_back(rt, jid, client_id, worker, context)
    elif result.failure is not None:
        reason, detail = result.failure
        log.warning("solver failed: %s", detail, extra=context)
        _store(rt, jid, client_id, worker, "failed", document, {"reason": reason, "detail": detail}, context)
    elif document is None or document["status"] == "no_solution":
        detail = (document or {}).get("solver", {}).get("message") or "no solution found"
        _store(rt, jid, client_id, worker, "failed", document, {"reason": "no_solution", "detail": detail}, context)
    else:
        _store(rt, jid, client_id, worker, "succeeded", document, None, context)


SETTLED = object()  # the job went back to the queue, or failed, before its search


def _roads(rt, job: dict, jid, client_id: str, worker: str, context: dict) -> RoadMatrices | object | None:
    """The job's road matrices (None when it has none to ask for; ``SETTLED`` when the job was
    put back in the queue or failed instead)."""
    if not (isinstance(job["problem"], dict) and job["problem"].get("travel") is not None):
        return None
    try:
        found = matrices(rt.settings, rt.farm.cache.client, parse_problem(job["problem"], rt.runner.limits))
    except (InvalidProblem, RoadSnapError) as exc:
        _store(rt, jid, client_id, worker, "failed", None, {"reason": "invalid_problem", "detail": str(exc)}, context)
        return SETTLED
    except TravelSourceUnavailable as exc:
        if job["attempts"] >= job["max_attempts"]:
            _store(rt, jid, client_id, worker, "failed", None,
                   {"reason": "travel_source_unavailable", "detail": str(exc)}, context)
        else:
            _retry(rt, jid, client_id, worker, RETRY_AFTER_S * job["attempts"], str(exc), context)
        return SETTLED
    log.info("road matrices", extra={**context, "cached": found.cached})
    return found


def _retry(rt, jid, client_id, worker, delay_s: float, why: str, context) -> None:
    row = rt.farm.store.retry(client_id, jid, worker, delay_s)
    if row is not None and row["status"] == "queued":
        log.warning("%s; the job is tried again in %g s", why, delay_s, extra=context)
    elif row is not None:
        log.info("job cancelled (asked to stop) instead of going back to the queue", extra=context)


def _stopped(solution: dict, elapsed: float) -> dict:
    """The best incumbent of a search that was stopped, as the solution it ends with."""
    solver = {**solution["solver"], "stopped_by": "stop_request", "wall_time": round(elapsed, 3)}
    return {**solution, "solver": solver}


def _store(rt, jid, client_id, worker, status, solution, error, context) -> None:
    if rt.farm.store.finish(client_id, jid, worker, status, solution, error) is None:
        log.warning("result not stored: the job is no longer this worker's", extra=context)
        return
    log.info("job %s", status, extra=context)


def _since(moment) -> float:
    return max(0.0, (datetime.now(UTC) - moment).total_seconds()) if moment else 0.0


def _hand_back(rt, jid, client_id, worker, context) -> None:
    row = rt.farm.store.hand_back(client_id, jid, worker)
    if row is not None and row["status"] == "queued":
        log.info("shutting down: job handed back", extra=context)
    elif row is not None:
        log.info("job cancelled (asked to stop) instead of going back to the queue", extra=context)
