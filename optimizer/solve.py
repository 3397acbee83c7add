"""``solve``: the optimizer's one entry point for finding routes.

It runs the engine portfolio (``optimizer.engines``): the steps ``plan`` chooses for the
problem (``options.engine`` names one engine; ``auto``, the default, lets the plan choose by
the problem's features and size), each engine's result held against the problem by the
checker, the best kept, improving solutions streamed; OR-Tools answers when no step gives a
checked solution.
"""

from __future__ import annotations

import time

from .engines.plan import plan
from .engines.portfolio import run
from .incumbent import OnIncumbent
from .model import Problem
from .solution import Solution
from .stop import Stop


def solve(
    problem: Problem,
    *,
    time_limit: float | None = None,
    seed: int | None = None,
    stop: Stop | None = None,
    on_incumbent: OnIncumbent | None = None,
    started: float | None = None,
) -> Solution:
    """Find routes for ``problem`` within ``time_limit`` seconds, searching with ``seed``
    (both default to the problem's options).

    ``on_incumbent`` is called with every improving solution (an ``Incumbent``). ``started``
    is the ``time.monotonic()`` instant the time limit counts from (default: now), so that a
    caller who spent time before the call (starting a process, say) keeps to its own
    deadline. ``stop`` (a ``Stop``) is asked while the search runs and ends it with the best
    solution so far when it returns true. Mandatory work that cannot be served is reported
    unassigned with a reason (status ``infeasible``), never as an exception; the solution's
    ``solver.runs`` says what each engine that ran gave, or why its result was rejected.
    """
    started = time.monotonic() if started is None else started
    time_limit = problem.options.time_limit if time_limit is None else time_limit
    seed = problem.options.seed if seed is None else seed
    return run(problem, plan(problem, time_limit), time_limit=time_limit, seed=seed, stop=stop,
               on_incumbent=on_incumbent, started=started)
