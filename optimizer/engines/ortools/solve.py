"""``solve``: the optimizer's one entry point for finding routes."""

from __future__ import annotations

import time
from collections.abc import Callable

from ortools import __version__ as ortools_version

from ...assemble import assemble
from ...layout import Layout, lay_out
from ...model import Problem
from ...solution import Solution
from . import decompose
from .routing import build
from .search import Best, StopCheck, run

ENGINE = f"or-tools {ortools_version}"
RESERVE = 0.02  # share of the time limit kept for reading results back
MIN_SEARCH = 0.05  # seconds: the search always gets at least this long


class Incumbent:
    """An improving solution, handed to ``on_incumbent`` while the search runs.

    ``objective`` and ``elapsed`` are read at once; ``solution()`` decodes the routes (a few
    milliseconds per thousand stops), so a caller that receives many improvements can decode
    only some of them. Called later, ``solution()`` gives the best solution at that moment.
    """

    def __init__(self, layout: Layout, best: Best, engine: str):
        self._layout, self._best, self._engine = layout, best, engine

    @property
    def objective(self) -> int:
        return self._best.objective

    @property
    def elapsed(self) -> float:
        """Seconds from the solve's start to the moment this solution was found."""
        return self._best.elapsed

    def solution(self) -> Solution:
        outcome = self._best.outcome()
        return assemble(self._layout, outcome, time.monotonic() - self._best.started, self._engine)


def solve(
    problem: Problem,
    *,
    time_limit: float | None = None,
    seed: int | None = None,
    stop: StopCheck | None = None,
    on_incumbent: Callable[[Incumbent], None] | None = None,
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
        return decompose.solve(layout, time_limit=limit, seed=seed if seed is not None else problem.options.seed,
                               started=started, engine=ENGINE, on_incumbent=on_incumbent,
                               region_solver=lambda sub: solve(sub))
    model = build(layout)
    spent = time.monotonic() - started
    budget = max(MIN_SEARCH, limit - spent - min(0.5, 0.05 + RESERVE * limit))

    def improved(best: Best) -> None:
        if on_incumbent is not None:
            on_incumbent(Incumbent(layout, best, ENGINE))

    outcome = run(
        model,
        time_limit=budget,
        seed=seed if seed is not None else problem.options.seed,
        stop=stop,
        on_improvement=improved if on_incumbent is not None else None,
        started=started,
    )
    return assemble(layout, outcome, time.monotonic() - started, ENGINE)
