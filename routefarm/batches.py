"""Batches: many jobs submitted at once, one status, one ``batch.completed`` callback.

``POST /v1/batches`` validates every job first (errors point into ``/jobs/<index>/…``;
nothing is created when any job is invalid), inserts the batch and its jobs in one shard
transaction, then sends every message in one Redis round trip. Jobs already solved within
the de-duplication window start ``succeeded``, as single jobs do.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from optimizer import InvalidProblem, Issue

from . import metrics
from .broker import enqueue_all, solve_message
from .documents import iso_time, status_document
from .errors import BrokerUnavailable
from .farm import Farm
from .jobs import STATUSES, SUMMARY_COLUMNS, TERMINAL, canonical_hash, new_job_id
from .submit import InvalidRequest, validate_body, webhook_issues
from .webhooks.events import complete_batch, jobs_ended

log = logging.getLogger(__name__)
BATCH_FIELDS = {"jobs", "metadata", "webhook"}
JOB_COLUMNS = ("id", "client_id", "status", "problem", "problem_hash", "metadata", "max_attempts",
               "request_id", "message_id", "solution", "deduplicated_from", "batch_id", "webhook_url")


@dataclass(frozen=True)
class Cancelled:
    document: dict[str, Any]
    ended: list[dict]  # jobs cancelled at once
    stopping: list[str]  # running jobs asked to stop


def validate(body: Any, farm: Farm) -> list[dict]:
    """Every job of a batch body, checked; all errors at once, pointing into the body."""
    if not isinstance(body, dict):
        raise InvalidRequest([Issue("", "the body must be a JSON object with 'jobs'")])
    issues = [Issue(f"/{k}", "unknown field") for k in body if k not in BATCH_FIELDS]
    if not isinstance(body.get("metadata", {}), dict):
        issues.append(Issue("/metadata", "must be an object"))
    issues += webhook_issues(body.get("webhook"), farm)
    jobs = body.get("jobs")
    limit = farm.settings.max_batch_jobs
    if not isinstance(jobs, list) or not 1 <= len(jobs) <= limit:
        issues.append(Issue("/jobs", f"must be a list of 1 to {limit} jobs"))
        raise InvalidRequest(issues)
    for index, job in enumerate(jobs):
        try:
            validate_body(job, farm)
        except InvalidProblem as exc:
            issues += [Issue(f"/jobs/{index}{i.pointer}", i.message) for i in exc.issues]
    if issues:
        raise InvalidRequest(issues)
    return jobs


def submit_batch(farm: Farm, client_id: str, body: Any, request_id: str | None = None) -> dict[str, Any]:
    """Create the batch and its jobs; the 202 body ``{id, status, total, job_ids, links}``."""
    jobs = validate(body, farm)
    settings = farm.settings
    batch_id = new_job_id()
    messages = [solve_message(new_job_id(), client_id) for _ in jobs]
    hashes = [canonical_hash(job["problem"]) for job in jobs]
    batch_url = (body.get("webhook") or {}).get("url")
    sent: list = []

    def create(conn) -> dict:
        conn.execute("INSERT INTO batches (id, client_id, total, metadata, webhook_url) VALUES (%s, %s, %s, %s, %s)",
                     (batch_id, client_id, len(jobs), Jsonb(body.get("metadata", {})), batch_url))
        solved = _solved(conn, client_id, hashes, settings.dedup_window)
        rows, ended = [], []
        for job, message, problem_hash in zip(jobs, messages, hashes, strict=True):
            prior = solved.get(problem_hash)
            row = {"id": uuid.UUID(message.args[0]), "client_id": client_id,
                   "status": "succeeded" if prior else "queued", "problem": Jsonb(job["problem"]),
                   "problem_hash": problem_hash, "metadata": Jsonb(job.get("metadata", {})),
                   "max_attempts": settings.max_attempts, "request_id": request_id,
                   "message_id": None if prior else message.message_id,
                   "solution": Jsonb(prior["solution"]) if prior else None,
                   "deduplicated_from": prior["id"] if prior else None, "batch_id": batch_id,
                   "webhook_url": (job.get("webhook") or {}).get("url")}
            rows.append(tuple(row[c] for c in JOB_COLUMNS))
            if prior:
                ended.append(row)
        with conn.cursor() as cur:
            cur.executemany(
                f"INSERT INTO jobs ({', '.join(JOB_COLUMNS)}, started_at, finished_at) VALUES"
                f" ({', '.join(['%s'] * len(JOB_COLUMNS))},"
                " CASE WHEN %s THEN now() END, CASE WHEN %s THEN now() END)",
                [(*r, r[2] == "succeeded", r[2] == "succeeded") for r in rows])
        effects = jobs_ended(conn, client_id, ended) + (complete_batch(conn, client_id, batch_id) if ended else [])
        sent[:] = [m for m, r in zip(messages, rows, strict=True) if r[2] == "queued"] + effects
        return {"ids": [str(r[0]) for r in rows]}

    created = farm.store.on_shard(client_id, create)
    deduplicated = sum(1 for m in messages if m not in sent)
    metrics.JOBS_SUBMITTED.labels(kind="batch").inc(len(jobs) - deduplicated)
    if deduplicated:
        metrics.JOBS_SUBMITTED.labels(kind="deduplicated").inc(deduplicated)
        metrics.JOBS_FINISHED.labels(outcome="succeeded", reason="deduplicated").inc(deduplicated)
    try:
        enqueue_all(farm.broker, sent)
    except BrokerUnavailable as exc:
        log.warning("batch %s accepted but its messages are not sent yet (%s); the reaper will send them",
                    batch_id, exc)
    return {"id": str(batch_id), "status": "queued", "total": len(jobs), "job_ids": created["ids"],
            "links": _links(str(batch_id), settings.base_url)}


def _solved(conn, client_id: str, hashes: list[str], window: float) -> dict[str, dict]:
    """problem hash -> {id, solution} of this client's recent solutions (de-duplication)."""
    if window <= 0:
        return {}
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            "SELECT DISTINCT ON (problem_hash) problem_hash, coalesce(deduplicated_from, id) AS id, solution"
            " FROM jobs WHERE client_id = %s AND problem_hash = ANY(%s) AND status = 'succeeded'"
            " AND finished_at > now() - make_interval(secs => %s) ORDER BY problem_hash, finished_at DESC",
            (client_id, list(set(hashes)), window))
        return {row["problem_hash"]: row for row in cur.fetchall()}


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


