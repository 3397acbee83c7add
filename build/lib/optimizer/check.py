"""An independent audit of a solution against its problem.

``check`` trusts nothing the solver computed. From each route it reads only the vehicle
id and the ordered step types and ids, rebuilds loads, distances and the earliest
timeline from the problem (``timeline``), and then holds the reported numbers, the
unassigned list, the status and the summary against that recomputation. It accepts a
``Solution`` or any decoded JSON document and never raises on a malformed one: every
defect becomes a ``Violation``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .model import Problem
from .solution import Solution
from .timeline import TASK_KINDS, Visit, fmt, slack, walk
from .travel import Travel

KINDS = (
    "unknown", "served_twice", "missing", "status", "precedence", "skills", "capacity",
    "time_window", "break", "shift", "max_duration", "max_distance", "max_stops",
    "unreachable", "locked", "reported",
)


@dataclass(frozen=True)
class Violation:
    kind: str  # one of KINDS
    message: str
    vehicle_id: str | None = None
    step: str | None = None  # "c1", "s1:pickup", "break:lunch", "start", "end"

    def __str__(self) -> str:
        where = [f"vehicle {self.vehicle_id!r}"] if self.vehicle_id is not None else []
        where += [f"step {self.step!r}"] if self.step is not None else []
        return f"[{self.kind}] " + (f"{', '.join(where)}: " if where else "") + self.message


def check(problem: Problem, solution: Solution | Mapping[str, Any]) -> list[Violation]:
    """Every way ``solution`` breaks ``problem``'s rules or misreports its own numbers."""
    data = solution.to_json_dict() if isinstance(solution, Solution) else solution
    if not isinstance(data, Mapping):
        return [Violation("unknown", f"a solution is an object, not {type(data).__name__}")]
    return _Audit(problem, data).run()


Task = tuple[str, int]  # ("stop" | "pickup" | "delivery", index)
Position = tuple[int, int]  # (route number, step number)


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


