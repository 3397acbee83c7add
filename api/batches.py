"""/v1/batches: submit many jobs at once, read the batch's progress, cancel what is left."""

from __future__ import annotations

from flask import Blueprint, g, jsonify

from routefarm.contract.documents import Batch, BatchAccepted
from routefarm.contract.requests import BatchReoptimizeRequest, BatchRequest
from routefarm.jobs.batches import cancel_batch, get_batch, submit_batch
from routefarm.jobs.retention import absent
from routefarm.reoptimize.batch import reoptimize_batch

from .auth import farm, require_client, resource_id
from .bodies import json_body
from .openapi import documented, json

bp = Blueprint("batches", __name__, url_prefix="/v1/batches")
require_client(bp)


BATCH_TOKENS = "Rate limit exceeded: a batch takes one token per job (nothing is created); see Retry-After"


@bp.post("")
@documented("Submit up to 1,000 jobs at once", {202: json(BatchAccepted, "Accepted"), 429: BATCH_TOKENS},
            body=BatchRequest)
def create():
    return _accepted(submit_batch(farm(), g.client_id, json_body(), request_id=g.get("request_id")))


@bp.post("/reoptimize")
@documented("Re-plan many succeeded jobs with shared changes (a depot closed, a stop cancelled everywhere), "
            "as one batch", {
                202: json(BatchAccepted, "Accepted"), 429: BATCH_TOKENS,
                422: ("Invalid body, every error with its JSON pointer; or, at /jobs, more to derive than one "
                      "request may (ROUTEFARM_MAX_REOPTIMIZE_BATCH_BYTES, 16 MiB of base problems and changes)")},
            body=BatchReoptimizeRequest)
def reoptimize():
    """Re-plan many succeeded jobs with shared changes, as one batch."""
    return _accepted(reoptimize_batch(farm(), g.client_id, json_body(), request_id=g.get("request_id")))


def _accepted(doc: dict):
    response = jsonify(doc)
    response.status_code = 202
    response.headers["Location"] = doc["links"]["self"]
    return response


@bp.get("/<batch_id>")
@documented("Counts by status, percent done, started and finished times", {
    200: json(Batch, "The batch"), 404: "No such batch"})
def get(batch_id: str):
    bid = resource_id(batch_id, "batch")
    doc = get_batch(farm(), g.client_id, bid)
    if doc is None:
        raise absent(farm(), g.client_id, "batch", bid)
    return jsonify(doc)


@bp.delete("/<batch_id>")
@documented("Cancel what is left: queued jobs at once, running ones within a second", {
    200: json(Batch, "Cancelled"), 202: json(Batch, "Running jobs are stopping"), 404: "No such batch"})
def cancel(batch_id: str):
    """Queued jobs are cancelled at once (200); running ones stop within a second (202)."""
    bid = resource_id(batch_id, "batch")
    result = cancel_batch(farm(), g.client_id, bid)
    if result is None:
        raise absent(farm(), g.client_id, "batch", bid)
    response = jsonify(result.document)
    response.status_code = 202 if result.stopping else 200
    return response
