"""A solution read against its problem: every vehicle's route as work in order.

``Plan`` resolves each route's steps to ``Work`` (place, service, windows, load change) and
says, per route, how many leading steps stay as they are: ``frozen`` steps started before
``at`` (their times are kept), and nothing goes before the ``pinned`` ones (the frozen and
the problem's ``locked`` steps). ``with_route`` gives the solution with one route replaced.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..model import Problem, Window
from ..solution import Route, Solution, Step, Summary
from ..travel import Travel
from .costs import priced

TASK_KINDS = ("stop", "pickup", "delivery")


@dataclass(frozen=True, slots=True)
class Work:
    """One step of work: a stop, a shipment's pickup or delivery, or a break."""

    label: str  # "c1", "s1:pickup", "break:lunch"
    kind: str  # stop | pickup | delivery | break
    index: int  # into problem.stops, problem.shipments or the vehicle's breaks
    place: int | None
    service: float  # seconds (a break: its duration)
    windows: tuple[Window, ...]  # sorted; empty: any time
    demand: tuple[int, ...]  # the load it adds (a delivery's is negative)
    skills: frozenset[str] = frozenset()

    @property
    def ident(self) -> str:
        """The id its step carries: the stop's, the shipment's or the break's."""
        return self.label.rpartition(":")[0] if self.kind in ("pickup", "delivery") else \
            self.label.removeprefix("break:")


class Tasks:
    """The work of a problem by step label (from its ``first_stop``-th stop and
    ``first_shipment``-th shipment on); a vehicle's breaks by id."""

    def __init__(self, problem: Problem, travel: Travel, first_stop: int = 0, first_shipment: int = 0):
        self.problem = problem
        dims = problem.dimensions
        self.by_label: dict[str, Work] = {}
        for i, s in enumerate(problem.stops[first_stop:], first_stop):
            self.by_label[s.id] = Work(s.id, "stop", i, travel.stop_place[i], s.service,
                                       tuple(sorted(s.time_windows)), tuple(s.demand) or (0,) * dims,
                                       frozenset(s.skills))
        for i, s in enumerate(problem.shipments[first_shipment:], first_shipment):
            amount = tuple(s.amount) or (0,) * dims
            for leg, place, sign in (("pickup", travel.pickup_place[i], 1),
                                     ("delivery", travel.delivery_place[i], -1)):
                task = getattr(s, leg)
                self.by_label[f"{s.id}:{leg}"] = Work(
                    f"{s.id}:{leg}", leg, i, place, task.service, tuple(sorted(task.time_windows)),
                    tuple(sign * a for a in amount), frozenset(s.skills))

    def of(self, label: str) -> Work:
        try:
            return self.by_label[label]
        except KeyError:
            raise ValueError(f"the solution serves {label!r}, which the problem does not have") from None

    def of_step(self, v: int, step: Step) -> Work:
        if step.type == "break":
            return self.of_break(v, step.id)
        return self.of(step.id if step.type == "stop" else f"{step.id}:{step.type}")

    def of_break(self, v: int, ident: str) -> Work:
        vehicle = self.problem.vehicles[v]
        for k, brk in enumerate(vehicle.breaks):
            if brk.id == ident:
                return Work(f"break:{brk.id}", "break", k, None, brk.duration,
                            tuple(sorted(brk.time_windows)), (0,) * self.problem.dimensions)
        raise ValueError(f"vehicle {vehicle.id!r} has no break {ident!r}")


@dataclass(frozen=True)
class RouteView:
    v: int
    steps: tuple[Step, ...]  # the solution's, start and end included; empty: the vehicle is unused
    work: tuple[Work, ...]  # the route's tasks and breaks, in order
    frozen: int  # leading work started before ``at``: kept with its times
    pinned: int  # leading work nothing may go before (frozen or locked)

    @property
    def kept(self) -> list[Step]:
        """The steps that keep their times: the start and the frozen work (none when no
        work is frozen: the whole route may be timed anew)."""
        return list(self.steps[: self.frozen + 1]) if self.frozen else []

    @property
    def has_breaks(self) -> bool:
        return any(w.kind == "break" for w in self.work)

    @property
    def tasks(self) -> int:
        return sum(w.kind != "break" for w in self.work)

    def after(self, position: int) -> str:
        """The label of the step a new step at work ``position`` follows."""
        return "start" if position == 0 else self.work[position - 1].label


class Plan:
    """A solution read against its problem, once: reused for every quote on it (with one ``at``)."""

    def __init__(self, problem: Problem, travel: Travel, solution: Solution,
                 at: float | None = None, tasks: Tasks | None = None):
        self.problem, self.travel, self.solution, self.at = problem, travel, solution, at
        self.tasks = tasks or Tasks(problem, travel)
        by_vehicle = {r.vehicle_id: r for r in solution.routes}
        locked = {spec.vehicle_id: len(spec.steps) for spec in problem.locked}
        self.routes = [self._view(v, by_vehicle.get(vehicle.id), locked.get(vehicle.id, 0))
                       for v, vehicle in enumerate(problem.vehicles)]
        self.vehicle_index = {vehicle.id: v for v, vehicle in enumerate(problem.vehicles)}
        self.profiles: dict = {}  # vehicle -> its route read for O(1) insertions (insertion.Quoter's)

    def _view(self, v: int, route: Route | None, locked: int) -> RouteView:
        if route is None:
            return RouteView(v, (), (), 0, 0)
        inner = [s for s in route.steps if s.type not in ("start", "end")]
        work = tuple(self.tasks.of_step(v, s) for s in inner)
        frozen = 0
        if self.at is not None:
            while frozen < len(inner) and inner[frozen].arrival + inner[frozen].waiting < self.at:
                frozen += 1
        pinned, seen = frozen, 0
        for k, w in enumerate(work):
            if seen >= locked:
                break
            if w.kind != "break":
                seen += 1
                pinned = max(pinned, k + 1)
        return RouteView(v, tuple(route.steps), work, frozen, pinned)

    def with_route(self, v: int, route: Route, problem: Problem | None = None) -> Solution:
        """The solution with vehicle ``v``'s route replaced by ``route`` (its work served
        there; the rest as it was), summary and costs recomputed, for ``problem`` (default:
        this plan's; the problem the new work belongs to)."""
        problem = problem or self.problem
        vehicle_id = problem.vehicles[v].id
        order = {vehicle.id: k for k, vehicle in enumerate(problem.vehicles)}
        routes = [r for r in self.solution.routes if r.vehicle_id != vehicle_id] + [route]
        routes.sort(key=lambda r: order[r.vehicle_id])
        served = {("stop" if s.type == "stop" else "shipment", s.id)
                  for r in routes for s in r.steps if s.type in TASK_KINDS}
        unassigned = [u for u in self.solution.unassigned if (u.type, u.id) not in served]
        mandatory = {("stop", s.id) for s in problem.stops if s.drop_penalty is None}
        mandatory |= {("shipment", s.id) for s in problem.shipments if s.drop_penalty is None}
        status = "infeasible" if any((u.type, u.id) in mandatory for u in unassigned) else "feasible"
        summary = Summary(distance=_sum(r.distance for r in routes), duration=_sum(r.duration for r in routes),
                          cost=_sum(r.cost for r in routes), vehicles_used=len(routes), unassigned=len(unassigned))
        solution = self.solution.model_copy(update={
            "status": status, "summary": summary, "routes": routes, "unassigned": unassigned, "changes": None})
        return priced(problem, solution)


def _sum(values) -> float:
    return round(sum(values), 6)  # as the engines add them up
