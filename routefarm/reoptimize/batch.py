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

from optimizer import Issue, Issues, Limits
from optimizer.issues import adapter, add_errors, collect, field_kind
from optimizer.model import Time

from ..contract.requests import (
    BatchReoptimizeJob,
    BatchReoptimizeRequest,
    SharedChanges,
    shape_issues,
)
from ..errors import InvalidInput, NotFound
from ..farm import Farm
from ..jobs.batches import submit_batch
from ..untrusted import time_limit_issues
from .derive import derive
from .request import ReoptimizeChanges, request_issues
from .submit import BaseJobNotSucceeded, base_job

JOB_FIELDS = ("vehicles", "at")  # what a job entry may set for itself
VEHICLES = field_kind(ReoptimizeChanges, "vehicles")


def reoptimize_batch(farm: Farm, client_id: str, body: Any, request_id: str | None = None) -> dict[str, Any]:
    """Derive every job's new problem, then submit them as one batch; the batch's 202 body.

    The shared changes are validated once; the jobs one by one until the errors listed
    reach ``MAX_ISSUES`` (the jobs left are then said unchecked)."""
    shape = shape_issues(body, BatchReoptimizeRequest)
    if not isinstance(body, dict):
        raise InvalidInput(shape, "problem")
    issues = Issues(i for i in shape if i.pointer != "/jobs")  # said below, with the size
    issues.count(shape.omitted)
    shared = body.get("changes", {})
    if not isinstance(shared, dict):
        shared = {}
    if "vehicles" in shared:
        issues.add("/changes/vehicles", "set per job in /jobs/<index>/vehicles")
        shared = {k: v for k, v in shared.items() if k != "vehicles"}
    entries = body.get("jobs")
    limit = farm.settings.max_batch_jobs
    if not isinstance(entries, list) or not 1 <= len(entries) <= limit:
        issues.add("/jobs", f"must be a list of 1 to {limit} jobs")
        raise InvalidInput(issues, "problem")
    issues.extend(time_limit_issues(shared.get("time_limit"), farm.settings.max_time_limit_s, "/changes/time_limit"))
    if issues:
        raise InvalidInput(issues, "problem")
    try:
        changes = SharedChanges.model_validate(shared)
    except ValidationError as exc:
        found = Issues()
        add_errors(exc, SharedChanges, shared, found)
        issues.extend(request_issues(found).under("/changes"))
        raise InvalidInput(issues, "problem") from None
    jobs = []
    unchecked = 0
    for index, raw in enumerate(entries):
        if issues.full:
            unchecked = len(entries) - index
            break
        try:
            jobs.append(_derive_one(farm, client_id, index, raw, changes, farm.limits))
        except InvalidInput as exc:
            exc.into(issues)
    if issues:
        raise InvalidInput(issues, "problem", **({"jobs_unchecked": unchecked} if unchecked else {}))
    batch = {"jobs": jobs, **{k: body[k] for k in ("metadata", "webhook") if k in body}}
    return submit_batch(farm, client_id, batch, request_id=request_id, derived=True)


def _derive_one(farm: Farm, client_id: str, index: int, raw: Any, shared: Any, limits: Limits) -> dict:
    here = f"/jobs/{index}"
    if not isinstance(raw, dict):
        raise InvalidInput([Issue(here, 'must be an object: {"job_id": ..., "vehicles": [...]}')], "problem")
    found = Issues()
    collect(BatchReoptimizeJob, raw, found)
    if "vehicles" in raw:
        collect(VEHICLES, raw["vehicles"], found, ("vehicles",))
    if "at" in raw:
        collect(Time, raw["at"], found, ("at",))
    elif shared.at is None:
        found.add("/at", "required here or in /changes/at")
    if found:
        raise InvalidInput(request_issues(found).under(here), "problem")
    entry = BatchReoptimizeJob.model_validate(raw)
    own = {"vehicles": adapter(VEHICLES).validate_python(raw.get("vehicles", [])),
           "at": adapter(Time).validate_python(raw["at"]) if "at" in raw else shared.at}
    changes = ReoptimizeChanges.model_construct(**{**dict(shared), **own})  # each part validated
    try:
        problem, solution = base_job(farm, client_id, entry.job_id)
        derived = derive(problem, solution, changes, limits)
    except NotFound:
        raise InvalidInput([Issue(f"{here}/job_id", f"no job {entry.job_id}")], "problem") from None
    except BaseJobNotSucceeded as exc:
        raise InvalidInput([Issue(f"{here}/job_id", str(exc))], "problem") from None
    except InvalidInput as exc:
        raise InvalidInput([Issue(_locate(issue.pointer, here, raw), issue.message)
                            for issue in exc.issues], "problem", exc.omitted) from None
    return {"problem": derived, "metadata": {"reoptimized_from": str(entry.job_id)}}


def _locate(pointer: str, here: str, raw: dict) -> str:
    """A pointer into one job's merged request, as a pointer into the batch body."""
    field = pointer.split("/")[1] if pointer.count("/") else ""
    if field in JOB_FIELDS and field in raw:
        return here + pointer
    return "/changes" + pointer
