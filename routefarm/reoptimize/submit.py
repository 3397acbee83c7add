"""Submitting a re-optimization: read the base job, derive the new problem, submit it as a job.

Shared by the REST endpoint and event ingestion. The new job's metadata names its base job
(``reoptimized_from``) and event; the event id, when given, is the idempotency key, so the
same event creates one job however often it arrives.
"""

from __future__ import annotations

import uuid
from typing import Any

from ..contract.reoptimize import ReoptimizeChanges, idempotency_key
from ..errors import Conflict, InvalidInput, NotFound
from ..jobs.services import Services
from ..jobs.submit import Accepted, submit
from ..untrusted import time_limit_issues
from .derive import derive


class BaseJobNotSucceeded(Conflict):
    """The base job has no solution to re-plan from (it is queued, running, failed or cancelled)."""

    def __init__(self, job_id: uuid.UUID, status: str):
        self.job_id, self.status = job_id, status
        super().__init__(f"job {job_id} is {status}: only a succeeded job can be re-optimized",
                         "job-not-succeeded", job_status=status)


def base_job(farm: Services, client_id: str, job_id: uuid.UUID, solved: bool = True) -> tuple[dict, dict | None]:
    """(problem, solution) of one of the client's succeeded jobs (``solved`` false: of any of
    its jobs, its solution or None)."""

    def read(conn):
        return conn.execute("SELECT status, problem, solution FROM jobs WHERE id = %s AND client_id = %s",
                            (job_id, client_id)).fetchone()

    row = farm.store.on_shard(client_id, read)
    if row is None:
        raise NotFound(f"no job {job_id}")
    status, problem, solution = row
    if solved and (status != "succeeded" or solution is None):
        raise BaseJobNotSucceeded(job_id, status)
    return problem, solution


def reoptimize(farm: Services, client_id: str, base_job_id: uuid.UUID, changes: ReoptimizeChanges,
               event_id: str | None = None, request_id: str | None = None,
               plan: dict | None = None, metadata: dict[str, Any] | None = None) -> Accepted:
    """Derive the re-optimization of ``base_job_id`` and submit it as a new job.

    ``plan``: the solution to re-plan from, when the caller made it (an applied insertion: the
    job's plan with the new work in it, the job running or ended); default: the succeeded job's.
    ``metadata`` is added to the new job's. Raises ``NotFound`` (no such job for this
    client), ``BaseJobNotSucceeded``, or ``InvalidInput`` with pointers into the changes.
    """
    settings = farm.settings
    too_long = time_limit_issues(changes.time_limit, settings.max_time_limit_s, "/time_limit")
    if too_long:
        raise InvalidInput(too_long, "problem")
    problem, solution = base_job(farm, client_id, base_job_id, solved=plan is None)
    solution = plan if plan is not None else solution
    derived = derive(problem, solution, changes, farm.limits)
    metadata = {**(metadata or {}), "reoptimized_from": str(base_job_id)}
    if event_id is not None:
        metadata["event_id"] = event_id
    key = idempotency_key(event_id) if event_id is not None else None
    return submit(farm, client_id, {"problem": derived, "metadata": metadata},
                  idempotency_key=key, request_id=request_id)