def get_batch(farm: Farm, client_id: str, batch_id: uuid.UUID) -> dict[str, Any] | None:
    return farm.store.on_shard(client_id, lambda conn: batch_document(conn, client_id, batch_id,
                                                                      farm.settings.base_url))


def cancel_batch(farm: Farm, client_id: str, batch_id: uuid.UUID) -> Cancelled | None:
    """Cancel what is left: queued jobs at once, running ones stop within a second."""
    sent: list = []

    def cancel(conn) -> Cancelled | None:
        if conn.execute("SELECT 1 FROM batches WHERE id = %s AND client_id = %s",
                        (batch_id, client_id)).fetchone() is None:
            return None
        open_jobs = ("SELECT id FROM jobs WHERE batch_id = %s AND client_id = %s AND status = %s"
                     " ORDER BY id FOR UPDATE")  # one lock order for every canceller
        with conn.cursor(row_factory=dict_row) as cur:
            cur.execute("UPDATE jobs SET status = 'cancelled', finished_at = now(), updated_at = now()"
                        f" WHERE id IN ({open_jobs}) RETURNING {SUMMARY_COLUMNS}", (batch_id, client_id, "queued"))
            ended = cur.fetchall()
            cur.execute("UPDATE jobs SET cancel_requested = true, updated_at = now()"
                        f" WHERE id IN ({open_jobs}) RETURNING id", (batch_id, client_id, "running"))
            stopping = [str(r["id"]) for r in cur.fetchall()]
        sent[:] = jobs_ended(conn, client_id, ended) + complete_batch(conn, client_id, batch_id)
        conn.execute("UPDATE batches SET cancel_requested_at = coalesce(cancel_requested_at, now())"
                     " WHERE id = %s", (batch_id,))
        doc = batch_document(conn, client_id, batch_id, farm.settings.base_url)
        return Cancelled(doc, ended, stopping)

    result = farm.store.on_shard(client_id, cancel)
    if result is None:
        return None
    base = farm.settings.base_url
    farm.cache.finished_many({str(r["id"]): {**status_document(r, base), "client_id": client_id}
                              for r in result.ended})
    farm.cache.request_cancel_many(result.stopping)
    if result.ended:
        metrics.JOBS_FINISHED.labels(outcome="cancelled", reason="").inc(len(result.ended))
    farm.store.dispatch(sent)
    return result
