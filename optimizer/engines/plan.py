"""``auto``: which engines to run, for how long, and from what; and the run itself.

``plan(problem, time_limit)`` is pure: a sequence of ``Step`` (engine, seconds, warm: start
from the best checked solution so far), among the engines that model the problem exactly.
``solve_auto`` runs a plan, checks every step's result (``verify``), keeps the best by
``score`` and streams improving incumbents; when no step yields a checked solution it falls
back to OR-Tools, which takes every problem.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from ..changes import plan_changes
from ..features import present
from ..incumbent import Incumbent, OnIncumbent
from ..layout import lay_out
from ..model import Problem, RouteSpec
from ..solution import EngineRun, Solution
from ..stop import Stop
from .ortools.decompose import DECOMPOSE_ABOVE
from .registry import engine
from .score import objective_value, score
from .verify import Rejection, run_checked

FIRST_S = 1.0  # seconds, at most, of a quick first engine
FIRST_SHARE = 0.2  # of the time limit, at most, for it
STREAM_EVERY = 0.25  # seconds between two incumbents decoded and streamed from one step
FALLBACK_S = 1.0  # seconds OR-Tools gets, at least, when every step was rejected (within the time limit)
MIN_STEP_S = 0.05  # a later step with less time left than this is skipped


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


def warm_start(problem: Problem, solution: Solution) -> Problem:
    """``problem`` with ``solution``'s routes as its initial routes."""
    routes = [RouteSpec(vehicle_id=r.vehicle_id, steps=[
        s.id if s.type == "stop" else f"{s.id}:{s.type}" for s in r.steps
        if s.type in ("stop", "pickup", "delivery")]) for r in solution.routes]
    return problem.model_copy(update={"initial_routes": [r for r in routes if r.steps]})


def solve_auto(problem: Problem, *, time_limit: float, seed: int = 0, stop: Stop | None = None,
               on_incumbent: OnIncumbent | None = None, started: float | None = None,
               steps: tuple[Step, ...] | None = None,
               rejected: list[Rejection] | None = None) -> Solution:
    """Run ``steps`` (default: ``plan``) within ``time_limit``; ``rejected`` collects the
    steps whose result failed the checker or that found nothing. ``stop`` is passed to each
    engine, and asked before each step after the first: a stop skips the steps left."""
    started = time.monotonic() if started is None else started
    end = started + time_limit
    steps = plan(problem, time_limit) if steps is None else steps
    rejected = [] if rejected is None else rejected
    run = _Run(problem, stop, on_incumbent)
    for k, step in enumerate(steps):
        if k and stop is not None and stop():
            break
        left = end - time.monotonic()
        seconds = left if k == len(steps) - 1 else min(step.seconds, left)
        if seconds < MIN_STEP_S and run.best is not None:
            break
        seconds = max(seconds, 0.01)  # a tiny time limit, mostly spent: the first step still runs
        base = warm_start(problem, run.best) if step.warm and run.best is not None else problem
        run.step(step.engine, base, seconds, seed, rejected)
    if run.best is None:  # PyVRP gives up early on what it cannot serve: the rest is OR-Tools'
        # at least FALLBACK_S, but never more than the job's own time limit
        run.step("ortools", problem, max(min(FALLBACK_S, time_limit), end - time.monotonic()), seed, rejected)
    return run.result(started, [s.engine for s in steps])


class _Run:
    def __init__(self, problem: Problem, stop: Stop | None, on_incumbent: OnIncumbent | None):
        self.problem, self.stop, self.on_incumbent = problem, stop, on_incumbent
        self.best: Solution | None = None
        self.nothing: Solution | None = None  # the last "no solution" answer (OR-Tools' explains why)
        self.used: list[str] = []
        self.runs: list[EngineRun] = []
        self.streamed = None  # the score of the last incumbent streamed

    def offer(self, solution: Solution) -> bool:
        if self.best is not None and score(self.problem, solution) >= score(self.problem, self.best):
            return False
        self.best = solution
        return True

    def step(self, name: str, problem: Problem, seconds: float, seed: int, rejected: list) -> None:
        began = time.monotonic()
        last = [0.0]

        def forward(found: Incumbent) -> None:
            now = time.monotonic()
            if self.on_incumbent is None or now - last[0] < STREAM_EVERY:
                return
            last[0] = now
            found_score = score(self.problem, found.solution())
            if self.best is None or found_score < score(self.problem, self.best):
                self.streamed = found_score
                self.on_incumbent(found)

        chosen = engine(name)
        checked = run_checked(chosen, problem, time_limit=seconds, seed=seed, stop=self.stop,
                              started=began, on_incumbent=forward, against=self.problem)
        if checked.solution is None:
            self.nothing = checked.nothing or self.nothing
            rejected.append(checked.rejection)
            self.runs.append(EngineRun(engine=name, seconds=round(seconds, 3), rejected=checked.rejection.reason))
            return
        self.runs.append(EngineRun(engine=checked.solution.solver.engine, seconds=round(seconds, 3),
                                   objective=round(objective_value(self.problem, checked.solution), 6)))
        label = checked.solution.solver.engine
        if label not in self.used:
            self.used.append(label)
        if self.offer(checked.solution) and self.on_incumbent is not None:
            solution = checked.solution
            final_score = score(self.problem, solution)
            if self.streamed is not None and final_score >= self.streamed:
                return  # the step's result is the incumbent it streamed last
            self.streamed = final_score
            self.on_incumbent(Incumbent(solution.solver.objective or 0, solution.solver.wall_time,
                                        lambda: solution, name))

    def result(self, started: float, planned: list[str]) -> Solution:
        best = self.best
        if best is None:  # no engine found one (locked steps that cannot hold, say): say so
            if self.nothing is None:
                raise RuntimeError("no engine returned a solution or a reason")
            return self.nothing.model_copy(update={"solver": self.nothing.solver.model_copy(update={
                "engine": "auto (" + " + ".join(r.engine for r in self.runs) + ")", "runs": self.runs})})
        changes = None
        if self.problem.initial_routes:  # against the original problem's plan, not a warm start's
            layout = lay_out(self.problem)
            routes = [[] for _ in self.problem.vehicles]
            index = {v.id: i for i, v in enumerate(self.problem.vehicles)}
            for r in best.routes:
                routes[index[r.vehicle_id]] = [layout.step_node[s.id if s.type == "stop" else f"{s.id}:{s.type}"]
                                               for s in r.steps if s.type in ("stop", "pickup", "delivery")]
            changes = plan_changes(layout, routes)
        solver = best.solver.model_copy(update={
            "engine": "auto (" + " + ".join(self.used) + ")",
            "wall_time": round(time.monotonic() - started, 3),
            "runs": self.runs,
        })
        return best.model_copy(update={"solver": solver, "changes": changes})
