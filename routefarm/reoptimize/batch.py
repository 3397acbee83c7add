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
problems are then submitted as one batch (``routefarm.jobs.batches``): one status, one
``batch.completed`` callback.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from optimizer import Issue, Limits, pydantic_issues

from ..contract.requests import BatchReoptimizeJob, BatchReoptimizeRequest, shape_issues
from ..errors import InvalidInput, NotFound
from ..farm import Farm
from ..jobs.batches import submit_batch
from ..untrusted import time_limit_issues
from .derive import derive
from .request import ReoptimizeChanges, parse_request
from .submit import BaseJobNotSucceeded, base_job

JOB_FIELDS = ("vehicles", "at")  # what a job entry may set for itself


def reoptimize_batch(farm: Farm, client_id: str, body: Any, request_id: str | None = None) -> dict[str, Any]:
    """Derive every job's new problem, then submit them as one batch; the batch's 202 body."""
    issues = shape_issues(body, BatchReoptimizeRequest)
    if not isinstance(body, dict):
        raise InvalidInput(issues, "problem")
    issues = [i for i in issues if i.pointer != "/jobs"]  # said below, with the size
    shared = body.get("changes", {})
    if not isinstance(shared, dict):
        shared = {}
    issues += [Issue(f"/changes/{k}", "set per job in /jobs/<index>/vehicles") for k in shared if k == "vehicles"]
    entries = body.get("jobs")
    limit = farm.settings.max_batch_jobs
    if not isinstance(entries, list) or not 1 <= len(entries) <= limit:
        raise InvalidInput([*issues, Issue("/jobs", f"must be a list of 1 to {limit} jobs")], "problem")
    issues += time_limit_issues(shared.get("time_limit"), farm.settings.max_time_limit_s, "/changes/time_limit")
    if issues:
        raise InvalidInput(issues, "problem")
    limits = Limits(max_stops=farm.settings.max_stops, max_vehicles=farm.settings.max_vehicles)
    jobs = []
    for index, raw in enumerate(entries):
        try:
            jobs.append(_derive_one(farm, client_id, index, raw, shared, limits))
        except InvalidInput as exc:
            issues += exc.issues
    if issues:
        raise InvalidInput(issues, "problem")
    batch = {"jobs": jobs, **{k: body[k] for k in ("metadata", "webhook") if k in body}}
    return submit_batch(farm, client_id, batch, request_id=request_id)


def _derive_one(farm: Farm, client_id: str, index: int, raw: Any, shared: dict, limits: Limits) -> dict:
    here = f"/jobs/{index}"
    if not isinstance(raw, dict):
        raise InvalidInput([Issue(here, 'must be an object: {"job_id": ..., "vehicles": [...]}')], "problem")
    try:
        entry = BatchReoptimizeJob.model_validate(raw)
    except ValidationError as exc:
        raise InvalidInput([Issue(here + i.pointer, i.message) for i in pydantic_issues(exc)], "problem") from None
    request = {**shared, **{k: raw[k] for k in JOB_FIELDS if k in raw}}
    if "at" not in request:
        raise InvalidInput([Issue(f"{here}/at", "required here or in /changes/at")], "problem")
    try:
        changes = parse_request(request, ReoptimizeChanges)
        problem, solution = base_job(farm, client_id, entry.job_id)
        derived = derive(problem, solution, changes, limits)
    except NotFound:
        raise InvalidInput([Issue(f"{here}/job_id", f"no job {entry.job_id}")], "problem") from None
    except BaseJobNotSucceeded as exc:
        raise InvalidInput([Issue(f"{here}/job_id", str(exc))], "problem") from None
    except InvalidInput as exc:
        raise InvalidInput([Issue(_locate(issue.pointer, here, raw), issue.message)
                              for issue in exc.issues], "problem") from None
    return {"problem": derived, "metadata": {"reoptimized_from": str(entry.job_id)}}


def _locate(pointer: str, here: str, raw: dict) -> str:
    """A pointer into one job's merged request, as a pointer into the batch body."""
    field = pointer.split("/")[1] if pointer.count("/") else ""
    if field in JOB_FIELDS and field in raw:
        return here + pointer
    return "/changes" + pointer
