"""``POST /v1/batches/reoptimize``: re-plan many of a client's jobs with shared changes, as one batch.

The body names the jobs and what they share::

    {"jobs": [{"job_id": "...", "vehicles": [...], "at": 3600}, ...],
     "changes": {"at": 3600, "cancel_stops": ["c17"], "update_stops": [...], "add_stops": [...],
                 "reassign_penalty": 1000, "time_limit": 5},
     "metadata": {...}, "webhook": {"url": "https://..."}}

Each job's request is the shared ``changes`` plus its own ``vehicles`` (vehicle states belong
to one plan) and, when given, its own ``at``. A shared change that names a stop a job does
not have is an error for that job: every error of every job is reported at once (up to
``MAX_ISSUES``; the jobs left are then said unchecked), with pointers into the body, and
nothing is created unless every job derives. The derived problems are then inserted as one
batch (``routefarm.jobs.batches``): one status, one ``batch.completed`` callback.

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

from optimizer import Issue, Issues, Limits
from optimizer.issues import adapter, add_errors, collect, field_kind
from optimizer.model import Time

from ..contract.reoptimize import ReoptimizeChanges, request_issues
from ..contract.requests import (
    BatchReoptimizeJob,
    BatchReoptimizeRequest,
    SharedChanges,
    shape_issues,
)
from ..errors import InvalidInput
from ..fairness.rates import charge_jobs
from ..jobs.batches import create_batch
from ..jobs.services import Services
from ..jobs.submit import webhook_issues
from ..untrusted import time_limit_issues
from .derive import derive
from .submit import BaseJobNotSucceeded

JOB_FIELDS = ("vehicles", "at")  # what a job entry may set for itself
VEHICLES = field_kind(ReoptimizeChanges, "vehicles")


def reoptimize_batch(farm: Services, client_id: str, body: Any, request_id: str | None = None) -> dict[str, Any]:
    """Derive every job's new problem, then insert them as one batch; the batch's 202 body."""
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
    issues.extend(webhook_issues(body.get("webhook"), farm))
    if issues:
        raise InvalidInput(issues, "problem")
    charge_jobs(farm, client_id, len(entries))
    changes = _shared_changes(shared, issues)
    wanted = []  # (index, raw entry, its job id, its own part of the request)
    checked = 0
    for index, raw in enumerate(entries):
        if issues.full:
            break
        checked += 1
        try:
            wanted.append((index, raw, *_entry(index, raw, changes)))
        except InvalidInput as exc:
            exc.into(issues)
    sizes = _sizes(farm, client_id, {job_id for _, _, job_id, _ in wanted})
    found = []
    for index, raw, job_id, own in wanted:
        status, size = sizes.get(job_id, (None, 0))
        if status is None:
            issues.add(f"/jobs/{index}/job_id", f"no job {job_id}")
        elif status != "succeeded":
            issues.add(f"/jobs/{index}/job_id", str(BaseJobNotSucceeded(job_id, status)))
        else:
            found.append((index, raw, job_id, own, size))
    _within_limit(farm, found, shared, issues)
    jobs: list[dict] = []
    if changes is not None and not issues.full:
        jobs = _derive_all(farm, client_id, found, changes, issues)
    unchecked = len(entries) - checked
    if issues:
        raise InvalidInput(issues, "problem", **({"jobs_unchecked": unchecked} if unchecked else {}))
    return create_batch(farm, client_id, jobs, body.get("metadata", {}), (body.get("webhook") or {}).get("url"),
                        request_id)


def _shared_changes(shared: dict, issues: Issues) -> SharedChanges | None:
    """The shared changes, validated once (None when invalid: their issues are added, under
    ``/changes``, and each job's own part is still checked)."""
    try:
        return SharedChanges.model_validate(shared)
    except ValidationError as exc:
        found = Issues()
        add_errors(exc, SharedChanges, shared, found)
        issues.extend(request_issues(found).under("/changes"))
        return None


def _entry(index: int, raw: Any, shared: SharedChanges | None) -> tuple[uuid.UUID, dict]:
    """The base job id of one entry of ``/jobs`` and its own part of the request (its
    ``vehicles`` and ``at``), each checked."""
    here = f"/jobs/{index}"
    if not isinstance(raw, dict):
        raise InvalidInput([Issue(here, 'must be an object: {"job_id": ..., "vehicles": [...]}')], "problem")
    found = Issues()
    collect(BatchReoptimizeJob, raw, found)
    if "vehicles" in raw:
        collect(VEHICLES, raw["vehicles"], found, ("vehicles",))
    if "at" in raw:
        collect(Time, raw["at"], found, ("at",))
    elif shared is not None and shared.at is None:
        found.add("/at", "required here or in /changes/at")
    if found:
        raise InvalidInput(request_issues(found).under(here), "problem")
    own = {"vehicles": adapter(VEHICLES).validate_python(raw.get("vehicles", []))}
    if "at" in raw:
        own["at"] = adapter(Time).validate_python(raw["at"])
    return BatchReoptimizeJob.model_validate(raw).job_id, own


def _sizes(farm: Services, client_id: str, job_ids: set[uuid.UUID]) -> dict[uuid.UUID, tuple[str, int]]:
    """job id -> (status, bytes of its problem's JSON), for the client's jobs among ``job_ids``."""
    if not job_ids:
        return {}

    def read(conn):
        rows = conn.execute("SELECT id, status, octet_length(problem::text) FROM jobs"
                            " WHERE client_id = %s AND id = ANY(%s)", (client_id, list(job_ids))).fetchall()
        return rows or None  # none: maybe moved a moment ago (on_shard looks again)

    return {job_id: (status, size) for job_id, status, size in farm.store.on_shard(client_id, read) or []}


def _within_limit(farm: Services, found: list, shared: dict, issues: Issues) -> None:
    """422 at ``/jobs`` (with the issues found so far) when the request would derive more
    than ``max_reoptimize_batch_bytes``."""
    common = len(json.dumps(shared))
    total = sum(size + common + len(json.dumps(raw)) for _, raw, _, _, size in found)
    limit = farm.settings.max_reoptimize_batch_bytes
    if total > limit:
        issues.add("/jobs", (
            f"these jobs would derive {total:,} bytes of problems (each base job's problem and the changes, "
            f"as JSON); one request may derive at most {limit:,}: send fewer jobs per request"))
        raise InvalidInput(issues, "problem")


def _bases(farm: Services, client_id: str, job_ids: set[uuid.UUID]) -> dict[uuid.UUID, tuple[dict, dict]]:
    """job id -> (problem, solution) of the client's succeeded jobs among ``job_ids``, one read."""
    if not job_ids:
        return {}

    def read(conn):
        rows = conn.execute("SELECT id, problem, solution FROM jobs WHERE client_id = %s AND id = ANY(%s)"
                            " AND status = 'succeeded' AND solution IS NOT NULL",
                            (client_id, list(job_ids))).fetchall()
        return rows or None

    return {job_id: (problem, solution) for job_id, problem, solution in farm.store.on_shard(client_id, read) or []}


def _derive_all(farm: Services, client_id: str, found: list, shared: SharedChanges, issues: Issues) -> list[dict]:
    """Each found job's derived problem, its base read once however many entries name it."""
    bases = _bases(farm, client_id, {job_id for _, _, job_id, _, _ in found})
    jobs = []
    for index, raw, job_id, own, _ in found:
        if issues.full:
            break
        if job_id not in bases:  # deleted a moment ago (retention)
            issues.add(f"/jobs/{index}/job_id", f"no job {job_id}")
            continue
        try:
            jobs.append(_derive_one(index, raw, job_id, bases[job_id], shared, own, farm.limits))
        except InvalidInput as exc:
            exc.into(issues)
    return jobs


def _derive_one(index: int, raw: dict, job_id: uuid.UUID, base: tuple[dict, dict], shared: SharedChanges,
                own: dict, limits: Limits) -> dict:
    """One job of the batch: the shared changes with its own vehicles and ``at`` (each part
    validated already), derived from its base job."""
    here = f"/jobs/{index}"
    changes = ReoptimizeChanges.model_construct(**{**dict(shared), "at": shared.at, **own})
    try:
        derived = derive(*base, changes, limits)
    except InvalidInput as exc:
        raise InvalidInput([Issue(_locate(issue.pointer, here, raw), issue.message)
                            for issue in exc.issues], "problem", exc.omitted) from None
    return {"problem": derived, "metadata": {"reoptimized_from": str(job_id)}}


def _locate(pointer: str, here: str, raw: dict) -> str:
    """A pointer into one job's merged request, as a pointer into the batch body."""
    field = pointer.split("/")[1] if pointer.count("/") else ""
    if field in JOB_FIELDS and field in raw:
        return here + pointer
    return "/changes" + pointer
