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

The work is bounded before it is done. Once the number of jobs is known the client's rate
limit is charged one token per job (429, nothing created). The shared changes are validated
once. Each distinct base job is read once, however many entries name it: first the size of
its problem, then (if the request fits) the problem and its solution, decoded once and
shared by the entries' derivations (each copies only what it changes). What the request would
derive, the sum over its jobs of the base problem's JSON and the changes' JSON, must stay
within ``max_reoptimize_batch_bytes`` (else 422 at ``/jobs`` with the total and the limit):
that bounds the memory, the validation of the derived problems and the one-transaction insert.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from pydantic import ValidationError

from optimizer import Issue, Limits, pydantic_issues

from ..contract.requests import BatchReoptimizeJob, BatchReoptimizeRequest, shape_issues
from ..errors import InvalidInput
from ..fairness.rates import charge_jobs
from ..farm import Farm
from ..jobs.batches import create_batch
from ..jobs.submit import webhook_issues
from ..untrusted import time_limit_issues
from .derive import derive
from .request import ReoptimizeChanges, parse_request
from .submit import BaseJobNotSucceeded

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
    issues += webhook_issues(body.get("webhook"), farm)
    if issues:
        raise InvalidInput(issues, "problem")
    charge_jobs(farm, client_id, len(entries))
    common, issues = _shared_changes(shared)
    wanted = []  # (index, raw entry, its job id)
    for index, raw in enumerate(entries):
        try:
            wanted.append((index, raw, _entry(index, raw)))
        except InvalidInput as exc:
            issues += exc.issues
    sizes = _sizes(farm, client_id, {job_id for *_, job_id in wanted})
    found = []
    for index, raw, job_id in wanted:
        status, size = sizes.get(job_id, (None, 0))
        if status is None:
            issues.append(Issue(f"/jobs/{index}/job_id", f"no job {job_id}"))
        elif status != "succeeded":
            issues.append(Issue(f"/jobs/{index}/job_id", str(BaseJobNotSucceeded(job_id, status))))
        else:
            found.append((index, raw, job_id, size))
    _within_limit(farm, found, shared, issues)
    bases = _bases(farm, client_id, {job_id for _, _, job_id, _ in found})
    limits = Limits(max_stops=farm.settings.max_stops, max_vehicles=farm.settings.max_vehicles)
    jobs = []
    for index, raw, job_id, _ in found:
        if job_id not in bases:  # deleted a moment ago (retention)
            issues.append(Issue(f"/jobs/{index}/job_id", f"no job {job_id}"))
            continue
        try:
            job = _derive_one(index, raw, job_id, bases[job_id], shared, common, limits)
        except InvalidInput as exc:
            issues += exc.issues
        else:
            jobs += [job] if job is not None else []
    if issues:
        raise InvalidInput(list(dict.fromkeys(issues)), "problem")  # a shared change's error said once
    return create_batch(farm, client_id, jobs, body.get("metadata", {}), (body.get("webhook") or {}).get("url"),
                        request_id)


def _shared_changes(shared: dict) -> tuple[ReoptimizeChanges | None, list[Issue]]:
    """The shared changes, validated once (``at`` stands in until each job's is known)."""
    try:
        return parse_request({**shared, "at": shared.get("at", 0)}, ReoptimizeChanges), []
    except InvalidInput as exc:
        return None, [Issue("/changes" + issue.pointer, issue.message) for issue in exc.issues]


def _entry(index: int, raw: Any) -> uuid.UUID:
    """The base job id of one entry of ``/jobs`` (its vehicles are checked with its request)."""
    here = f"/jobs/{index}"
    if not isinstance(raw, dict):
        raise InvalidInput([Issue(here, 'must be an object: {"job_id": ..., "vehicles": [...]}')], "problem")
    try:
        return BatchReoptimizeJob.model_validate(raw).job_id
    except ValidationError as exc:
        raise InvalidInput([Issue(here + i.pointer, i.message) for i in pydantic_issues(exc)], "problem") from None


def _sizes(farm: Farm, client_id: str, job_ids: set[uuid.UUID]) -> dict[uuid.UUID, tuple[str, int]]:
    """job id -> (status, bytes of its problem's JSON), for the client's jobs among ``job_ids``."""
    if not job_ids:
        return {}

    def read(conn):
        rows = conn.execute("SELECT id, status, octet_length(problem::text) FROM jobs"
                            " WHERE client_id = %s AND id = ANY(%s)", (client_id, list(job_ids))).fetchall()
        return rows or None  # none: maybe moved a moment ago (on_shard looks again)

    return {job_id: (status, size) for job_id, status, size in farm.store.on_shard(client_id, read) or []}


def _within_limit(farm: Farm, found: list, shared: dict, issues: list[Issue]) -> None:
    """422 at ``/jobs`` (with the issues found so far) when the request would derive more
    than ``max_reoptimize_batch_bytes``."""
    common = len(json.dumps(shared))
    total = sum(size + common + len(json.dumps(raw)) for _, raw, _, size in found)
    limit = farm.settings.max_reoptimize_batch_bytes
    if total > limit:
        raise InvalidInput([*issues, Issue("/jobs", (
            f"these jobs would derive {total:,} bytes of problems (each base job's problem and the changes, "
            f"as JSON); one request may derive at most {limit:,}: send fewer jobs per request"))], "problem")


def _bases(farm: Farm, client_id: str, job_ids: set[uuid.UUID]) -> dict[uuid.UUID, tuple[dict, dict]]:
    """job id -> (problem, solution) of the client's succeeded jobs among ``job_ids``, one read."""
    if not job_ids:
        return {}

    def read(conn):
        rows = conn.execute("SELECT id, problem, solution FROM jobs WHERE client_id = %s AND id = ANY(%s)"
                            " AND status = 'succeeded' AND solution IS NOT NULL",
                            (client_id, list(job_ids))).fetchall()
        return rows or None

    return {job_id: (problem, solution) for job_id, problem, solution in farm.store.on_shard(client_id, read) or []}


def _derive_one(index: int, raw: dict, job_id: uuid.UUID, base: tuple[dict, dict], shared: dict,
                common: ReoptimizeChanges | None, limits: Limits) -> dict | None:
    """One job of the batch (None when the shared changes are invalid: only its own part is
    checked then)."""
    here = f"/jobs/{index}"
    own = {k: raw[k] for k in JOB_FIELDS if k in raw}
    request = {"at": shared["at"]} if "at" in shared else {}
    request.update(own)
    if "at" not in request:
        raise InvalidInput([Issue(f"{here}/at", "required here or in /changes/at")], "problem")
    try:
        mine = parse_request(request, ReoptimizeChanges)  # this job's at and vehicles
        if common is None:  # the shared changes are invalid: said once, for the whole batch
            return None
        changes = common.model_copy(update={"at": mine.at, "vehicles": mine.vehicles})
        derived = derive(*base, changes, limits)
    except InvalidInput as exc:
        raise InvalidInput([Issue(_locate(issue.pointer, here, raw), issue.message)
                            for issue in exc.issues], "problem") from None
    return {"problem": derived, "metadata": {"reoptimized_from": str(job_id)}}


def _locate(pointer: str, here: str, raw: dict) -> str:
    """A pointer into one job's merged request, as a pointer into the batch body."""
    field = pointer.split("/")[1] if pointer.count("/") else ""
    if field in JOB_FIELDS and field in raw:
        return here + pointer
    return "/changes" + pointer
