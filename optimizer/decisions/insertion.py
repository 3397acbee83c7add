"""Insertion quotes: where new work fits into a plan, what it costs there, what room is left.

Each new stop (or shipment: pickup, then delivery on the same vehicle) is quoted alone
against the plan as it is. Every place it could take is judged: in O(1) each on a route read
once (``profile``), or, for vehicles with breaks, by timing the route with it
(``schedule.timed``). The places are taken cheapest first; a place whose cost is only bounded
below is timed exactly and put back with its cost. Each one taken is timed as the quote
leaves it and confirmed by the checker (``confirm``) before it is returned, so applying a
quote (``Plan.with_route`` with its route) gives a plan the checker accepts whose objective
moves by exactly the quoted total. Nothing is placed before a ``locked`` step or a step that
started before ``at`` (``Plan``). When no place is feasible, the vehicles that came closest
say what fails and by how much.
"""

from __future__ import annotations

import heapq
import itertools
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass

from ..errors import InvalidProblem, Issue
from ..model import Problem, Shipment, Stop
from ..solution import Route, Solution
from ..travel import Travel
from .answers import Closest, Insertion, TaskQuote
from .confirm import confirm
from .costs import Windows, route_costs
from .misses import Miss, worst
from .plan import Plan, RouteView, Tasks, Work
from .profile import Profile, Slot
from .room import insertion, shortfall
from .schedule import Timed, timed
from .work import extend

DEFAULT_LIMIT = 5
CLOSEST = 3  # vehicles described when nothing fits
# what one unit of shortfall weighs when ranking the vehicles that came closest
WEIGHT = {"time_window": 1 / 600, "shift": 1 / 600, "break": 1 / 600, "max_duration": 1 / 600,
          "max_distance": 1 / 5000, "max_stops": 1.0, "skills": 1.0}


@dataclass(frozen=True)
class NewTask:
    id: str
    type: str  # stop | shipment
    work: tuple[Work, ...]  # the stop, or the pickup and the delivery

    @property
    def skills(self) -> frozenset[str]:
        return self.work[0].skills


def quote(problem: Problem, travel: Travel, solution: Solution, stops: list[Stop] = (),
          shipments: list[Shipment] = (), *, at: float | None = None, limit: int = DEFAULT_LIMIT,
          closest: int = CLOSEST, plan: Plan | None = None, deadline: float | None = None) -> list[TaskQuote]:
    """The ``limit`` cheapest feasible insertions of each new stop and shipment into
    ``solution`` (each alone). The new work must have passed ``work.work_issues``. ``plan``:
    the solution already read (``Plan(problem, travel, solution, at)``), to reuse its routes.
    ``deadline`` (``time.monotonic()`` seconds): past it no more places are judged, and the
    quotes not finished say so (``complete`` false)."""
    quoter = Quoter.with_work(plan or Plan(problem, travel, solution, at), list(stops), list(shipments),
                              limit, closest, deadline)
    return [quoter.quote(task) for task in quoter.new_tasks(stops, shipments)]


