"""What each route costs, as the objective counts it, and what binds it.

``route_costs`` splits a route's objective value into driving, time, waiting and fixed
parts: for ``distance`` all of it is driving (metres); for ``duration`` it is the route's
seconds, its steps' ``waiting`` apart; for ``cost`` ``cost_per_km`` x km, ``cost_per_hour``
x the hours (waiting apart) and ``fixed_cost``. The plan's ``summary_costs`` adds the routes'
parts and the drop penalties of unserved work, so its total is the objective of the solution
(``engines.score.objective_value``). ``time`` takes what rounding leaves, so the parts add up
to the total. ``tightest`` names the step closest to its window's end and the route's
highest load. ``priced`` fills all of it into a solution.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..model import Problem, Vehicle, Window
from ..solution import Costs, Route, Solution, Tightest, Unassigned
from ..timeline import slack

DIGITS = 6  # the solution's numbers are rounded to a millionth


def _r(x: float) -> float:
    return round(x, DIGITS)


def route_value(objective: str, route: Route) -> float:
    """What a route adds to the objective (metres, seconds or currency)."""
    return {"distance": route.distance, "duration": route.duration}.get(objective, route.cost)


def route_costs(objective: str, vehicle: Vehicle, route: Route) -> Costs:
    waiting = sum(step.waiting for step in route.steps)
    total = route_value(objective, route)
    if objective == "distance":
        return Costs(total=total, distance=total, time=0.0, waiting=0.0, fixed=0.0)
    if objective == "duration":
        return Costs(total=total, distance=0.0, time=_r(total - waiting), waiting=_r(waiting), fixed=0.0)
    distance = _r(vehicle.cost_per_km * route.distance / 1000)
    waiting = _r(vehicle.cost_per_hour * waiting / 3600)
    fixed = vehicle.fixed_cost
    return Costs(total=total, distance=distance, time=_r(total - distance - waiting - fixed),
                 waiting=waiting, fixed=fixed)


def penalties(problem: Problem, unassigned: Iterable[Unassigned]) -> float:
    """The drop penalties of unserved work (mandatory work has none)."""
    penalty = {("stop", s.id): s.drop_penalty for s in problem.stops}
    penalty.update({("shipment", s.id): s.drop_penalty for s in problem.shipments})
    return sum(penalty.get((u.type, u.id)) or 0.0 for u in unassigned)


def summary_costs(problem: Problem, solution: Solution, routes: list[Costs]) -> Costs:
    """The plan's parts: the routes' plus the penalties; ``total`` is the solution's objective."""
    paid = penalties(problem, solution.unassigned)
    total = getattr(solution.summary, problem.objective) + paid
    distance = _r(sum(c.distance for c in routes))
    waiting = _r(sum(c.waiting for c in routes))
    fixed = _r(sum(c.fixed for c in routes))
    return Costs(total=_r(total), distance=distance, time=_r(total - distance - waiting - fixed - paid),
                 waiting=waiting, fixed=fixed, penalties=_r(paid))


class Windows:
    """The time windows and ids of a problem's steps, by step label."""

    def __init__(self, problem: Problem):
        self.of: dict[str, tuple[Window, ...]] = {s.id: tuple(s.time_windows) for s in problem.stops}
        for s in problem.shipments:
            self.of[f"{s.id}:pickup"] = tuple(s.pickup.time_windows)
            self.of[f"{s.id}:delivery"] = tuple(s.delivery.time_windows)

    def slack(self, label: str, begin: float) -> float | None:
        """Seconds from ``begin`` to the end of the window that holds it (none: no windows)."""
        windows = self.of.get(label, ())
        holding = [hi for lo, hi in windows if lo - slack(lo) <= begin <= hi + slack(hi)]
        if holding:
            return max(0.0, max(holding) - begin)
        return min((hi - begin for _, hi in windows), default=None)


def label(step) -> str:
    return step.id if step.type == "stop" else f"{step.id}:{step.type}"


def tightest(vehicle: Vehicle, route: Route, windows: Windows) -> Tightest:
    dims = max((len(s.load) for s in route.steps), default=0)
    load = [max((s.load[d] for s in route.steps), default=0) for d in range(dims)]
    best: tuple[float, str] | None = None
    for step in route.steps:
        if step.type in ("stop", "pickup", "delivery"):
            left = windows.slack(label(step), step.arrival + step.waiting)
            if left is not None and (best is None or left < best[0]):
                best = (left, label(step))
    return Tightest(step=best[1] if best else None, window_slack=_r(best[0]) if best else None,
                    load=load, capacity=list(vehicle.capacity))


def priced(problem: Problem, solution: Solution) -> Solution:
    """``solution`` with ``costs`` and ``tightest`` on every route and ``costs`` in its summary."""
    vehicles = {v.id: v for v in problem.vehicles}
    windows = Windows(problem)
    routes, parts = [], []
    for route in solution.routes:
        vehicle = vehicles[route.vehicle_id]
        costs = route_costs(problem.objective, vehicle, route)
        parts.append(costs)
        routes.append(route.model_copy(update={"costs": costs, "tightest": tightest(vehicle, route, windows)}))
    summary = solution.summary.model_copy(update={"costs": summary_costs(problem, solution, parts)})
    return solution.model_copy(update={"routes": routes, "summary": summary})
