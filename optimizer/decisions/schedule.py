"""One route timed anew, as a quote or a relaxation would leave it.

``timed`` serves a vehicle's work in order at the earliest, as ``timeline.walk`` recomputes
it (a break starts at the earliest inside its windows once the work before it is done and
is taken on the next leg), and returns the route's steps with every number the solution
reports, and what the route breaks (``Miss``). Which departure it starts from:

- ``kept`` steps (the start and the work that began before ``at``) keep their reported
  times; the vehicle goes on from the last of them, and nothing after starts before ``at``;
- otherwise the route ends as early as it can (leaving its start at the shift's opening, or
  at ``at``), and leaves its start as late as it can without ending later: with no breaks
  and at most one window per step this departure has a closed form (``clock``), else it is
  found by bisection. A route's duration is then the least its order of work allows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..model import Problem
from ..solution import Route, Step
from ..timeline import slack
from ..travel import Travel
from .clock import EPSILON, Clock, earliest
from .misses import Miss
from .plan import Work

INF = math.inf
BISECTIONS = 40  # halvings of the departure interval when it has no closed form


def _r(x: float) -> float:
    return round(x, 6)


@dataclass
class Timed:
    route: Route
    misses: list[Miss] = field(default_factory=list)
    start: float = 0.0  # departure from the start place
    end: float = 0.0  # arrival at the end place
    busy: float = 0.0  # seconds of driving, service and breaks
    clock: Clock | None = None  # at the end place, while the closed form holds

    @property
    def feasible(self) -> bool:
        return not self.misses


class _Run:
    def __init__(self, problem: Problem, travel: Travel, v: int, at: float | None):
        self.problem, self.travel, self.v = problem, travel, v
        self.vehicle = problem.vehicles[v]
        self.floor = -INF if at is None else at
        self.misses: list[Miss] = []
        self.steps: list[Step] = []
        self.pending: list[tuple[float, float]] = []  # breaks on the next leg: (start, duration)
        self.load = [0] * problem.dimensions
        self.distance = self.busy = 0.0
        self.tasks = 0
        self.place = travel.start_place[v]
        self.depart = self.ready = self.start = 0.0
        self.clock: Clock | None = None

    def leave(self, departure: float) -> None:
        self.start = self.depart = self.ready = departure
        self.clock = Clock(departure)
        self.steps.append(Step(type="start", arrival=_r(departure), departure=_r(departure),
                               load=list(self.load), distance=0.0))

    def resume(self, kept: list[Step], work: list[Work]) -> None:
        """Go on after ``kept`` (the start step, then one step per ``work``), as reported."""
        self.steps = list(kept)
        self.start = self.depart = self.ready = kept[0].departure or 0.0
        for step, w in zip(kept[1:], work, strict=True):
            if w.kind == "break":
                self.pending.append((step.arrival, w.service))
            else:
                self.place, self.depart, self.pending = w.place, step.departure or 0.0, []
                self.tasks += 1
            self.ready = step.departure or 0.0
        last = kept[-1]
        self.load, self.distance = list(last.load), last.distance
        self.busy = math.nan  # the kept part's own is not recomputed

    def go(self, work: list[Work]) -> Timed:
        for w in work:
            if w.kind == "break":
                self._break(w)
            else:
                self._task(w)
        return self._end()

    def _leg(self, there: int | None, label: str) -> float:
        distance, duration = self.travel.distance(self.place, there), self.travel.duration(self.place, there)
        if not (math.isfinite(distance) and math.isfinite(duration)):
            self.misses.append(Miss("unreachable", step=label))
            distance = duration = 0.0
        arrival = self.depart + duration
        for start, length in self.pending:
            arrival = max(arrival, start) + length
        self.pending = []
        self.distance += distance
        self.busy += duration
        self.place = there
        return arrival, duration

    def _break(self, w: Work) -> None:
        ready = max(self.ready, self.floor)
        start = earliest(ready, w.windows)
        if start is None:
            self.misses.append(Miss("break", ready - max(hi for _, hi in w.windows), w.label))
            start = ready
        self.pending.append((start, w.service))
        self.ready = start + w.service
        self.busy += w.service
        self.clock = None
        self.steps.append(Step(type="break", id=w.ident, arrival=_r(start), departure=_r(self.ready),
                               load=list(self.load), distance=_r(self.distance)))

    def _task(self, w: Work) -> None:
        had_breaks = bool(self.pending)
        arrival, duration = self._leg(w.place, w.label)
        begin = earliest(max(arrival, self.floor), w.windows)
        if begin is None:
            late = max(arrival, self.floor)
            self.misses.append(Miss("time_window", late - max(hi for _, hi in w.windows), w.label))
            begin = late
        if self.clock is not None and not had_breaks:
            self.clock = self.clock.serve(duration, w.windows, w.service, self.floor)[0]
        else:
            self.clock = None
        self.depart = self.ready = begin + w.service
        self.busy += w.service
        self.tasks += 1
        self.load = [a + d for a, d in zip(self.load, w.demand, strict=True)]
        for d, (load, cap) in enumerate(zip(self.load, self.vehicle.capacity, strict=False)):
            if load > cap:
                self.misses.append(Miss("capacity", load - cap, w.label, d))
        self.steps.append(Step(type=w.kind, id=w.ident, arrival=_r(arrival), departure=_r(self.depart),
                               waiting=_r(begin - arrival), load=list(self.load), distance=_r(self.distance)))

    def _end(self) -> Timed:
        arrival, duration = self._leg(self.travel.end_place[self.v], "end")
        vehicle = self.vehicle
        shift = vehicle.time_window
        if shift and arrival > shift[1] + EPSILON:
            self.misses.append(Miss("shift", arrival - shift[1], "end"))
        if vehicle.max_distance is not None and self.distance > vehicle.max_distance + EPSILON:
            self.misses.append(Miss("max_distance", self.distance - vehicle.max_distance))
        if vehicle.max_stops is not None and self.tasks > vehicle.max_stops:
            self.misses.append(Miss("max_stops", self.tasks - vehicle.max_stops))
        if self.tasks:
            self._breaks_taken(arrival)
        self.steps.append(Step(type="end", arrival=_r(arrival), load=list(self.load),
                               distance=_r(self.distance)))
        length = arrival - self.start
        cost = (vehicle.fixed_cost + vehicle.cost_per_km * self.distance / 1000
                + vehicle.cost_per_hour * length / 3600)
        route = Route(vehicle_id=vehicle.id, distance=_r(self.distance), duration=_r(length),
                      cost=_r(cost), steps=self.steps)
        clock = None
        if self.clock is not None and not self.pending:
            value, c, m = self.clock.arrival(duration)
            clock = Clock(value, c, m, self.clock.latest)
        return Timed(route, self.misses, self.start, arrival, self.busy, clock)

    def _breaks_taken(self, end: float) -> None:
        taken = {s.id for s in self.steps if s.type == "break"}
        for brk in self.vehicle.breaks:
            first = min(lo for lo, _ in brk.time_windows)
            last = max(hi for _, hi in brk.time_windows)
            if brk.id not in taken and end > first + slack(first) and self.start < last - slack(last):
                self.misses.append(Miss("break", step=f"break:{brk.id}"))


def timed(problem: Problem, travel: Travel, v: int, work: list[Work], kept: list[Step] | None = None,
          at: float | None = None, settle: bool = True) -> Timed:
    """Vehicle ``v`` serving ``work`` (after ``kept``, which covers the first ``len(kept) - 1``
    items of ``work``). ``settle`` false: the start is not moved later (a quick first look
    for feasibility; the duration is then not the least one and max_duration is not held)."""
    if kept:
        run = _Run(problem, travel, v, at)
        run.resume(kept, work[: len(kept) - 1])
        return _limited(problem, v, run.go(work[len(kept) - 1:]))
    shift = problem.vehicles[v].time_window
    opens = max(shift[0] if shift else 0.0, at if at is not None else 0.0)
    first = _from(problem, travel, v, work, at, opens)
    if not settle or not first.feasible:
        return _limited(problem, v, first) if settle else first
    departure = _latest_start(problem, travel, v, work, at, opens, first)
    if departure > opens:
        later = _from(problem, travel, v, work, at, departure)
        if later.feasible and later.end <= first.end + EPSILON:
            first = later
    return _limited(problem, v, first)


def _from(problem, travel, v, work, at, departure: float) -> Timed:
    run = _Run(problem, travel, v, at)
    run.leave(departure)
    return run.go(work)


def _latest_start(problem, travel, v, work, at, opens: float, first: Timed) -> float:
    """The latest departure from the start that ends no later than ``first`` (left at ``opens``)."""
    end = first.end
    clock = first.clock
    if clock is not None and clock.exact:
        shift = problem.vehicles[v].time_window
        latest = min(clock.latest, (shift[1] if shift else INF) - clock.c)
        return max(opens, min(latest, end - clock.c))
    high = end - first.busy  # no route is shorter than its driving, service and breaks
    if high <= opens:
        return opens

    def fits(departure: float) -> bool:
        run = _from(problem, travel, v, work, at, departure)
        return run.feasible and run.end <= end + EPSILON

    if fits(high):
        return high
    low = opens
    for _ in range(BISECTIONS):
        middle = (low + high) / 2
        if fits(middle):
            low = middle
        else:
            high = middle
        if high - low < 1e-6:
            break
    return low


def _limited(problem: Problem, v: int, run: Timed) -> Timed:
    limit = problem.vehicles[v].max_duration
    length = run.end - run.start
    if limit is not None and length > limit + EPSILON:
        run.misses.append(Miss("max_duration", length - limit))
    return run
