"""POST /v1/jobs/{id}/reoptimize: re-plan a succeeded job from what happened since."""

from __future__ import annotations

import uuid

from flask import Blueprint, current_app, g, jsonify, request

from routefarm.errors import NotFound
from routefarm.reoptimize import ReoptimizeBody, parse_request
from routefarm.replan import BaseJobNotSucceeded, reoptimize

from .auth import current_client, rate_limit
from .errors import ApiError

bp = Blueprint("reoptimize", __name__, url_prefix="/v1/jobs")


def farm():
    return current_app.extensions["routefarm"]


@bp.before_request
def _authenticate():
    client_id = current_client(farm())
    rate_limit(farm(), client_id)


@bp.post("/<job_id>/reoptimize")
def create(job_id: str):
    try:
        base_id = uuid.UUID(job_id)
    except ValueError:
        raise NotFound(f"no job {job_id!r}") from None
    body = request.get_json(silent=True)
    if body is None:
        raise ApiError(400, "Bad request", "the body must be JSON (Content-Type: application/json)")
    changes = parse_request(body, ReoptimizeBody)
    try:
        accepted = reoptimize(farm(), g.client_id, base_id, changes, event_id=changes.event_id,
                              request_id=g.get("request_id"))
    except BaseJobNotSucceeded as exc:
        raise ApiError(409, "Conflict", str(exc), "job-not-succeeded", job_status=exc.status) from None
    response = jsonify(accepted.document)
    response.status_code = 202
    response.headers["Location"] = accepted.document["links"]["self"]
    if not accepted.created:
        response.headers["Idempotent-Replayed"] = "true"
    return response
