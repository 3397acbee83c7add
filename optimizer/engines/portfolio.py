"""The portfolio run: a plan's steps, each engine's result checked, the best kept.

``run(problem, steps, ...)`` runs the steps of a ``plan`` one after the other, holds every
step's result against the problem (``verify``), keeps the best by ``score`` and streams
improving incumbents; when no step yields a checked solution it falls back to OR-Tools,
which takes every problem. ``optimizer.solve`` runs ``plan(problem, time_limit)`` this way.
"""

from __future__ import annotations

import time

from ..changes import plan_changes
from ..incumbent import Incumbent, OnIncumbent
from ..layout import lay_out
from ..model import Problem, RouteSpec
from ..solution import EngineRun, Solution
from ..stop import Stop
from .plan import Step
from .registry import engine
from .score import objective_value, score
from .verify import run_checked

STREAM_EVERY = 0.25  # seconds between two incumbents decoded and streamed from one step
FALLBACK_S = 1.0  # seconds OR-Tools gets, at least, when every step was rejected (within the time limit)
MIN_STEP_S = 0.05  # a later step with less time left than this is skipped


def warm_start(problem: Problem, solution: Solution) -> Problem:
    """``problem`` with ``solution``'s routes as its initial routes."""
    routes = [RouteSpec(vehicle_id=r.vehicle_id, steps=[
        s.id if s.type == "stop" else f"{s.id}:{s.type}" for s in r.steps
        if s.type in ("stop", "pickup", "delivery")]) for r in solution.routes]
    return problem.model_copy(update={"initial_routes": [r for r in routes if r.steps]})


def run(problem: Problem, steps: tuple[Step, ...], *, time_limit: float, seed: int,
        stop: Stop | None = None, on_incumbent: OnIncumbent | None = None,
        started: float | None = None) -> Solution:
    """Run ``steps`` within ``time_limit`` seconds from ``started`` (default: now). ``stop`` is
    passed to each engine, and asked before each step after the first: a stop skips the steps
    left. What each step gave, or why it was rejected, is in ``solver.runs``."""
    started = time.monotonic() if started is None else started
    end = started + time_limit
    state = _Run(problem, stop, on_incumbent)
    for k, step in enumerate(steps):
        if k and stop is not None and stop():
            break
        left = end - time.monotonic()
        seconds = left if k == len(steps) - 1 else min(step.seconds, left)
        if seconds < MIN_STEP_S and state.best is not None:
            break
        seconds = max(seconds, 0.01)  # a tiny time limit, mostly spent: the first step still runs
        base = warm_start(problem, state.best) if step.warm and state.best is not None else problem
        state.step(step.engine, base, seconds, seed)
    if state.best is None:  # PyVRP gives up early on what it cannot serve: the rest is OR-Tools'
        # at least FALLBACK_S, but never more than the job's own time limit
        state.step("ortools", problem, max(min(FALLBACK_S, time_limit), end - time.monotonic()), seed)
    return state.result(started)


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

    def step(self, name: str, problem: Problem, seconds: float, seed: int) -> None:
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

    def result(self, started: float) -> Solution:
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
