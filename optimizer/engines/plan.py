"""``plan``: which engines to run, for how long, and from what.

``plan(problem, time_limit)`` is pure: a sequence of ``Step`` (engine, seconds, warm: start
from the best checked solution so far), among the engines that model the problem exactly;
``portfolio.run`` runs it. ``STRATEGIES`` are the named plans ``bench/engines.py`` measures.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..features import present
from ..model import Problem
from .ortools.decompose import DECOMPOSE_ABOVE
from .registry import engine

FIRST_S = 1.0  # seconds, at most, of a quick first engine
FIRST_SHARE = 0.2  # of the time limit, at most, for it


@dataclass(frozen=True)
class Step:
    engine: str
    seconds: float
    warm: bool = False  # start from the best solution so far


def _first(time_limit: float) -> float:
    return min(FIRST_S, FIRST_SHARE * time_limit)


# named strategies, measured by bench/engines.py: time limit -> steps
STRATEGIES: dict[str, Callable[[float], tuple[Step, ...]]] = {
    "ortools": lambda t: (Step("ortools", t),),
    "pyvrp": lambda t: (Step("pyvrp", t),),
    "vroom": lambda t: (Step("vroom", t),),
    "vroom>pyvrp": lambda t: (Step("vroom", _first(t)), Step("pyvrp", t - _first(t), True)),
    "vroom>ortools": lambda t: (Step("vroom", _first(t)), Step("ortools", t - _first(t), True)),
}


def accepted(problem: Problem) -> set[str]:
    return {name for name in ("ortools", "pyvrp", "vroom") if not engine(name).unsupported(problem)}


def plan(problem: Problem, time_limit: float, takes: set[str] | None = None) -> tuple[Step, ...]:
    """The steps ``auto`` runs for ``problem`` (``takes``: the engines that accept it); an
    engine named in ``options.engine`` runs alone (OR-Tools takes over if it fails).

    From ``bench/engines.py`` (Solomon and CVRPLIB, 5 s and 30 s, see the README): PyVRP
    alone had the lowest mean gap of every engine and strategy on both families, and
    starting it from a quick VROOM solution made it no better. Without PyVRP, OR-Tools
    was ahead of VROOM where there are time windows (Solomon) and VROOM ahead of OR-Tools
    without them (CVRPLIB). On large problems (``bench/scale.py``'s VRPTW of 1,000 to 5,000
    stops) PyVRP was ahead of OR-Tools' region search at every size and time measured; where
    PyVRP refuses a problem of ``DECOMPOSE_ABOVE`` tasks or more, OR-Tools' region search
    takes it.
    """
    if problem.options.engine != "auto":
        return STRATEGIES[problem.options.engine](time_limit)
    takes = accepted(problem) if takes is None else takes
    windows = "time_windows" in present(problem)
    if "pyvrp" in takes:
        name = "pyvrp"
    elif len(problem.stops) + 2 * len(problem.shipments) >= DECOMPOSE_ABOVE:
        name = "ortools"
    elif "vroom" in takes and not windows:
        name = "vroom"
    else:
        name = "ortools"
    return STRATEGIES[name](time_limit)
