"""Turn the search's node sequences into the solution document.

Times come from the solver's schedule when the problem has a time dimension (service
starts are then what the solver planned: late departures that avoid waiting included);
otherwise every vehicle leaves at 0 and serves on arrival. Distances are summed from the
caller's own numbers, so a reported total is exact, not a rescaled integer.
"""

from __future__ import annotations

import math

from .changes import plan_changes
from .decisions.costs import priced
from .layout import Layout
from .outcome import Outcome
from .reasons import reason
from .solution import Route, Solution, SolverInfo, Step, Summary, Unassigned


def assemble(layout: Layout, outcome: Outcome, wall_time: float, engine: str) -> Solution:
    problem = layout.problem
    routes: list[Route] = []
    served: set[int] = set()
    if outcome.routes is not None:
        for v, nodes in enumerate(outcome.routes):
            served.update(nodes)
            if nodes:
                cumuls = outcome.service_starts[v] if outcome.service_starts else None
                routes.append(_route(layout, v, nodes, cumuls, outcome.breaks[v]))
    unassigned = _unassigned(layout, served)
    mandatory_missing = any(
        (problem.stops if u.type == "stop" else problem.shipments)[_position(problem, u)].drop_penalty is None
        for u in unassigned
    )
    if outcome.routes is None:
        status = "no_solution"
    else:
        status = "infeasible" if mandatory_missing else "feasible"
    summary = Summary(
        distance=_round(sum(r.distance for r in routes)),
        duration=_round(sum(r.duration for r in routes)),
        cost=_round(sum(r.cost for r in routes)),
        vehicles_used=len(routes),
        unassigned=len(unassigned),
    )
    solver = SolverInfo(
        engine=engine,
        search=outcome.search,
        wall_time=round(wall_time, 3),
        objective=outcome.objective,
        improvements=outcome.improvements,
        stopped_by=outcome.stopped_by,
        message=outcome.message,
    )
    return priced(problem, Solution(status=status, summary=summary, routes=routes, unassigned=unassigned,
                                    solver=solver, changes=plan_changes(layout, outcome.routes)))


def _position(problem, unassigned: Unassigned) -> int:
    items = problem.stops if unassigned.type == "stop" else problem.shipments
    return next(i for i, item in enumerate(items) if item.id == unassigned.id)


def _unassigned(layout: Layout, served: set[int]) -> list[Unassigned]:
    out = []
    problem = layout.problem
    for i, stop in enumerate(problem.stops):
        if i not in served:
            out.append(Unassigned(id=stop.id, type="stop", reason=reason(layout, [i])))
    for s, shipment in enumerate(problem.shipments):
        pickup, delivery = layout.shipment_nodes(s)
        if pickup not in served:
            out.append(Unassigned(id=shipment.id, type="shipment",
                                  reason=reason(layout, [pickup, delivery])))
    return out


def _round(x: float) -> float:
    return round(x, 6)


def _route(layout: Layout, v: int, nodes: list[int], cumuls, breaks) -> Route:
    vehicle = layout.problem.vehicles[v]
    travel = layout.travel
    ts = layout.time_scale
    shift_start = vehicle.time_window[0] if vehicle.time_window else 0.0
    clock = start_time = cumuls[0] / ts if cumuls else shift_start
    load = [0] * layout.demand.shape[1]
    distance = 0.0
    steps = [Step(type="start", arrival=clock, departure=clock, load=list(load), distance=0.0)]
    pending = sorted((start / ts, dur / ts, bid) for bid, start, dur in breaks)
    pending = [b for b in pending if b[0] >= start_time]
    here = travel.start_place[v]
    for k, node in enumerate([*nodes, None]):
        there = travel.end_place[v] if node is None else layout.place[node]
        remaining = travel.duration(here, there)
        planned = cumuls[k + 1] / ts if cumuls else math.inf  # service start at ``there``
        while pending and pending[0][0] < planned:
            b_start, b_duration, bid = pending.pop(0)
            driven = min(remaining, max(0.0, b_start - clock))  # drive part of the leg first
            remaining -= driven
            clock = max(clock + driven, b_start) + b_duration
            steps.append(Step(type="break", id=bid, arrival=_round(clock - b_duration),
                              departure=_round(clock), load=list(load), distance=_round(distance)))
        arrival = clock + remaining
        distance += travel.distance(here, there)
        if node is None:
            steps.append(Step(type="end", arrival=_round(arrival), load=list(load),
                              distance=_round(distance)))
            break
        task = layout.tasks[node]
        begin = max(planned, arrival) if cumuls else arrival
        load = [a + int(d) for a, d in zip(load, layout.demand[node], strict=True)]
        clock = begin + layout.service[node]
        steps.append(Step(type=task.kind, id=task.id, arrival=_round(arrival), departure=_round(clock),
                          waiting=_round(begin - arrival), load=list(load), distance=_round(distance)))
        here = there
    duration = arrival - start_time
    cost = (vehicle.fixed_cost + vehicle.cost_per_km * distance / 1000
            + vehicle.cost_per_hour * duration / 3600)
    return Route(vehicle_id=vehicle.id, distance=_round(distance), duration=_round(duration),
                 cost=_round(cost), steps=steps)
