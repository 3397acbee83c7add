"""POST /v1/jobs/{id}/insertions: where new work fits, and /apply: insert it and re-plan."""

from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify

from routefarm.contract.decisions import InsertionApplyRequest, InsertionQuotes, InsertionRequest
from routefarm.contract.documents import JobAccepted
from routefarm.decisions.plans import Plans
from routefarm.decisions.quotes import apply, quotes

from .auth import farm, require_client, resource_id
from .bodies import json_body
from .openapi import documented, json
from .reoptimize import answered

bp = Blueprint("insertions", __name__, url_prefix="/v1/jobs")
require_client(bp)
PLANS = "routefarm.plans"
NO_PLAN = ("The job has no plan (queued, running without a solution yet, or ended without one), "
           "or it is priced on roads")


def plans() -> Plans:
    """This process's reader of job plans (made on first use)."""
    found = current_app.extensions.get(PLANS)
    if found is None:
        settings = farm().settings
        found = current_app.extensions.setdefault(
            PLANS, Plans(settings.decisions_cache_jobs, settings.decisions_cache_mib * 1024 * 1024))
    return found


@bp.post("/<job_id>/insertions")
@documented("Quote where new stops or shipments fit into a job's plan (its solution, or a running job's "
            "best solution so far)", {
    200: json(InsertionQuotes, "The cheapest feasible insertions of each new task, or why none is feasible"),
    404: "No such job", 409: NO_PLAN}, body=InsertionRequest)
def create(job_id: str):
    jid = resource_id(job_id, "job")
    return jsonify(quotes(farm(), plans(), g.client_id, jid, json_body()))


@bp.post("/<job_id>/insertions/apply")
@documented("Insert one new stop or shipment into a job's plan and improve it: a re-optimization job "
            "warm-started from the plan with the insertion", {
    202: json(JobAccepted, "Accepted (or replayed for a known event_id)"), 404: "No such job",
    409: NO_PLAN + "; or the new work fits nowhere (no-feasible-insertion, with what fails on the closest "
                   "vehicles)"}, body=InsertionApplyRequest)
def create_applied(job_id: str):
    jid = resource_id(job_id, "job")
    return answered(apply(farm(), plans(), g.client_id, jid, json_body(), request_id=g.get("request_id")))
