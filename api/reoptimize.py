"""POST /v1/jobs/{id}/reoptimize: re-plan a succeeded job from what happened since."""

from __future__ import annotations

from flask import Blueprint, Response, g, jsonify

from routefarm.contract.documents import JobAccepted
from routefarm.contract.reoptimize import ReoptimizeBody, parse_request
from routefarm.jobs.submit import Accepted
from routefarm.reoptimize.submit import reoptimize

from .auth import farm, require_client, resource_id
from .bodies import json_body
from .openapi import documented, json

bp = Blueprint("reoptimize", __name__, url_prefix="/v1/jobs")
require_client(bp)


@bp.post("/<job_id>/reoptimize")
@documented("Re-plan a succeeded job from what happened since (a new job, solved like any other)", {
    202: json(JobAccepted, "Accepted (or replayed for a known event_id)"), 404: "No such job",
    409: "The base job has not succeeded"}, body=ReoptimizeBody)
def create(job_id: str):
    base_id = resource_id(job_id, "job")
    changes = parse_request(json_body(), ReoptimizeBody)
    accepted = reoptimize(farm(), g.client_id, base_id, changes, event_id=changes.event_id,
                          request_id=g.get("request_id"))  # a base job that has not succeeded: 409
    return answered(accepted)


def answered(accepted: Accepted) -> Response:
    """202 with the new job, its Location, and whether an event id replayed it."""
    response = jsonify(accepted.document)
    response.status_code = 202
    response.headers["Location"] = accepted.document["links"]["self"]
    if not accepted.created:
        response.headers["Idempotent-Replayed"] = "true"
    return response
