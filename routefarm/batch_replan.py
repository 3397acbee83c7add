"""``POST /v1/batches/reoptimize``: re-plan many of a client's jobs with shared changes, as one batch.

The body names the jobs and what they share::

    {"jobs": [{"job_id": "...", "vehicles": [...], "at": 3600}, ...],
     "changes": {"at": 3600, "cancel_stops": ["c17"], "update_stops": [...], "add_stops": [...],
                 "reassign_penalty": 1000, "time_limit": 5},
     "metadata": {...}, "webhook": {"url": "https://..."}}

Each job's request is the shared ``changes`` plus its own ``vehicles`` (vehicle states belong
to one plan) and, when given, its own ``at``. A shared change that names a stop a job does
not have is an error for that job: every error of every job is reported at once, with
pointers into the body, and nothing is created unless every job derives. The derived
problems are then submitted as one batch (``routefarm.batches``): one status, one
``batch.completed`` callback.
"""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import ValidationError

from optimizer import InvalidProblem, Issue, Limits
from optimizer.validate import pydantic_issues

from .batches import submit_batch
from .errors import NotFound
from .farm import Farm
from .reoptimize import ReoptimizeChanges, _Strict, derive, parse_request
from .replan import BaseJobNotSucceeded, base_job
from .submit import InvalidRequest

BODY_FIELDS = {"jobs", "changes", "metadata", "webhook"}
JOB_FIELDS = ("vehicles", "at")  # what a job entry may set for itself


class JobEntry(_Strict):
    """One job of a batch re-plan: its id, its vehicles' states, and optionally its own ``at``
    (those two are checked with the shared changes, as one re-optimization request)."""

    job_id: uuid.UUID
    vehicles: Any = None
    at: Any = None


def reoptimize_batch(farm: Farm, client_id: str, body: Any, request_id: str | None = None) -> dict[str, Any]:
    """Derive every job's new problem, then submit them as one batch; the batch's 202 body."""
    if not isinstance(body, dict):
        raise InvalidRequest([Issue("", "the body must be a JSON object with 'jobs' and 'changes'")])
    issues = [Issue(f"/{k}", "unknown field") for k in body if k not in BODY_FIELDS]
    shared = body.get("changes", {})
    if not isinstance(shared, dict):
        issues.append(Issue("/changes", "must be an object"))
        shared = {}
    issues += [Issue(f"/changes/{k}", "set per job in /jobs/<index>/vehicles") for k in shared if k == "vehicles"]
    entries = body.get("jobs")
    limit = farm.settings.max_batch_jobs
    if not isinstance(entries, list) or not 1 <= len(entries) <= limit:
        raise InvalidRequest([*issues, Issue("/jobs", f"must be a list of 1 to {limit} jobs")])
    limit_s = shared.get("time_limit")
    if isinstance(limit_s, int | float) and limit_s > farm.settings.max_time_limit:
        issues.append(Issue("/changes/time_limit", f"{limit_s:g} s exceeds this farm's limit of "
                                                   f"{farm.settings.max_time_limit:g} s"))
    if issues:
        raise InvalidRequest(issues)
    limits = Limits(max_stops=farm.settings.max_stops, max_vehicles=farm.settings.max_vehicles)
    jobs = []
    for index, raw in enumerate(entries):
        try:
            jobs.append(_derive_one(farm, client_id, index, raw, shared, limits))
        except InvalidProblem as exc:
            issues += exc.issues
    if issues:
        raise InvalidRequest(issues)
    batch = {"jobs": jobs, **{k: body[k] for k in ("metadata", "webhook") if k in body}}
    return submit_batch(farm, client_id, batch, request_id=request_id)


def _derive_one(farm: Farm, client_id: str, index: int, raw: Any, shared: dict, limits: Limits) -> dict:
    here = f"/jobs/{index}"
    if not isinstance(raw, dict):
        raise InvalidProblem([Issue(here, 'must be an object: {"job_id": ..., "vehicles": [...]}')])
    try:
        entry = JobEntry.model_validate(raw)
    except ValidationError as exc:
        raise InvalidProblem([Issue(here + i.pointer, i.message) for i in pydantic_issues(exc)]) from None
    request = {**shared, **{k: raw[k] for k in JOB_FIELDS if k in raw}}
    if "at" not in request:
        raise InvalidProblem([Issue(f"{here}/at", "required here or in /changes/at")])
    try:
        changes = parse_request(request, ReoptimizeChanges)
        problem, solution = base_job(farm, client_id, entry.job_id)
        derived = derive(problem, solution, changes, limits)
    except NotFound:
        raise InvalidProblem([Issue(f"{here}/job_id", f"no job {entry.job_id}")]) from None
    except BaseJobNotSucceeded as exc:
        raise InvalidProblem([Issue(f"{here}/job_id", str(exc))]) from None
    except InvalidProblem as exc:
        raise InvalidProblem([Issue(_locate(issue.pointer, here, raw), issue.message)
                              for issue in exc.issues]) from None
    return {"problem": derived, "metadata": {"reoptimized_from": str(entry.job_id)}}


def _locate(pointer: str, here: str, raw: dict) -> str:
    """A pointer into one job's merged request, as a pointer into the batch body."""
    field = pointer.split("/")[1] if pointer.count("/") else ""
    if field in JOB_FIELDS and field in raw:
        return here + pointer
    return "/changes" + pointer
