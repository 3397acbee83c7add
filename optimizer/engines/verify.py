"""Trust but verify: an engine's solution is returned only when the checker finds no fault.

``run_checked`` runs an engine and holds its solution against the full problem with
``optimizer.check``. A violation, an engine that refuses the problem or fails, is reported
as a ``Rejection`` (engine, short problem hash, what went wrong) instead of a solution, so
that the caller falls back to another engine; ``rejections`` reads them back from a
portfolio solve's ``solver.runs``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from ..check import Violation, check
from ..incumbent import OnIncumbent
from ..model import Problem
from ..solution import Solution
from ..stop import Stop
from .base import Engine


def problem_hash(problem: Problem) -> str:
    """12 hex digits identifying the problem (its canonical JSON)."""
    return hashlib.sha256(problem.model_dump_json().encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Rejection:
    engine: str
    problem: str  # problem_hash
    reason: str
    violations: tuple[Violation, ...] = ()

    def __str__(self) -> str:
        return f"{self.engine} on problem {self.problem}: {self.reason}"


@dataclass(frozen=True)
class Checked:
    solution: Solution | None  # none when rejected
    rejection: Rejection | None = None
    nothing: Solution | None = None  # the engine's answer when it found no solution


def run_checked(engine: Engine, problem: Problem, *, time_limit: float | None = None,
                seed: int | None = None, stop: Stop | None = None,
                on_incumbent: OnIncumbent | None = None, started: float | None = None,
                against: Problem | None = None) -> Checked:
    """Solve with ``engine`` and check against ``against`` (default: ``problem`` itself; a
    warm-started copy of a problem is checked against the original)."""
    full = against or problem
    refused = engine.unsupported(problem)
    if refused:
        return Checked(None, Rejection(engine.name, problem_hash(full), "unsupported: " + ", ".join(refused)))
    try:
        solution = engine.solve(problem, time_limit=time_limit, seed=seed, stop=stop,
                                on_incumbent=on_incumbent, started=started)
    except MemoryError:
        raise  # no other engine would fit either: the caller reports the memory limit
    except Exception as exc:  # an engine's failure must not end the solve: the caller falls back
        return Checked(None, Rejection(engine.name, problem_hash(full), f"failed: {type(exc).__name__}: {exc}"))
    if solution.status == "no_solution":
        return Checked(None, Rejection(engine.name, problem_hash(full),
                                       f"no solution: {solution.solver.message or 'none found'}"), solution)
    violations = check(full, solution)
    if violations:
        more = f" (+{len(violations) - 1} more)" if len(violations) > 1 else ""
        return Checked(None, Rejection(engine.name, problem_hash(full), f"{violations[0]}{more}",
                                       tuple(violations)))
    return Checked(solution)


def rejections(problem: Problem, solution: Solution) -> list[Rejection]:
    """The rejected steps of a portfolio solve of ``problem``, read from ``solution.solver.runs``
    (a rejection's violations are not kept there: its reason names the first)."""
    rejected = [run for run in solution.solver.runs or [] if run.rejected]
    key = problem_hash(problem) if rejected else ""
    return [Rejection(run.engine, key, run.rejected) for run in rejected]
