"""Why unassigned work fits nowhere, and the smallest single relaxation that lets it in.

For each unassigned stop or shipment, against the plan as it is (no other work moves):

- it fits somewhere already: an optional task was dropped because serving it costs more
  than its penalty, and a penalty above the cheapest insertion's cost change makes serving it
  cheaper (``drop_penalty``); a mandatory one fits as the plan is (``fits``, at that cost);
- otherwise, for each kind of relaxation, the smallest one that makes one place feasible:
  its time windows widened by N seconds at both ends (``time_window``), a vehicle's shift
  end, ``max_duration``, ``max_distance`` or ``max_stops`` raised, its capacity raised per
  dimension, or skills added to it.

Each place is judged as an insertion is (``insertion.Quoter``); what it misses bounds the
relaxation from below (a capacity, distance or task count exactly; seconds late bound the
seconds a time relaxation needs, since a relaxation of N seconds moves no time by more than
N). Places are tried smallest bound first, each one timed with the relaxation (by bisection
over its size for the time kinds) until no untried bound is below the best size found; the
best is then confirmed by the checker on the relaxed problem (``confirm``). Work is bounded:
at most ``max_tasks`` tasks, within ``budget_s`` seconds; the rest keep no ``fixes``.
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass, replace

from ..model import Problem
from ..solution import Fix, Solution, Unassigned
from ..timeline import fmt
from ..travel import Travel
from .confirm import confirm
from .insertion import NewTask, Quoter
from .plan import Plan, Work
from .profile import Slot
from .schedule import Timed

MAX_TASKS = 200  # unassigned tasks explained per solution
BUDGET_S = 2.0  # seconds for all of them
TIME_KINDS = ("time_window", "shift_end", "max_duration")
# which misses each relaxation can mend (a place is tried when it misses only those)
MENDS = {
    "time_window": {"time_window", "shift", "max_duration"},
    "shift_end": {"shift"},
    "max_duration": {"max_duration"},
    "max_distance": {"max_distance"},
    "max_stops": {"max_stops"},
    "capacity": {"capacity"},
}
HUGE_S = 1e7  # seconds: a time relaxation this large that does not help, none does
DOUBLINGS = 48  # halvings and doublings of a time relaxation's size, at most
PRECISION = 1e-4  # seconds: the bisection's last step


class OutOfTime(Exception):
    """The budget ran out while a task was being explained."""


def explain(problem: Problem, travel: Travel, solution: Solution, *, max_tasks: int = MAX_TASKS,
            budget_s: float = BUDGET_S) -> Solution:
    """``solution`` with ``fixes`` on its first ``max_tasks`` unassigned tasks, as far as
    ``budget_s`` seconds go."""
    deadline = time.monotonic() + budget_s
    explainer = Explainer(Plan(problem, travel, solution), deadline)
    out: list[Unassigned] = []
    for k, entry in enumerate(solution.unassigned):
        fixes = None
        if k < max_tasks and time.monotonic() < deadline:
            try:
                fixes = explainer.fixes(entry)
            except OutOfTime:
                fixes = None
        out.append(entry.model_copy(update={"fixes": fixes}))
    return solution.model_copy(update={"unassigned": out})


@dataclass(frozen=True)
class Found:
    """A relaxation that works: its size, where, and the route it gives."""

    kind: str
    size: float
    slot: Slot
    problem: Problem
    run: Timed
    added: tuple = ()  # capacity per dimension, or skills


class Explainer:
    def __init__(self, plan: Plan, deadline: float):
        self.plan, self.deadline = plan, deadline
        self.quoter = Quoter(plan, limit=1)

    def _in_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise OutOfTime

    def task(self, entry: Unassigned) -> NewTask:
        tasks = self.plan.tasks
        if entry.type == "stop":
            return NewTask(entry.id, "stop", (tasks.of(entry.id),))
        return NewTask(entry.id, "shipment", (tasks.of(f"{entry.id}:pickup"), tasks.of(f"{entry.id}:delivery")))

    def fixes(self, entry: Unassigned) -> list[Fix]:
        task = self.task(entry)
        items = self.plan.problem.stops if entry.type == "stop" else self.plan.problem.shipments
        penalty = next(item.drop_penalty for item in items if item.id == entry.id)
        feasible, tried = [], {kind: [] for kind in (*MENDS, "skills")}
        order = itertools.count()
        for view in self.plan.routes:
            vehicle = self.plan.problem.vehicles[view.v]
            lacking = tuple(sorted(task.skills - frozenset(vehicle.skills)))
            for slot in self.quoter.slots(view, task, skills=False):
                self._in_time()
                if lacking:
                    if slot.feasible:
                        tried["skills"].append((len(lacking), next(order), slot, lacking))
                elif slot.feasible:
                    feasible.append(slot)
                else:
                    self._bounds(slot, tried, order)
        best = self.quoter.cheapest(task, feasible, 1, lambda slot: self._bounds(slot, tried, order))
        if best:
            return [self._fits(task, *best[0], penalty)]
        found = [self._smallest(task, kind, tried[kind]) for kind in (*MENDS, "skills")]
        return [self._fix(task, f) for f in found if f is not None]

    def _bounds(self, slot: Slot, tried: dict, order) -> None:
        kinds = {m.kind for m in slot.misses}
        for kind, mends in MENDS.items():
            if kinds <= mends:
                if kind == "capacity":
                    added = [0] * len(self.plan.problem.vehicles[slot.v].capacity)
                    for m in slot.misses:
                        added[m.dimension] = max(added[m.dimension], math.ceil(m.by))
                    tried[kind].append((sum(added), next(order), slot, tuple(added)))
                else:
                    bound = max(m.by or 0.0 for m in slot.misses)
                    tried[kind].append((bound, next(order), slot, ()))

    # -- the smallest relaxation of one kind -------------------------------------------------

    def _smallest(self, task: NewTask, kind: str, tried: list) -> Found | None:
        best: Found | None = None
        for bound, _, slot, added in sorted(tried, key=lambda t: (t[0], t[1])):
            self._in_time()
            if best is not None and bound >= best.size - 1e-9:
                break
            found = self._exact(task, kind, slot, bound, added)
            if found is not None and (best is None or found.size < best.size):
                best = found
        if best is None or confirm(best.problem, self.plan.travel, best.slot.v, best.run.route):
            return None
        return best

    def _exact(self, task: NewTask, kind: str, slot: Slot, bound: float, added: tuple) -> Found | None:
        """The least size of ``kind`` that makes ``slot`` feasible (at least ``bound``)."""
        attempt = self._try(task, kind, slot, bound, added)
        if attempt is not None or kind not in TIME_KINDS or self._try(task, kind, slot, HUGE_S, added) is None:
            return attempt
        low, high = bound, max(2 * bound, bound + 60.0)
        for _ in range(DOUBLINGS):
            self._in_time()
            attempt = self._try(task, kind, slot, high, added)
            if attempt is not None:
                break
            low, high = high, 2 * high
        else:
            return None
        while high - low > PRECISION:
            self._in_time()
            middle = (low + high) / 2
            better = self._try(task, kind, slot, middle, added)
            if better is None:
                low = middle
            else:
                attempt, high = better, middle
        return attempt

    def _try(self, task: NewTask, kind: str, slot: Slot, size: float, added: tuple) -> Found | None:
        problem, work = self.relaxed(task, kind, slot.v, size, added)
        run = self.quoter.timed(problem, self.plan.routes[slot.v], work, slot.positions)
        return Found(kind, size, slot, problem, run, added) if run.feasible else None

    def relaxed(self, task: NewTask, kind: str, v: int, size: float, added: tuple) -> tuple[Problem, tuple[Work, ...]]:
        """The problem with the relaxation, and the task's work in it."""
        problem = self.plan.problem
        if kind == "time_window":
            return _widened(problem, task, size)
        vehicle = problem.vehicles[v]
        if kind == "shift_end":
            lo, hi = vehicle.time_window
            change = {"time_window": (lo, hi + size)}
        elif kind == "capacity":
            change = {"capacity": [c + a for c, a in zip(vehicle.capacity, added, strict=True)]}
        elif kind == "skills":
            change = {"skills": [*vehicle.skills, *added]}
        elif kind == "max_stops":
            change = {kind: vehicle.max_stops + math.ceil(size)}
        else:
            change = {kind: getattr(vehicle, kind) + size}
        vehicles = list(problem.vehicles)
        vehicles[v] = vehicle.model_copy(update=change)
        return problem.model_copy(update={"vehicles": vehicles}), task.work

    # -- what is reported --------------------------------------------------------------------

    def _fits(self, task: NewTask, slot: Slot, run: Timed, penalty: float | None) -> Fix:
        view = self.plan.routes[slot.v]
        change = self.quoter.value(view, run.route) - self.quoter.old_value(view)
        vehicle_id = self.plan.problem.vehicles[slot.v].id
        after, delivery_after = self._where(task, slot)
        if penalty is None or penalty > change:
            return Fix(kind="fits", vehicle_id=vehicle_id, by=round(change, 6), after=after,
                       delivery_after=delivery_after,
                       message=f"fits as the plan is on {vehicle_id} after {after}, changing the objective "
                               f"by {fmt(round(change, 6))}")
        return Fix(kind="drop_penalty", vehicle_id=vehicle_id, by=round(change, 6), after=after,
                   delivery_after=delivery_after,
                   message=f"a drop_penalty above {fmt(round(change, 6))} (now {fmt(penalty)}) makes serving "
                           f"it on {vehicle_id} after {after} cheaper than dropping it")

    def _where(self, task: NewTask, slot: Slot) -> tuple[str, str | None]:
        afters = self.quoter.afters(task, slot)
        return afters[0], (afters[1] if len(afters) > 1 else None)

    def _fix(self, task: NewTask, found: Found) -> Fix:
        vehicle_id = self.plan.problem.vehicles[found.slot.v].id
        after, delivery_after = self._where(task, found.slot)
        where = f"on {vehicle_id} after {after}"
        size = round(found.size, 4)
        kind = found.kind
        common = {"kind": kind, "after": after, "delivery_after": delivery_after}
        if kind == "time_window":
            return Fix(**common, vehicle_id=vehicle_id, by=size,
                       message=f"widen its time windows by {fmt(size)} s at both ends: it fits {where}")
        if kind == "capacity":
            return Fix(**common, vehicle_id=vehicle_id, capacity=list(found.added),
                       message=f"add {list(found.added)} to {vehicle_id}'s capacity: it fits after {after}")
        if kind == "skills":
            return Fix(**common, vehicle_id=vehicle_id, skills=list(found.added),
                       message=f"give {vehicle_id} the skills {list(found.added)}: it fits after {after}")
        unit = {"max_distance": "m", "max_stops": "task(s)"}.get(kind, "s")
        name = "shift end" if kind == "shift_end" else kind
        if kind == "max_stops":
            size = math.ceil(found.size)
        return Fix(**common, vehicle_id=vehicle_id, by=size,
                   message=f"extend {vehicle_id}'s {name} by {fmt(size)} {unit}: it fits after {after}")


def _widened(problem: Problem, task: NewTask, size: float) -> tuple[Problem, tuple[Work, ...]]:
    def widen(windows):
        return [(max(0.0, lo - size), hi + size) for lo, hi in windows]

    if task.type == "stop":
        stops = list(problem.stops)
        i = task.work[0].index
        stops[i] = stops[i].model_copy(update={"time_windows": widen(stops[i].time_windows)})
        grown = problem.model_copy(update={"stops": stops})
    else:
        shipments = list(problem.shipments)
        i = task.work[0].index
        s = shipments[i]
        shipments[i] = s.model_copy(update={
            "pickup": s.pickup.model_copy(update={"time_windows": widen(s.pickup.time_windows)}),
            "delivery": s.delivery.model_copy(update={"time_windows": widen(s.delivery.time_windows)})})
        grown = problem.model_copy(update={"shipments": shipments})
    return grown, tuple(replace(w, windows=tuple(sorted(widen(w.windows)))) for w in task.work)