class _Audit:
    def __init__(self, problem: Problem, data: Mapping[str, Any]):
        self.problem = problem
        self.data = data
        self.travel = Travel.of(problem)
        self.out: list[Violation] = []
        self.vehicles = {v.id: i for i, v in enumerate(problem.vehicles)}
        self.stops = {s.id: i for i, s in enumerate(problem.stops)}
        self.shipments = {s.id: i for i, s in enumerate(problem.shipments)}
        self.served: dict[Task, list[Position]] = defaultdict(list)
        self.sequence: dict[str, list[str]] = {}  # vehicle id -> task labels of its route
        self.listed: set[tuple[str, int]] = set()  # ("stop" | "shipment", index)
        self.distance = 0.0
        self.distance_known = True
        self.used = 0

    def flag(self, kind: str, message: str, vehicle_id: str | None = None,
             step: str | None = None) -> None:
        self.out.append(Violation(kind, message, vehicle_id, step))

    def run(self) -> list[Violation]:
        routes = self.data.get("routes", [])
        if not isinstance(routes, list):
            self.flag("unknown", "routes must be a list")
        for r, route in enumerate(_list(routes)):
            if isinstance(route, Mapping):
                self._route(r, route)
            else:
                self.flag("unknown", f"route {r} is not an object")
        self._unassigned()
        self._coverage()
        self._precedence()
        self._status()
        self._summary()
        self._locked()
        return self.out

    # -- routes -----------------------------------------------------------------

    def _route(self, r: int, route: Mapping[str, Any]) -> None:
        vid = route.get("vehicle_id")
        v = self.vehicles.get(vid) if isinstance(vid, str) else None
        label = vid if isinstance(vid, str) else None
        if v is None:
            self.flag("unknown", f"route {r} names an unknown vehicle {vid!r}", label)
        elif vid in self.sequence:
            self.flag("unknown", f"vehicle {vid!r} has more than one route", label)
        steps = route.get("steps", [])
        if not isinstance(steps, list):
            self.flag("unknown", f"the steps of route {r} must be a list", label)
        visits = self._visits(r, _list(steps), v, label)
        tasks = [visit for visit in visits if visit.is_task]
        self.used += bool(tasks)
        if label is not None and label not in self.sequence:
            self.sequence[label] = [visit.label for visit in tasks]
        if v is None:
            self.distance_known = False
            return
        self._skills(v, tasks)
        result = walk(self.problem, self.travel, v, visits)
        self.distance += result.distance
        for kind, message, step in result.found:
            self.flag(kind, message, label, step)
        self._route_numbers(route, v, result.distance)

    def _visits(self, r: int, steps: list, v: int | None, vid: str | None) -> list[Visit]:
        visits = []
        for k, step in enumerate(steps):
            if not isinstance(step, Mapping):
                self.flag("unknown", f"step {k} of route {r} is not an object", vid)
                continue
            visit = self._visit(step, v, vid, first=k == 0, last=k == len(steps) - 1)
            if visit is not None:
                visits.append(visit)
                if visit.is_task:
                    assert visit.index is not None
                    self.served[(visit.kind, visit.index)].append((r, k))
        return visits

    def _visit(self, step: Mapping[str, Any], v: int | None, vid: str | None,
               first: bool, last: bool) -> Visit | None:
        kind, ident = step.get("type"), step.get("id")
        if kind in ("start", "end"):
            if (kind == "start" and not first) or (kind == "end" and not last):
                self.flag("unknown", f"a {kind} step must come {'first' if kind == 'start' else 'last'}",
                          vid, kind)
                return None
            return Visit(kind, None, kind, step)
        if kind == "break":
            return self._break_visit(step, ident, v, vid)
        if kind not in TASK_KINDS:
            self.flag("unknown", f"unknown step type {kind!r}", vid, str(ident))
            return None
        ids = self.stops if kind == "stop" else self.shipments
        index = ids.get(ident) if isinstance(ident, str) else None
        label = f"{ident}" if kind == "stop" else f"{ident}:{kind}"
        if index is None:
            what = "stop" if kind == "stop" else "shipment"
            self.flag("unknown", f"unknown {what} {ident!r}", vid, label)
            return None
        return Visit(kind, index, label, step)

    def _break_visit(self, step: Mapping[str, Any], ident: Any, v: int | None,
                     vid: str | None) -> Visit | None:
        if v is None:
            return None
        breaks = [b.id for b in self.problem.vehicles[v].breaks]
        if ident not in breaks:
            self.flag("break", f"the vehicle has no break {ident!r}", vid, f"break:{ident}")
            return None
        return Visit("break", breaks.index(ident), f"break:{ident}", step)

    def _skills(self, v: int, tasks: list[Visit]) -> None:
        vehicle = self.problem.vehicles[v]
        for visit in tasks:
            assert visit.index is not None
            items = self.problem.stops if visit.kind == "stop" else self.problem.shipments
            lacking = sorted(set(items[visit.index].skills) - set(vehicle.skills))
            if lacking:
                self.flag("skills", f"the vehicle lacks skills {lacking}", vehicle.id, visit.label)

    def _route_numbers(self, route: Mapping[str, Any], v: int, distance: float) -> None:
        vehicle = self.problem.vehicles[v]
        reported = _number(route.get("distance"))
        if _differs(reported, distance):
            self.flag("reported", f"route distance {fmt(reported)}, recomputed {fmt(distance)}",
                      vehicle.id)
        duration = _number(route.get("duration"))
        limit = vehicle.max_duration
        if duration is not None and limit is not None and duration > limit + slack(limit):
            self.flag("max_duration", f"reported duration {fmt(duration)} s exceeds max_duration "
                      f"{fmt(limit)}", vehicle.id)

    # -- assignment -------------------------------------------------------------

    def _unassigned(self) -> None:
        entries = self.data.get("unassigned", [])
        if not isinstance(entries, list):
            self.flag("unknown", "unassigned must be a list")
        for entry in _list(entries):
            kind = entry.get("type") if isinstance(entry, Mapping) else None
            ident = entry.get("id") if isinstance(entry, Mapping) else None
            kind = kind if isinstance(kind, str) else None  # a list or object names no kind
            ids = {"stop": self.stops, "shipment": self.shipments}.get(kind, {})
            index = ids.get(ident) if isinstance(ident, str) else None
            if index is None:
                self.flag("unknown", f"unassigned entry {entry!r} names no {kind or 'task'} of the problem")
            elif (kind, index) in self.listed:
                self.flag("reported", f"{kind} {ident!r} is listed twice as unassigned", step=ident)
            else:
                self.listed.add((kind, index))

    def _coverage(self) -> None:
        for i, stop in enumerate(self.problem.stops):
            self._covered("stop", stop.id, [("stop", i)], ("stop", i) in self.listed)
        for i, shipment in enumerate(self.problem.shipments):
            tasks: list[Task] = [("pickup", i), ("delivery", i)]
            self._covered("shipment", shipment.id, tasks, ("shipment", i) in self.listed)

    def _covered(self, what: str, ident: str, tasks: list[Task], listed: bool) -> None:
        for task in tasks:
            label = ident if task[0] == "stop" else f"{ident}:{task[0]}"
            if len(self.served[task]) > 1:
                self.flag("served_twice", f"{label} is served {len(self.served[task])} times",
                          step=label)
        routed = any(self.served[task] for task in tasks)
        if routed and listed:
            self.flag("served_twice", f"{what} {ident!r} is routed and also listed as unassigned",
                      step=ident)
        elif not routed and not listed:
            self.flag("missing", f"{what} {ident!r} is neither routed nor listed as unassigned",
                      step=ident)

    def _precedence(self) -> None:
        for i, shipment in enumerate(self.problem.shipments):
            pickup, delivery = self.served[("pickup", i)], self.served[("delivery", i)]
            if not pickup and not delivery:
                continue
            if not pickup or not delivery:
                have, lack = ("pickup", "delivery") if pickup else ("delivery", "pickup")
                self.flag("precedence", f"the {have} of {shipment.id!r} is routed but its {lack} "
                          "is not", step=f"{shipment.id}:{have}")
            elif pickup[0][0] != delivery[0][0]:
                self.flag("precedence", f"{shipment.id!r} is picked up and delivered on different "
                          "routes", step=f"{shipment.id}:delivery")
            elif delivery[0][1] < pickup[0][1]:
                self.flag("precedence", f"{shipment.id!r} is delivered before it is picked up",
                          step=f"{shipment.id}:delivery")

    def _mandatory_unserved(self) -> list[str]:
        stops = [s.id for i, s in enumerate(self.problem.stops)
                 if s.drop_penalty is None and not self.served[("stop", i)]]
        shipments = [s.id for i, s in enumerate(self.problem.shipments)
                     if s.drop_penalty is None
                     and not (self.served[("pickup", i)] and self.served[("delivery", i)])]
        return stops + shipments

    def _status(self) -> None:
        status = self.data.get("status")
        unserved = self._mandatory_unserved()
        routed = any(self.served.values())
        if status == "feasible" and unserved:
            self.flag("status", f"status is feasible but mandatory work is unserved: {unserved}")
        elif status == "infeasible" and not unserved:
            self.flag("status", "status is infeasible but every mandatory stop and shipment is served")
        elif status == "no_solution" and routed:
            self.flag("status", "status is no_solution but the routes serve work")
        elif status not in ("feasible", "infeasible", "no_solution"):
            self.flag("status", f"unknown status {status!r}")

    def _summary(self) -> None:
        summary = self.data.get("summary")
        if not isinstance(summary, Mapping):
            return
        distance = _number(summary.get("distance"))
        if self.distance_known and _differs(distance, self.distance):
            self.flag("reported", f"summary distance {fmt(distance)}, recomputed {fmt(self.distance)}")
        unassigned = sum(not self.served[("stop", i)] for i in range(len(self.problem.stops)))
        unassigned += sum(not (self.served[("pickup", i)] or self.served[("delivery", i)])
                          for i in range(len(self.problem.shipments)))
        for key, expected in (("vehicles_used", self.used), ("unassigned", unassigned)):
            value = _number(summary.get(key))
            if _differs(value, expected):
                self.flag("reported", f"summary {key} {fmt(value)}, recomputed {expected}")

    def _locked(self) -> None:
        for spec in self.problem.locked:
            actual = self.sequence.get(spec.vehicle_id, [])
            if actual[: len(spec.steps)] != list(spec.steps):
                self.flag("locked", f"the route must begin with {list(spec.steps)}, it begins with "
                          f"{actual[: len(spec.steps)]}", spec.vehicle_id)


def _number(value: Any) -> float | None:
    """A reported number; ``nan`` for a value that is present but not a finite number."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return math.nan
    return float(value)


def _differs(reported: float | None, expected: float) -> bool:
    return reported is not None and not abs(reported - expected) <= slack(expected)