class Quoter:
    """Places new work in ``plan``'s routes; ``problem`` and ``travel`` are the plan's with the
    new work in them (``with_work``; default: the plan's own, for its own unassigned work)."""

    def __init__(self, plan: Plan, limit: int = DEFAULT_LIMIT, closest: int = CLOSEST,
                 problem: Problem | None = None, travel: Travel | None = None, deadline: float | None = None):
        self.plan, self.limit, self.closest = plan, limit, closest
        self.deadline = deadline  # time.monotonic() seconds: no place is judged after it
        self.cut_short = False  # the deadline stopped the current task's search
        self.problem, self.travel = problem or plan.problem, travel or plan.travel
        self.tasks = plan.tasks if problem is None else Tasks(
            self.problem, self.travel, len(plan.problem.stops), len(plan.problem.shipments))
        self.windows = Windows(self.problem)
        self._old: dict[int, float] = {}  # each vehicle's route value now

    @classmethod
    def with_work(cls, plan: Plan, stops: list[Stop], shipments: list[Shipment], limit: int = DEFAULT_LIMIT,
                  closest: int = CLOSEST, deadline: float | None = None) -> Quoter:
        problem, travel = extend(plan.problem, plan.travel, stops, shipments)
        return cls(plan, limit, closest, problem, travel, deadline)

    def late(self) -> bool:
        """Whether the deadline has passed (then the current task's search is cut short)."""
        if self.deadline is not None and time.monotonic() > self.deadline:
            self.cut_short = True
        return self.cut_short

    def new_tasks(self, stops, shipments) -> list[NewTask]:
        def of(label: str) -> Work:
            return self.tasks.of(label) if label in self.tasks.by_label else self.plan.tasks.of(label)

        return ([NewTask(s.id, "stop", (of(s.id),)) for s in stops]
                + [NewTask(s.id, "shipment", (of(f"{s.id}:pickup"), of(f"{s.id}:delivery"))) for s in shipments])

    def profile(self, view: RouteView) -> Profile:
        """The route read once for O(1) insertions, kept with the plan."""
        if view.v not in self.plan.profiles:
            self.plan.profiles[view.v] = Profile(self.plan, view)
        return self.plan.profiles[view.v]

    # -- judging every place -------------------------------------------------------------

    def slots(self, view: RouteView, task: NewTask, skills: bool = True) -> Iterator[Slot]:
        """Every place of ``view``'s route for ``task`` (``skills`` false: as if the vehicle
        had every skill the task needs)."""
        vehicle = self.problem.vehicles[view.v]
        lacking = task.skills - frozenset(vehicle.skills)
        if lacking and skills:
            yield Slot(view.v, (), [Miss("skills", len(lacking), skills=tuple(sorted(lacking)))])
        elif vehicle.breaks:
            yield from self._walked(view, task)
        elif task.type == "stop":
            yield from self.profile(view).stop_slots(task.work[0], self.travel)
        else:
            yield from self.profile(view).shipment_slots(*task.work, self.travel)

    def _walked(self, view: RouteView, task: NewTask) -> Iterator[Slot]:
        """Every place, judged by timing the route with the new work in it."""
        n = len(view.work)
        pairs = ([(p,) for p in range(view.pinned, n + 1)] if task.type == "stop"
                 else [(p, q) for p in range(view.pinned, n + 1) for q in range(p, n + 1)])
        for positions in pairs:
            if self.late():
                return
            run = self.time(view, task, positions, settle=bool(view.frozen))
            if run.misses:
                yield Slot(view.v, positions, worst(run.misses))
                continue
            objective = self.problem.objective
            vehicle = self.problem.vehicles[view.v]
            exact = bool(view.frozen) or (vehicle.max_duration is None and (
                objective == "distance" or (objective == "cost" and vehicle.cost_per_hour == 0)))
            value = self.value(view, run.route) if exact else self.lower_bound(view, run)
            yield Slot(view.v, positions, [], value, exact)

    def lower_bound(self, view: RouteView, run: Timed) -> float:
        """The route's value were its duration only its driving, service and breaks."""
        vehicle, objective = self.problem.vehicles[view.v], self.problem.objective
        if objective == "distance":
            return run.route.distance
        if objective == "duration":
            return run.busy
        return (vehicle.fixed_cost + vehicle.cost_per_km * run.route.distance / 1000
                + vehicle.cost_per_hour * run.busy / 3600)

    def value(self, view: RouteView, route: Route) -> float:
        return route_costs(self.problem.objective, self.problem.vehicles[view.v], route).total

    def time(self, view: RouteView, task: NewTask, positions: tuple[int, ...], settle: bool = True) -> Timed:
        """The route of ``view`` with the new work at ``positions``, timed. A route that now
        needs a break it does not take (an unused vehicle's, say) gets it where it costs least."""
        return self.timed(self.problem, view, task.work, positions, settle)

    def timed(self, problem: Problem, view: RouteView, new: tuple[Work, ...], positions: tuple[int, ...],
              settle: bool = True) -> Timed:
        """``view``'s route with ``new`` at ``positions``, timed for ``problem`` (this one, or
        one relaxed)."""
        work = list(view.work)
        for offset, (position, w) in enumerate(zip(positions, new, strict=True)):
            work.insert(position + offset, w)
        run = timed(problem, self.travel, view.v, work, view.kept, self.plan.at, settle=settle)
        missing = [m.step for m in run.misses if m.kind == "break" and m.by is None]
        while missing:  # one break at a time, each at its cheapest place
            brk = self.plan.tasks.of_break(view.v, missing[0].removeprefix("break:"))
            tries = [work[:p] + [brk] + work[p:] for p in range(view.frozen, len(work) + 1)]
            runs = [(timed(problem, self.travel, view.v, t, view.kept, self.plan.at, settle=settle), t)
                    for t in tries if not self.late()]
            fitting = [(self.value(view, r.route), k) for k, (r, _) in enumerate(runs)
                       if not [m for m in r.misses if m.kind != "break" or m.by is not None]]
            if not fitting:
                return run
            run, work = runs[min(fitting)[1]]
            missing = [m.step for m in run.misses if m.kind == "break" and m.by is None]
        return run

    # -- the cheapest first ----------------------------------------------------------------

    def quote(self, task: NewTask) -> TaskQuote:
        self.cut_short = False
        if self.late():
            return TaskQuote(id=task.id, type=task.type, insertions=[], complete=False)
        found, near = self.place(task)
        insertions = [self.insertion(self.plan.routes[slot.v], task, slot, run.route) for slot, run in found]
        return TaskQuote(id=task.id, type=task.type, insertions=insertions,
                         closest=[] if found else self.closest_vehicles(near), complete=not self.cut_short)

    def place(self, task: NewTask) -> tuple[list[tuple[Slot, Timed]], dict]:
        """The ``limit`` cheapest places for ``task``, timed and confirmed, and per vehicle the
        infeasible place that came closest (for ``closest_vehicles``)."""
        near: dict[int, tuple[tuple, Slot]] = {}
        feasible = []
        for view in self.plan.routes:
            if self.late():
                break
            for slot in self.slots(view, task):
                if slot.feasible:
                    feasible.append(slot)
                else:
                    self._near(near, slot)
        return self.cheapest(task, feasible, self.limit, lambda slot: self._near(near, slot)), near

    def cheapest(self, task: NewTask, slots: list[Slot], limit: int,
                 missed=lambda slot: None) -> list[tuple[Slot, Timed]]:
        """The ``limit`` cheapest of the feasible ``slots``, each timed and confirmed by the
        checker; a slot that turns out infeasible once timed goes to ``missed``."""
        order = itertools.count()
        heap = [(slot.value - self.old_value(self.plan.routes[slot.v]), next(order), slot, None)
                for slot in slots]
        heapq.heapify(heap)
        found: list[tuple[Slot, Timed]] = []
        while heap and len(found) < limit and not self.late():
            _, _, slot, run = heapq.heappop(heap)
            view = self.plan.routes[slot.v]
            if run is None:
                run = self.time(view, task, slot.positions)
                if not run.feasible:
                    missed(Slot(slot.v, slot.positions, worst(run.misses)))
                    continue
                if not slot.exact:
                    exact = Slot(slot.v, slot.positions, [], self.value(view, run.route))
                    heapq.heappush(heap, (exact.value - self.old_value(view), next(order), exact, run))
                    continue
            if confirm(self.problem, self.travel, slot.v, run.route):
                continue  # never expected: the schedule and the checker agree
            found.append((slot, run))
        return found

    def chosen(self, task: NewTask, vehicle_id: str, after: str,
               delivery_after: str | None = None) -> tuple[Slot, Timed]:
        """``task`` at the place a dispatcher chose, timed and confirmed; ``InvalidProblem``
        (pointers into ``/choice``) when there is no such place or the work does not fit there."""
        v = self.plan.vehicle_index.get(vehicle_id)
        if v is None:
            raise InvalidProblem([Issue("/choice/vehicle_id", f"unknown vehicle {vehicle_id!r}")])
        view = self.plan.routes[v]
        labels = ["start", *(w.label for w in view.work)]
        positions = [_position(labels, after, "/choice/after", vehicle_id)]
        if task.type == "shipment":
            if delivery_after is None:
                raise InvalidProblem([Issue("/choice/delivery_after", "a shipment needs the step its delivery follows")])
            pickup = task.work[0].label
            positions.append(positions[0] if delivery_after == pickup else
                             _position(labels, delivery_after, "/choice/delivery_after", vehicle_id))
            if positions[1] < positions[0]:
                raise InvalidProblem([Issue("/choice/delivery_after", "the delivery must follow the pickup")])
        elif delivery_after is not None:
            raise InvalidProblem([Issue("/choice/delivery_after", "only a shipment has a delivery")])
        if positions[0] < view.pinned:
            raise InvalidProblem([Issue("/choice/after", f"nothing goes before {view.work[view.pinned - 1].label!r} "
                                                         "(locked, or started before at)")])
        lacking = sorted(task.skills - frozenset(self.problem.vehicles[v].skills))
        run = self.time(view, task, tuple(positions))
        misses = [Miss("skills", len(lacking), skills=tuple(lacking))] if lacking else worst(run.misses)
        violations = [] if misses else confirm(self.problem, self.travel, v, run.route)
        if misses or violations:
            why = "; ".join([m.message for m in misses] + [str(x) for x in violations])
            raise InvalidProblem([Issue("/choice", f"the new work does not fit there: {why}")])
        return Slot(v, tuple(positions), []), run

    def old_value(self, view: RouteView) -> float:
        if view.v not in self._old:
            self._old[view.v] = self.value(view, self._route(view)) if view.steps else 0.0
        return self._old[view.v]

    def _route(self, view: RouteView) -> Route:
        vehicle_id = self.problem.vehicles[view.v].id
        return next(r for r in self.plan.solution.routes if r.vehicle_id == vehicle_id)

    # -- answers -------------------------------------------------------------------------

    def insertion(self, view: RouteView, task: NewTask, slot: Slot, route: Route) -> Insertion:
        vehicle = self.problem.vehicles[view.v]
        old = route_costs(self.problem.objective, vehicle, self._route(view)) if view.steps else None
        return insertion(self.problem, vehicle, route, [w.label for w in task.work], self.afters(task, slot),
                         old, self.windows)

    def afters(self, task: NewTask, slot: Slot) -> list[str]:
        """The steps of the route as it is that the new steps follow (a delivery right after
        its pickup: the pickup), as a dispatcher's ``choice`` names them."""
        view = self.plan.routes[slot.v]
        if task.type == "stop":
            return [view.after(slot.positions[0])]
        p, q = slot.positions
        return [view.after(p), task.work[0].label if q == p else view.after(q)]

    def _near(self, near: dict, slot: Slot) -> None:
        weight = 0.0
        for miss in slot.misses:
            if miss.kind == "unreachable":
                weight = math.inf
            elif miss.kind == "capacity":
                cap = self.problem.vehicles[slot.v].capacity[miss.dimension]
                weight += (miss.by or 0) / max(cap, 1)
            else:
                weight += (miss.by or 0) * WEIGHT[miss.kind]
        key = (len(slot.misses), weight)
        if slot.v not in near or key < near[slot.v][0]:
            near[slot.v] = (key, slot)

    def closest_vehicles(self, near: dict) -> list[Closest]:
        out = []
        for _, slot in sorted(near.values(), key=lambda entry: (entry[0], entry[1].v))[: self.closest]:
            view = self.plan.routes[slot.v]
            out.append(Closest(vehicle_id=self.problem.vehicles[slot.v].id,
                               after=view.after(slot.positions[0]) if slot.positions else None,
                               shortfalls=[shortfall(m) for m in slot.misses]))
        return out


def _position(labels: list[str], step: str, where: str, vehicle_id: str) -> int:
    if step not in labels:
        raise InvalidProblem([Issue(where, f"{step!r} is not 'start' nor a step of {vehicle_id!r}'s route")])
    return labels.index(step)
