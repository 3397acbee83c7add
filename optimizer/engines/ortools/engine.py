"""The OR-Tools engine: today's ``optimizer.solve``, behind the engine interface."""

from __future__ import annotations

from ...incumbent import OnIncumbent
from ...model import Problem
from ...solution import Solution
from ...stop import Stop
from ..base import missing_features


class OrToolsEngine:
    name = "ortools"

    @property
    def version(self) -> str:
        from ortools import __version__

        return __version__

    def unsupported(self, problem: Problem) -> list[str]:
        return missing_features(self.name, problem)

    def solve(self, problem: Problem, *, time_limit: float | None = None, seed: int | None = None,
              stop: Stop | None = None, on_incumbent: OnIncumbent | None = None,
              started: float | None = None) -> Solution:
        from .solve import solve

        return solve(problem, time_limit=time_limit, seed=seed, stop=stop, on_incumbent=on_incumbent,
                     started=started)
