"""The plan a decision reads: a job's problem with its travel, and its solution or incumbent.

A succeeded (or ended) job's solution is the one stored with it; a running job's is its best
solution so far, as the worker last put it in the cache (``Cache.get_incumbent``). The job's
problem never changes, and neither does an ended job's solution: ``Plans`` keeps the last
few parsed (their matrices read as arrays, ``jobs.problems``), within a byte budget, with their
travel (a coordinate problem's priced pair by pair as routes ask,
``optimizer.decisions.lazily``: a 1,000-place great-circle matrix takes tens of milliseconds,
and quotes need a few thousand of its million cells), and the solution read for quotes
(``optimizer.decisions.Plan``, whose routes are read once for every quote), for each API
process. Every read still asks the shard for the
job's status, so a job deleted or ended since is seen at once.
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field

from optimizer import Problem, Solution
from optimizer.decisions import Plan, lazily
from optimizer.travel import Travel

from ..contract.statuses import TERMINAL
from ..errors import Conflict
from ..jobs.problems import COLUMNS, problem_of
from ..jobs.retention import absent
from ..jobs.services import Services

PLANS_PER_JOB = 4  # values of ``at`` whose read of an ended job's solution is kept


class NoPlan(Conflict):
    """The job has no plan to decide on yet (queued, or running without an incumbent), or
    ended without one."""

    def __init__(self, job_id: uuid.UUID, status: str, why: str):
        super().__init__(f"job {job_id} is {status} {why}", "job-without-plan", job_status=status)


class PricedOnRoads(Conflict):
    def __init__(self, job_id: uuid.UUID):
        super().__init__(f"job {job_id} is priced on roads: decisions need its new places priced the same "
                         "way, which only a solve does", "job-priced-on-roads")


@dataclass(frozen=True)
class _Kept:
    problem: Problem  # its matrices as arrays (``jobs.problems``), shared with its travel
    travel: Travel
    solution_data: dict | None  # an ended job's
    solution: Solution | None
    # an ended job's solution read for quotes (optimizer.decisions.Plan), by ``at``
    plans: OrderedDict = field(default_factory=OrderedDict)


@dataclass(frozen=True)
class JobPlan:
    job_id: uuid.UUID
    status: str
    source: str  # "solution" or "incumbent"
    problem: Problem
    travel: Travel
    solution: Solution
    solution_data: dict
    kept: _Kept | None = None  # what is kept of an ended job


class Plans:
    """Reads jobs' plans, keeping the last ``size`` jobs' parsed problems (and ended solutions)."""

    def __init__(self, size: int, budget: int):
        self.size = size
        self.budget = budget  # bytes of matrices the kept jobs may hold together
        self._kept: OrderedDict[tuple[str, uuid.UUID], _Kept] = OrderedDict()
        self._lock = threading.Lock()

    def read(self, farm: Services, client_id: str, job_id: uuid.UUID) -> JobPlan:
        """Raises ``NotFound``/``Gone``, ``NoPlan`` or ``PricedOnRoads``."""
        status, has_solution = self._status(farm, client_id, job_id)
        ended = status in TERMINAL
        if status == "queued" or (ended and not has_solution):
            raise NoPlan(job_id, status, "without a solution" if ended else "(not solved yet)")
        key = (client_id, job_id)
        with self._lock:
            kept = self._kept.get(key)
            if kept is not None:
                self._kept.move_to_end(key)
        if kept is None or (ended and kept.solution is None):
            kept = self._load(farm, client_id, job_id, ended)
        if ended:
            return JobPlan(job_id, status, "solution", kept.problem, kept.travel,
                           kept.solution, kept.solution_data, kept)
        incumbent = farm.cache.get_incumbent(str(job_id))
        if incumbent is None:
            raise NoPlan(job_id, status, "and has no solution yet (retry in a moment)")
        return JobPlan(job_id, status, "incumbent", kept.problem, kept.travel,
                       Solution.model_validate(incumbent), incumbent)

    def plan(self, job: JobPlan, at: float | None) -> Plan:
        """The job's plan read for quotes with ``at``: kept for an ended job (the routes read
        once serve every quote on it), read anew for a running job's incumbent."""
        if job.kept is None:
            return Plan(job.problem, job.travel, job.solution, at)
        with self._lock:
            found = job.kept.plans.get(at)
        if found is None:
            found = Plan(job.problem, job.travel, job.solution, at)
            with self._lock:
                job.kept.plans[at] = found
                while len(job.kept.plans) > PLANS_PER_JOB:
                    job.kept.plans.popitem(last=False)
        return found

    def _status(self, farm: Services, client_id: str, job_id: uuid.UUID) -> tuple[str, bool]:
        def read(conn):
            return conn.execute("SELECT status, solution IS NOT NULL FROM jobs WHERE id = %s AND client_id = %s",
                                (job_id, client_id)).fetchone()

        row = farm.store.on_shard(client_id, read)
        if row is None:
            raise absent(farm, client_id, "job", job_id)
        return row[0], row[1]

    def _load(self, farm: Services, client_id: str, job_id: uuid.UUID, ended: bool) -> _Kept:
        def read(conn):
            solution = "solution" if ended else "NULL"
            return conn.execute(f"SELECT {solution}, {COLUMNS} FROM jobs WHERE id = %s AND client_id = %s",
                                (job_id, client_id)).fetchone()

        row = farm.store.on_shard(client_id, read)
        if row is None:
            raise absent(farm, client_id, "job", job_id)
        solution_data, *stored = row
        problem = problem_of(job_id, *stored)
        if problem.travel is not None:
            raise PricedOnRoads(job_id)
        solution = Solution.model_validate(solution_data) if solution_data is not None else None
        kept = _Kept(problem, lazily(problem), solution_data, solution)
        self._keep((client_id, job_id), kept)
        return kept

    def _keep(self, key: tuple[str, uuid.UUID], kept: _Kept) -> None:
        """Keep ``kept`` among the last ``size`` jobs read, within ``budget`` bytes of travel
        matrices (a job larger than the budget alone is not kept)."""
        size = _bytes(kept)
        if not self.size or size > self.budget:
            return
        with self._lock:
            self._kept[key] = kept
            self._kept.move_to_end(key)
            while len(self._kept) > self.size or sum(map(_bytes, self._kept.values())) > self.budget:
                self._kept.popitem(last=False)


def _bytes(kept: _Kept) -> int:
    """The memory of a kept job's matrices (its problem's, which its travel shares)."""
    return kept.travel.distances.nbytes + kept.travel.durations.nbytes
