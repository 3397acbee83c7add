"""/v1/batches: submit many jobs at once, read the batch's progress, cancel what is left."""

from __future__ import annotations

from flask import Blueprint, g, jsonify

from routefarm.jobs.batches import cancel_batch, get_batch, submit_batch
from routefarm.jobs.retention import absent
from routefarm.reoptimize.batch import reoptimize_batch

from .auth import farm, require_client, resource_id
from .bodies import json_body

bp = Blueprint("batches", __name__, url_prefix="/v1/batches")
require_client(bp)


@bp.post("")
def create():
    return _accepted(submit_batch(farm(), g.client_id, json_body(), request_id=g.get("request_id")))


@bp.post("/reoptimize")
def reoptimize():
    """Re-plan many succeeded jobs with shared changes, as one batch."""
    return _accepted(reoptimize_batch(farm(), g.client_id, json_body(), request_id=g.get("request_id")))


def _accepted(doc: dict):
    response = jsonify(doc)
    response.status_code = 202
    response.headers["Location"] = doc["links"]["self"]
    return response


@bp.get("/<batch_id>")
def get(batch_id: str):
    bid = resource_id(batch_id, "batch")
    doc = get_batch(farm(), g.client_id, bid)
    if doc is None:
        raise absent(farm(), g.client_id, "batch", bid)
    return jsonify(doc)


@bp.delete("/<batch_id>")
def cancel(batch_id: str):
    """Queued jobs are cancelled at once (200); running ones stop within a second (202)."""
    bid = resource_id(batch_id, "batch")
    result = cancel_batch(farm(), g.client_id, bid)
    if result is None:
        raise absent(farm(), g.client_id, "batch", bid)
    response = jsonify(result.document)
    response.status_code = 202 if result.stopping else 200
    return response
