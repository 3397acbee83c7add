"""``solve``: the optimizer's one entry point for finding routes."""

from __future__ import annotations

import time

from ortools import __version__ as ortools_version

from ...assemble import assemble
from ...deadline import search_end, seconds_left
from ...incumbent import Incumbent, OnIncumbent
from ...layout import lay_out
from ...model import Problem
from ...solution import Solution
from ...stop import Stop
from . import decompose
from .routing import build
from .search import Best, run

NAME = "ortools"  # the engine's name (``Incumbent.engine``)
ENGINE = f"or-tools {ortools_version}"  # its label (``solver.engine``)


def solve(
    problem: Problem,
    *,
    time_limit: float | None = None,
    seed: int | None = None,
    stop: Stop | None = None,
    on_incumbent: OnIncumbent | None = None,
    started: float | None = None,
) -> Solution:
    """Find routes for ``problem`` within ``time_limit`` seconds (default: its options).

    ``on_incumbent`` is called with every improving solution. ``started`` is the
    ``time.monotonic()`` instant the time limit counts from (default: now), so that a caller
    who spent time before the call (starting a process, say) keeps to its own deadline.
    ``stop`` is polled during the search, and ends it with the best solution so far when it
    returns true; a stoppable search is guided local search, since OR-Tools' iterated local
    search cannot be interrupted (run that one in a process you can end instead). Mandatory
    stops that cannot be served are reported as unassigned with a reason (status
    ``infeasible``), never as an exception.
    """
    started = time.monotonic() if started is None else started
    limit = time_limit if time_limit is not None else problem.options.time_limit
    layout = lay_out(problem)
    if decompose.applicable(layout, stoppable=stop is not None):
        def region_improved(plan: decompose.Plan) -> None:
            elapsed, objective = plan.improvements[-1]
            on_incumbent(Incumbent(objective, elapsed, plan.solution, NAME))

        return decompose.solve(layout, time_limit=limit, seed=seed if seed is not None else problem.options.seed,
                               started=started, engine=ENGINE,
                               on_improvement=region_improved if on_incumbent is not None else None,
                               region_solver=lambda sub: solve(sub))
    model = build(layout)
    budget = seconds_left(search_end(limit, started))

    def improved(best: Best) -> None:
        def decode() -> Solution:
            return assemble(layout, best.outcome(), time.monotonic() - started, ENGINE)

        on_incumbent(Incumbent(best.objective, best.elapsed, decode, NAME))

    outcome = run(
        model,
        time_limit=budget,
        seed=seed if seed is not None else problem.options.seed,
        stop=stop,
        on_improvement=improved if on_incumbent is not None else None,
        started=started,
    )
    return assemble(layout, outcome, time.monotonic() - started, ENGINE)
