"""Batches: many jobs submitted at once, one status, one ``batch.completed`` callback.

``POST /v1/batches`` takes one token of the client's rate limit per job (``fairness.rates``;
429 and nothing created when the bucket cannot pay), validates every job (errors point into
``/jobs/<index>/…``; nothing is created when any job is invalid), inserts the batch and its
jobs in one shard transaction (at most ``max_batch_jobs`` jobs, a body of at most
``max_body_bytes``), then sends every message in one Redis round trip. Jobs are validated
until ``MAX_ISSUES`` errors are listed; the 422 then says how many were left unchecked. Jobs already solved
within the de-duplication window start ``succeeded``, as single jobs do. ``create_batch`` is
that insert, for jobs validated already (``reoptimize.batch``).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

from psycopg.rows import dict_row

from optimizer import Issue, Issues

from ..broker import solve_message
from ..contract.requests import BatchRequest, shape_issues
from ..contract.statuses import STATUSES, TERMINAL
from ..errors import InvalidInput
from ..fairness.rates import charge_jobs
from ..ids import canonical_hash, new_job_id
from ..observability import metrics
from . import states
from .documents import iso_time
from .services import Services
from .submit import validate_body, webhook_issues

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Cancelled:
    document: dict[str, Any]
    ended: list[dict]  # jobs cancelled at once
    stopping: list[str]  # running jobs asked to stop


def validate(body: Any, farm: Services, client_id: str) -> list[dict]:
    """Every job of a batch body, checked; all errors at once, pointing into the body. The
    client's rate limit is charged one token per job once their number is known (before the
    work of checking them). Jobs are validated one by one until the errors listed reach
    ``MAX_ISSUES``: the number of jobs left is then said (``jobs_unchecked``)."""
    shape = shape_issues(body, BatchRequest)
    if not isinstance(body, dict):
        raise InvalidInput(shape, "problem")
    issues = Issues(i for i in shape if i.pointer != "/jobs")  # said below, with the size
    issues.count(shape.omitted)
    urls: list[tuple[str, Any]] = []  # every webhook URL, checked together below
    issues.extend(webhook_issues(body.get("webhook"), farm, urls))
    jobs = body.get("jobs")
    limit = farm.settings.max_batch_jobs
    if not isinstance(jobs, list) or not 1 <= len(jobs) <= limit:
        issues.add("/jobs", f"must be a list of 1 to {limit} jobs")
        raise InvalidInput(issues, "problem")
    charge_jobs(farm, client_id, len(jobs))
    unchecked = 0
    for index, job in enumerate(jobs):
        if issues.full:
            unchecked = len(jobs) - index
            break
        mine: list[tuple[str, Any]] = []
        try:  # one request must not ask a road source per job
            validate_body(job, farm, snap=False, webhooks=mine)
        except InvalidInput as exc:
            exc.into(issues, f"/jobs/{index}")
        urls += [(f"/jobs/{index}{pointer}", url) for pointer, url in mine]
    if not unchecked:  # each distinct host resolved once, all at once, within the request's deadline
        issues.extend(Issue(pointer, text) for pointer, text in farm.webhook_targets.issues(urls))
    if issues:
        raise InvalidInput(issues, "problem", **({"jobs_unchecked": unchecked} if unchecked else {}))
    return jobs


def submit_batch(farm: Services, client_id: str, body: Any, request_id: str | None = None) -> dict[str, Any]:
    """Create the batch and its jobs; the 202 body ``{id, status, total, job_ids, links}``."""
    jobs = validate(body, farm, client_id)
    return create_batch(farm, client_id, jobs, body.get("metadata", {}), (body.get("webhook") or {}).get("url"),
                        request_id)


def create_batch(farm: Services, client_id: str, jobs: list[dict], metadata: dict, batch_url: str | None,
                 request_id: str | None = None) -> dict[str, Any]:
    """Insert a batch of valid jobs (``{"problem", "metadata", "webhook"}``) in one transaction
    and send their messages; the 202 body."""
    settings = farm.settings
    batch_id = new_job_id()
    messages = [solve_message(new_job_id(), client_id) for _ in jobs]
    hashes = [canonical_hash(job["problem"]) for job in jobs]
    queued: list = []  # the solve messages of the jobs not solved yet
    done: list[dict] = []  # the de-duplicated jobs, succeeded at once
    effects: list = []  # their webhook deliveries (and the batch's, when all were)

    def create(conn) -> dict:
        states.create_batch(conn, batch_id, client_id, len(jobs), metadata, batch_url)
        solved = states.prior_solutions(conn, client_id, hashes, settings.dedup_window_s)
        rows = []
        for job, message, problem_hash in zip(jobs, messages, hashes, strict=True):
            prior = solved.get(problem_hash)
            rows.append({"id": uuid.UUID(message.args[0]), "client_id": client_id,
                         "status": "succeeded" if prior else "queued", "problem": job["problem"],
                         "problem_hash": problem_hash, "metadata": job.get("metadata", {}),
                         "max_attempts": settings.max_attempts, "request_id": request_id,
                         "message_id": None if prior else message.message_id,
                         "solution": prior["solution"] if prior else None,
                         "deduplicated_from": prior["id"] if prior else None, "batch_id": batch_id,
                         "webhook_url": (job.get("webhook") or {}).get("url")})
        states.create_batch_jobs(conn, rows)
        done[:] = [r for r in rows if r["status"] == "succeeded"]
        effects[:] = store.effects.jobs_ended(conn, client_id, done) + (
            store.effects.complete_batch(conn, client_id, batch_id) if done else [])
        queued[:] = [m for m, r in zip(messages, rows, strict=True) if r["status"] == "queued"]
        return {"ids": [str(r["id"]) for r in rows]}

    store = farm.store
    created = store.on_shard(client_id, create)
    metrics.JOBS_SUBMITTED.labels(kind="batch").inc(len(queued))
    if done:
        metrics.JOBS_SUBMITTED.labels(kind="deduplicated").inc(len(done))
    store.created(done, client_id, queued, effects)
    return {"id": str(batch_id), "status": "queued", "total": len(jobs), "job_ids": created["ids"],
            "links": _links(str(batch_id), settings.base_url)}


def _links(batch_id: str, base_url: str) -> dict[str, str]:
    return {"self": f"{base_url}/v1/batches/{batch_id}"}


def batch_document(conn, client_id: str, batch_id: uuid.UUID, base_url: str = "") -> dict[str, Any] | None:
    """Counts by status, percent done, started and finished times."""
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute("SELECT id, total, metadata, created_at, cancel_requested_at, completed_at FROM batches"
                    " WHERE id = %s AND client_id = %s", (batch_id, client_id))
        batch = cur.fetchone()
        if batch is None:
            return None
        cur.execute("SELECT status, count(*) AS n, min(started_at) AS started FROM jobs"
                    " WHERE batch_id = %s AND client_id = %s GROUP BY status", (batch_id, client_id))
        groups = cur.fetchall()
    counts = dict.fromkeys(STATUSES, 0) | {g["status"]: g["n"] for g in groups}
    starts = [g["started"] for g in groups if g["started"] is not None]
    done = sum(counts[s] for s in TERMINAL)
    if batch["completed_at"]:
        status = "completed"
    elif batch["cancel_requested_at"]:
        status = "cancelling"
    else:
        status = "running" if starts or done else "queued"
    return {
        "id": str(batch["id"]), "status": status, "total": batch["total"], "counts": counts, "done": done,
        "percent_done": round(100.0 * done / batch["total"], 1), "metadata": batch["metadata"],
        "created_at": iso_time(batch["created_at"]), "started_at": iso_time(min(starts) if starts else None),
        "finished_at": iso_time(batch["completed_at"]),
        "cancel_requested_at": iso_time(batch["cancel_requested_at"]),
        "links": _links(str(batch["id"]), base_url),
    }


def get_batch(farm: Services, client_id: str, batch_id: uuid.UUID) -> dict[str, Any] | None:
    return farm.store.on_shard(client_id, lambda conn: batch_document(conn, client_id, batch_id,
                                                                      farm.settings.base_url))


def cancel_batch(farm: Services, client_id: str, batch_id: uuid.UUID) -> Cancelled | None:
    """Cancel what is left: queued jobs at once, running ones stop within a second."""
    found = farm.store.cancel_batch(client_id, batch_id, lambda conn: batch_document(
        conn, client_id, batch_id, farm.settings.base_url))
    return None if found is None else Cancelled(*found)
