"""The OR-Tools engine: OR-Tools' routing solver on the whole problem (``routing`` builds the
model, ``search`` runs it), or OR-Tools' search region by region when the problem is large
(``decompose``)."""

from __future__ import annotations

import time

from ortools import __version__ as ortools_version

from ...deadline import search_end, seconds_left
from ...incumbent import Incumbent, OnIncumbent
from ...layout import lay_out
from ...model import Problem
from ...solution import Solution
from ...stop import Stop
from ..base import finish, missing_features
from . import decompose
from .routing import build
from .search import Best, run

LABEL = f"or-tools {ortools_version}"  # what ``solver.engine`` says


class OrToolsEngine:
    name = "ortools"
    version = ortools_version

    def unsupported(self, problem: Problem) -> list[str]:
        return missing_features(self.name, problem)

    def solve(self, problem: Problem, *, time_limit: float | None = None, seed: int | None = None,
              stop: Stop | None = None, on_incumbent: OnIncumbent | None = None,
              started: float | None = None) -> Solution:
        """Routes for ``problem`` within ``time_limit`` seconds from ``started``.

        ``stop`` is polled during the search and ends it with the best solution so far; a
        stoppable search is guided local search, since OR-Tools' iterated local search cannot
        be interrupted (run that one in a process you can end instead), and is never cut in
        regions. Mandatory stops that cannot be served are reported as unassigned with a reason
        (status ``infeasible``), never as an exception.
        """
        started = time.monotonic() if started is None else started
        limit = problem.options.time_limit if time_limit is None else time_limit
        seed = problem.options.seed if seed is None else seed
        layout = lay_out(problem)
        if decompose.applicable(layout, stoppable=stop is not None):
            def region_improved(plan: decompose.Plan) -> None:
                elapsed, objective = plan.improvements[-1]
                on_incumbent(Incumbent(objective, elapsed, plan.solution, self.name))

            return decompose.solve(layout, time_limit=limit, seed=seed, started=started, engine=LABEL,
                                   on_improvement=region_improved if on_incumbent is not None else None,
                                   region_solver=lambda sub: self.solve(sub))
        model = build(layout)
        budget = seconds_left(search_end(limit, started))

        def improved(best: Best) -> None:
            on_incumbent(Incumbent(best.objective, best.elapsed,
                                   lambda: finish(layout, best.outcome(), started, LABEL), self.name))

        outcome = run(model, time_limit=budget, seed=seed, stop=stop,
                      on_improvement=improved if on_incumbent is not None else None, started=started)
        return finish(layout, outcome, started, LABEL)
