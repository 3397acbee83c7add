"""Rebuild one route's loads, distances and earliest timeline from the problem alone.

``walk`` follows a vehicle's resolved steps and returns what the problem implies (the
route's distance, start departure, end arrival) together with every rule the route breaks.
Numbers the solver reported on the steps are only compared with the recomputation: a
reported time may be later than the earliest possible one (waiting is allowed), never
earlier; a reported load or cumulative distance must match.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .model import Break, Problem, Vehicle, Window
from .travel import Travel

ABS_TOL = 1e-3
REL_TOL = 1e-6
TASK_KINDS = ("stop", "pickup", "delivery")


def slack(x: float) -> float:
    """How far a reported number may stray from a recomputed ``x``."""
    return ABS_TOL + REL_TOL * abs(x)


def earliest(t: float, windows: Iterable[Window]) -> float | None:
    """Earliest time at or after ``t`` inside one of ``windows`` (none given: ``t``)."""
    windows = sorted(windows)
    if not windows:
        return t
    for lo, hi in windows:
        if t <= hi + slack(hi):
            return max(t, lo)
    return None


def inside(t: float, windows: Iterable[Window]) -> bool:
    windows = list(windows)
    return not windows or any(lo - slack(lo) <= t <= hi + slack(hi) for lo, hi in windows)


def fmt(x: float) -> str:
    return f"{x:g}" if abs(x) < 1e15 else repr(x)


@dataclass(frozen=True)
class Visit:
    """One resolved step of a route: what it is and the numbers reported for it."""

    kind: str  # start | stop | pickup | delivery | break | end
    index: int | None  # into problem.stops, problem.shipments or vehicle.breaks
    label: str  # "c1", "s1:pickup", "break:lunch", "start", "end"
    reported: Mapping[str, Any] = field(default_factory=dict)

    @property
    def is_task(self) -> bool:
        return self.kind in TASK_KINDS


Finding = tuple[str, str, str | None]  # (kind, message, step label)


@dataclass
class Walk:
    """What a route implies, and what is wrong with it."""

    start: float  # departure from the start place
    end: float = 0.0  # arrival at the end place
    distance: float = 0.0
    tasks: int = 0
    found: list[Finding] = field(default_factory=list)


class _Walker:
    def __init__(self, problem: Problem, travel: Travel, v: int, visits: list[Visit]):
        self.problem = problem
        self.travel = travel
        self.v = v
        self.vehicle: Vehicle = problem.vehicles[v]
        self.visits = visits
        self.load = [0] * problem.dimensions
        self.place = travel.start_place[v]
        self.pending: list[tuple[Visit, float, float]] = []  # breaks of the current leg
        self.break_count = [0] * len(self.vehicle.breaks)
        shift = self.vehicle.time_window
        self.walk = Walk(start=shift[0] if shift else 0.0)
        self.depart = self.ready = self.walk.start

    def flag(self, kind: str, message: str, visit: Visit | None = None) -> None:
        self.walk.found.append((kind, message, visit.label if visit else None))

    def number(self, visit: Visit, key: str) -> float | None:
        value = visit.reported.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            self.flag("reported", f"{key} {value!r} is not a finite number", visit)
            return None
        return float(value)

    # -- the walk ---------------------------------------------------------------

    def run(self) -> Walk:
        starts = [v for v in self.visits if v.kind == "start"] or [Visit("start", None, "start")]
        self._start(starts[0])
        last = Visit("end", None, "end")
        for visit in self.visits:
            if visit.kind == "break":
                self._break(visit)
            elif visit.is_task:
                self._task(visit)
            elif visit.kind == "end":
                last = visit
        self._end(last)
        self._limits()
        self._breaks_taken()
        return self.walk

    def _start(self, visit: Visit) -> None:
        shift = self.vehicle.time_window
        opens = shift[0] if shift else 0.0
        departure = self.number(visit, "departure")
        if departure is not None:
            if departure < opens - slack(opens):
                self.flag("reported", f"departs at {fmt(departure)}, before the shift opens at {fmt(opens)}", visit)
            self.depart = self.ready = self.walk.start = max(departure, opens)
        if shift and self.walk.start > shift[1] + slack(shift[1]):
            self.flag("shift", f"starts at {fmt(self.walk.start)}, after the shift ends at {fmt(shift[1])}", visit)
        self._reported_arrival(visit, opens)
        self._reported_load(visit)
        self._reported_distance(visit, 0.0, 0.0)

    def _break(self, visit: Visit) -> None:
        assert visit.index is not None
        brk: Break = self.vehicle.breaks[visit.index]
        self.break_count[visit.index] += 1
        start = earliest(self.ready, brk.time_windows)
        if start is None:
            self.flag("break", f"cannot start at or after {fmt(self.ready)} inside its windows "
                      f"{list(brk.time_windows)}", visit)
            start = self.ready
        self._reported_arrival(visit, self.ready)
        self._reported_finish(visit, start, brk.duration, brk.time_windows, "break")
        self._reported_load(visit)
        self.pending.append((visit, start, brk.duration))
        self.ready = start + brk.duration

    def _task(self, visit: Visit) -> None:
        place, service, windows, delta = self._task_data(visit)
        arrival = self._leg(place, visit)
        begin = earliest(arrival, windows)
        if begin is None:
            self.flag("time_window", f"arrives at {fmt(arrival)}, after its last window "
                      f"{list(windows)}", visit)
            begin = arrival
        self._reported_arrival(visit, arrival)
        self._reported_finish(visit, begin, service, windows, "time_window")
        self.depart = self.ready = begin + service
        self.walk.tasks += 1
        self.load = [a + d for a, d in zip(self.load, delta, strict=True)]
        self._capacity(visit)
        self._reported_load(visit)
        self._reported_distance(visit, self.walk.distance, self.walk.distance)

    def _end(self, visit: Visit) -> None:
        self.walk.end = arrival = self._leg(self.travel.end_place[self.v], visit)
        shift = self.vehicle.time_window
        if shift and arrival > shift[1] + slack(shift[1]):
            self.flag("shift", f"ends at {fmt(arrival)}, after the shift ends at {fmt(shift[1])}", visit)
        self._reported_arrival(visit, arrival)
        reported = self.number(visit, "arrival")
        if shift and reported is not None and reported > shift[1] + slack(shift[1]):
            self.flag("shift", f"reported end {fmt(reported)} is after the shift ends at {fmt(shift[1])}", visit)
        self._reported_load(visit)
        self._reported_distance(visit, self.walk.distance, self.walk.distance)

    def _leg(self, there: int | None, visit: Visit) -> float:
        """Drive to ``there`` (for ``visit``) taking the pending breaks; returns the arrival."""
        distance = self.travel.distance(self.place, there)
        duration = self.travel.duration(self.place, there)
        if not (math.isfinite(distance) and math.isfinite(duration)):
            self.flag("unreachable", f"no road from place {self.place} to place {there}", visit)
            distance = duration = 0.0
        arrival = self.depart + duration
        before = self.walk.distance
        self.walk.distance += distance
        for visit, start, length in self.pending:
            arrival = max(arrival, start) + length
            self._reported_distance(visit, before, self.walk.distance)
        self.pending.clear()
        self.place = there
        return arrival

    def _task_data(self, visit: Visit) -> tuple[int | None, float, tuple[Window, ...], list[int]]:
        assert visit.index is not None
        dims = self.problem.dimensions
        if visit.kind == "stop":
            stop = self.problem.stops[visit.index]
            demand = list(stop.demand) or [0] * dims
            return (self.travel.stop_place[visit.index], stop.service,
                    tuple(stop.time_windows), demand)
        shipment = self.problem.shipments[visit.index]
        amount = list(shipment.amount) or [0] * dims
        if visit.kind == "pickup":
            task, place = shipment.pickup, self.travel.pickup_place[visit.index]
        else:
            task, place = shipment.delivery, self.travel.delivery_place[visit.index]
            amount = [-a for a in amount]
        return place, task.service, tuple(task.time_windows), amount

    # -- rules ------------------------------------------------------------------

    def _capacity(self, visit: Visit) -> None:
        capacity = self.vehicle.capacity
        if any(x < 0 for x in self.load):
            self.flag("capacity", f"load {self.load} is negative", visit)
        if capacity and any(x > c for x, c in zip(self.load, capacity, strict=True)):
            self.flag("capacity", f"load {self.load} exceeds capacity {list(capacity)}", visit)

    def _limits(self) -> None:
        vehicle, walk = self.vehicle, self.walk
        duration = walk.end - walk.start
        if vehicle.max_duration is not None and duration > vehicle.max_duration + slack(vehicle.max_duration):
            self.flag("max_duration", f"takes {fmt(duration)} s, more than max_duration "
                      f"{fmt(vehicle.max_duration)}")
        if vehicle.max_distance is not None and walk.distance > vehicle.max_distance + slack(vehicle.max_distance):
            self.flag("max_distance", f"drives {fmt(walk.distance)} m, more than max_distance "
                      f"{fmt(vehicle.max_distance)}")
        if vehicle.max_stops is not None and walk.tasks > vehicle.max_stops:
            self.flag("max_stops", f"serves {walk.tasks} tasks, more than max_stops {vehicle.max_stops}")

    def _breaks_taken(self) -> None:
        if self.walk.tasks == 0:
            return
        for brk, count in zip(self.vehicle.breaks, self.break_count, strict=True):
            if count > 1:
                self.flag("break", f"break {brk.id!r} is taken {count} times")
            elif count == 0 and self._break_needed(brk):
                self.flag("break", f"break {brk.id!r} is missing: the route works from "
                          f"{fmt(self.walk.start)} to {fmt(self.walk.end)}, across its windows "
                          f"{list(brk.time_windows)}")

    def _break_needed(self, brk: Break) -> bool:
        first = min(lo for lo, _ in brk.time_windows)
        last = max(hi for _, hi in brk.time_windows)
        return self.walk.end > first + slack(first) and self.walk.start < last - slack(last)

    # -- reported numbers -------------------------------------------------------

    def _reported_arrival(self, visit: Visit, possible: float) -> None:
        arrival = self.number(visit, "arrival")
        if arrival is not None and arrival < possible - slack(possible):
            self.flag("reported", f"reported arrival {fmt(arrival)} is earlier than possible "
                      f"({fmt(possible)})", visit)

    def _reported_finish(self, visit: Visit, begin: float, length: float,
                         windows: tuple[Window, ...] | list[Window], kind: str) -> None:
        """A reported departure must leave room for ``length`` after a start in ``windows``."""
        departure = self.number(visit, "departure")
        if departure is None:
            return
        possible = begin + length
        if departure < possible - slack(possible):
            self.flag("reported", f"reported departure {fmt(departure)} is earlier than possible "
                      f"({fmt(possible)})", visit)
        elif departure > possible + slack(possible) and not inside(departure - length, windows):
            self.flag(kind, f"reported departure {fmt(departure)} means starting at "
                      f"{fmt(departure - length)}, outside the windows {list(windows)}", visit)

    def _reported_load(self, visit: Visit) -> None:
        load = visit.reported.get("load")
        if load is None:
            return
        ok = isinstance(load, list) and len(load) == len(self.load) and all(
            isinstance(x, int | float) and not isinstance(x, bool) and abs(x - y) <= slack(y)
            for x, y in zip(load, self.load, strict=False)
        )
        if not ok:
            self.flag("reported", f"reported load {load!r}, recomputed {self.load}", visit)

    def _reported_distance(self, visit: Visit, low: float, high: float) -> None:
        distance = self.number(visit, "distance")
        if distance is not None and not low - slack(low) <= distance <= high + slack(high):
            expected = fmt(low) if low == high else f"{fmt(low)}..{fmt(high)}"
            self.flag("reported", f"reported distance {fmt(distance)}, recomputed {expected}", visit)


def walk(problem: Problem, travel: Travel, v: int, visits: list[Visit]) -> Walk:
    """Recompute the route of vehicle ``v`` through ``visits`` (start/end markers optional)."""
    return _Walker(problem, travel, v, visits).run()
