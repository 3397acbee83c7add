"""``solve``: the optimizer's one entry point for finding routes."""

from __future__ import annotations

import time

from ortools import __version__ as ortools_version

from .assemble import assemble
from .layout import lay_out
from .model import Problem
from .routing import build
from .search import Progress, StopCheck, run
from .solution import Solution

ENGINE = f"or-tools {ortools_version}"
RESERVE = 0.02  # share of the time limit kept for reading results back
MIN_SEARCH = 0.05  # seconds: the search always gets at least this long


def solve(
    problem: Problem,
    *,
    time_limit: float | None = None,
    seed: int | None = None,
    stop: StopCheck | None = None,
    progress: Progress | None = None,
) -> Solution:
    """Find routes for ``problem`` within ``time_limit`` seconds (default: its options).

    ``stop`` is polled during the search; when it returns true the search ends and the
    best solution so far is returned. ``progress(elapsed_seconds, objective)`` is called
    on every improving solution. Mandatory stops that cannot be served are reported as
    unassigned with a reason (status ``infeasible``), never as an exception.
    """
    started = time.monotonic()
    limit = time_limit if time_limit is not None else problem.options.time_limit
    layout = lay_out(problem)
    model = build(layout)
    spent = time.monotonic() - started
    budget = max(MIN_SEARCH, limit - spent - min(0.5, 0.05 + RESERVE * limit))
    outcome = run(
        model,
        time_limit=budget,
        seed=seed if seed is not None else problem.options.seed,
        stop=stop,
        progress=progress,
        started=started,
    )
    return assemble(layout, outcome, time.monotonic() - started, ENGINE)

