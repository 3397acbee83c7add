"""/v1/jobs: submit, read (with long-poll), list, cancel."""

from __future__ import annotations

import time
import uuid

from flask import Blueprint, current_app, g, jsonify, request

from routefarm.contract import documents as doc
from routefarm.contract.requests import JobListQuery, JobReadQuery, JobRequest
from routefarm.errors import BadRequest, Conflict
from routefarm.jobs.documents import is_terminal, status_document
from routefarm.jobs.retention import absent
from routefarm.jobs.submit import submit

from . import pages
from .auth import farm, require_client, resource_id
from .bodies import json_body, query
from .openapi import documented, json
from .waiter import held_open

bp = Blueprint("jobs", __name__, url_prefix="/v1/jobs")
require_client(bp)
IDEMPOTENCY_KEY_MAX = 200


@bp.post("")
@documented("Submit a routing problem", {
    202: json(doc.JobAccepted, "Accepted (or replayed for a known Idempotency-Key)"),
    422: "Invalid problem, every error with its JSON pointer"}, body=JobRequest,
    headers={"Idempotency-Key": {"schema": {"type": "string", "minLength": 1, "maxLength": IDEMPOTENCY_KEY_MAX},
                                 "description": "the same key and body answer the first submission again"}})
def create():
    body = json_body()
    key = request.headers.get("Idempotency-Key")
    if key is not None and not (0 < len(key) <= IDEMPOTENCY_KEY_MAX and key.isprintable()):
        raise BadRequest(f"Idempotency-Key must have 1 to {IDEMPOTENCY_KEY_MAX} printable characters")
    accepted = submit(farm(), g.client_id, body, idempotency_key=key, request_id=g.get("request_id"))
    doc = accepted.document
    response = jsonify(doc)
    response.status_code = 202
    response.headers["Location"] = doc["links"]["self"]
    if not accepted.created:
        response.headers["Idempotent-Replayed"] = "true"
    return response


def read(job_id: uuid.UUID, include: frozenset[str] = frozenset()) -> dict:
    """The status document: the cache first, the shard on a miss or a Redis outage."""
    f = farm()
    doc = f.cache.get_job(str(job_id))
    if doc is None or doc.get("client_id") != g.client_id:
        row = f.store.get(g.client_id, job_id)
        if row is None:
            raise absent(f, g.client_id, "job", job_id)
        doc = status_document(row, f.settings.base_url)
        f.cache.put_job(str(job_id), {**doc, "client_id": g.client_id}, terminal=is_terminal(doc))
    doc = {k: v for k, v in doc.items() if k != "client_id"}
    if doc["status"] == "running":
        progress = f.cache.get_progress(str(job_id))
        if progress:
            doc["progress"] = progress
        if "incumbent" in include:
            incumbent = f.cache.get_incumbent(str(job_id))
            if incumbent:
                doc["incumbent"] = incumbent
    return doc


@bp.get("/<job_id>")
@documented("A job's status, progress and solution", {
    200: json(doc.Job, "The job"), 400: "Bad parameter", 404: "No such job",
    429: ("Rate limit exceeded, or (with wait) as many long-polls of this client open as it may hold at once "
          "(ROUTEFARM_MAX_LONG_POLLS_PER_CLIENT, 16 by default, farm-wide); see Retry-After")}, query=JobReadQuery)
def get(job_id: str):
    jid = resource_id(job_id, "job")
    asked = query(JobReadQuery)
    include = frozenset([asked.include] if asked.include else [])
    wait = asked.wait
    if not wait:
        return jsonify(read(jid, include))
    if not 0 <= wait <= farm().settings.max_wait_s:
        raise BadRequest(f"wait must be between 0 and {farm().settings.max_wait_s:g} seconds")
    waiter = current_app.extensions["routefarm.waiter"]
    with held_open(farm(), g.client_id, wait):
        event = waiter.register(str(jid))
        try:
            deadline = time.monotonic() + wait
            doc = read(jid, include)
            while not is_terminal(doc):
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not event.wait(remaining):
                    break
                event.clear()
                doc = read(jid, include)
            return jsonify(doc)
        finally:
            waiter.unregister(str(jid), event)


@bp.get("")
@documented("List the client's jobs, newest first", {
    200: json(doc.JobPage, "A page of jobs"), 400: "Bad parameter"}, query=JobListQuery)
def index():
    asked = query(JobListQuery)
    before = pages.cursor(asked.cursor)
    rows, next_cursor = pages.split(farm().store.page(g.client_id, asked.status, asked.limit + 1, before), asked.limit)
    return jsonify({"jobs": [status_document(r, farm().settings.base_url) for r in rows], "next_cursor": next_cursor})


@bp.delete("/<job_id>")
@documented("Cancel a job", {
    200: json(doc.Job, "Cancelled"), 202: json(doc.Job, "Running: the solver stops within a second"),
    404: "No such job", 409: "The job already ended"})
def cancel(job_id: str):
    jid = resource_id(job_id, "job")
    f = farm()
    row = f.store.cancel(g.client_id, jid)
    if row is None:
        current = f.store.get(g.client_id, jid, with_solution=False)
        if current is None:
            raise absent(f, g.client_id, "job", jid)
        if current["status"] == "cancelled":
            return jsonify(status_document(current, f.settings.base_url))
        raise Conflict(f"the job already ended ({current['status']})", "job-ended")
    doc = status_document(row, f.settings.base_url)
    if row["status"] == "cancelled":
        return jsonify(doc)
    response = jsonify(doc)
    response.status_code = 202
    return response
