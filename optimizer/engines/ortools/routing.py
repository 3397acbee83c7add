"""Build the OR-Tools routing model of a laid-out problem.

Nothing here leaves ``optimizer``: the returned ``Model`` wraps the OR-Tools objects and
is read back by ``search``. Every stop is droppable: at its own ``drop_penalty`` when it
is optional, at a penalty larger than any route could cost when it is mandatory, so a
hard problem still yields routes and the unserved stops can be explained.
"""

from __future__ import annotations

import numpy as np
from ortools.constraint_solver import pywrapcp

from ...layout import Layout
from ...scaling import to_int
from .breaks import add_breaks
from .model import Model
from .stability import add_stability

COST_UNITS = 100_000  # integer cost units per currency unit, per unit of time scale
MAX_TOTAL = 2**62  # keep every objective term far from int64 overflow


def build(layout: Layout) -> Model:
    p = layout.problem
    vehicles = len(p.vehicles)
    manager = pywrapcp.RoutingIndexManager(layout.nodes, vehicles, layout.starts, layout.ends)
    routing = pywrapcp.RoutingModel(manager)
    ts, ds = layout.time_scale, layout.distance_scale

    distance = layout.place_matrix(layout.travel.distances, ds)
    missing = np.argwhere(distance < 0)
    distance[distance < 0] = 0
    distance_cb = routing.RegisterTransitMatrix(distance.tolist())
    time = layout.place_matrix(layout.travel.durations, ts, extra=layout.service)
    missing = np.unique(np.vstack([missing, np.argwhere(time < 0)]), axis=0)
    time[time < 0] = 0
    time_cb = routing.RegisterTransitMatrix(time.tolist())
    horizon = _horizon(layout, time)

    model = Model(layout, manager, routing, None, 1.0, _cost_scale(layout, distance, horizon))
    model.matrices = (time, distance) if not len(missing) else None
    _forbid_arcs(model, missing)
    if _needs_time(layout):
        model.time = _time_dimension(model, time_cb, horizon)
    _set_objective(model, distance, time, distance_cb, time_cb)
    _capacities(model)
    _limits(model, distance_cb)
    _shipments(model)
    _skills(model)
    bound = _route_bound(model, distance, time, horizon)
    bound += add_stability(model, MAX_TOTAL // (16 * max(layout.task_count, 1)))
    _drops(model, bound)
    _locks(model)
    if model.time is not None:
        add_breaks(model)
    return model


def _needs_time(layout: Layout) -> bool:
    p = layout.problem
    return (
        any(layout.windows)
        or p.objective == "duration"
        or (p.objective == "cost" and any(v.cost_per_hour for v in p.vehicles))
        or any(v.time_window or v.max_duration is not None or v.breaks for v in p.vehicles)
    )


def _horizon(layout: Layout, time: np.ndarray) -> int:
    ts = layout.time_scale
    ends = [w[1] for ws in layout.windows for w in ws]
    ends += [v.time_window[1] for v in layout.problem.vehicles if v.time_window]
    ends += [w[1] + b.duration for v in layout.problem.vehicles for b in v.breaks for w in b.time_windows]
    if any(v.time_window is None for v in layout.problem.vehicles):
        # a vehicle without a shift may need every stop's longest leg, after the latest window
        ends.append(max(ends, default=0) + float(time.max(axis=1).sum()) / ts)
    return to_int(max(ends, default=0.0), ts) + 1


def _time_dimension(model: Model, time_cb: int, horizon: int):
    layout, routing = model.layout, model.routing
    routing.AddDimension(time_cb, horizon, horizon, False, "time")
    dim = routing.GetDimensionOrDie("time")
    ts = layout.time_scale
    for v, vehicle in enumerate(layout.problem.vehicles):
        if vehicle.time_window:
            lo, hi = (to_int(x, ts) for x in vehicle.time_window)
            dim.CumulVar(routing.Start(v)).SetRange(lo, hi)
            dim.CumulVar(routing.End(v)).SetRange(lo, hi)
        if vehicle.max_duration is not None:
            dim.SetSpanUpperBoundForVehicle(to_int(vehicle.max_duration, ts), v)
        # finish as early as possible, then leave as late as that allows (no needless waiting)
        routing.AddVariableMinimizedByFinalizer(dim.CumulVar(routing.End(v)))
        routing.AddVariableMaximizedByFinalizer(dim.CumulVar(routing.Start(v)))
    for node in range(layout.task_count):
        windows = layout.windows[node]
        if not windows:
            continue
        cumul = dim.CumulVar(model.index(node))
        spans = [(to_int(a, ts), to_int(b, ts)) for a, b in windows]
        cumul.SetRange(spans[0][0], max(b for _, b in spans))
        reach = spans[0][1]
        for a, b in spans[1:]:
            if a > reach + 1:
                cumul.RemoveInterval(reach + 1, a - 1)
            reach = max(reach, b)
    return dim


def _set_objective(model: Model, distance, time, distance_cb: int, time_cb: int) -> None:
    layout, routing = model.layout, model.routing
    p = layout.problem
    if p.objective == "distance":
        routing.SetArcCostEvaluatorOfAllVehicles(distance_cb)
        model.objective_scale = layout.distance_scale
    elif p.objective == "duration":
        routing.SetArcCostEvaluatorOfAllVehicles(time_cb)
        model.time.SetSlackCostCoefficientForAllVehicles(1)
        model.objective_scale = layout.time_scale
    else:
        model.objective_scale = model.cost_scale
        _cost_objective(model, distance)
    for v, vehicle in enumerate(p.vehicles):
        fixed = to_int(vehicle.fixed_cost, model.cost_scale) if p.objective == "cost" else 0
        routing.SetFixedCostOfVehicle(fixed, v)


def _cost_objective(model: Model, distance: np.ndarray) -> None:
    layout, routing = model.layout, model.routing
    per_metre = model.cost_scale / 1000 / layout.distance_scale
    per_tick = model.cost_scale / 3600 / layout.time_scale
    evaluators: dict[float, int] = {}
    for v, vehicle in enumerate(layout.problem.vehicles):
        if vehicle.cost_per_km not in evaluators:
            matrix = np.rint(distance * (vehicle.cost_per_km * per_metre)).astype(np.int64)
            evaluators[vehicle.cost_per_km] = routing.RegisterTransitMatrix(matrix.tolist())
        routing.SetArcCostEvaluatorOfVehicle(evaluators[vehicle.cost_per_km], v)
        if vehicle.cost_per_hour and model.time is not None:
            model.time.SetSpanCostCoefficientForVehicle(round(vehicle.cost_per_hour * per_tick), v)


def _forbid_arcs(model: Model, arcs: np.ndarray) -> None:
    layout, routing = model.layout, model.routing
    if not len(arcs):
        return
    outgoing: dict[int, list[int]] = {}
    incoming: dict[int, list[int]] = {}
    for n in range(layout.task_count):
        outgoing[n] = incoming[n] = [model.index(n)]
    for v in range(len(layout.problem.vehicles)):
        outgoing.setdefault(layout.starts[v], []).append(routing.Start(v))
        incoming.setdefault(layout.ends[v], []).append(routing.End(v))
    for a, b in arcs:
        for i in outgoing.get(int(a), ()):
            for j in incoming.get(int(b), ()):
                routing.NextVar(i).RemoveValue(j)


def _capacities(model: Model) -> None:
    layout, routing = model.layout, model.routing
    for d in range(layout.demand.shape[1]):
        cb = routing.RegisterUnaryTransitVector(layout.demand[:, d].tolist())
        unlimited = int(np.abs(layout.demand[:, d]).sum()) + 1  # a vehicle without capacity
        caps = [v.capacity[d] if v.capacity else unlimited for v in layout.problem.vehicles]
        routing.AddDimensionWithVehicleCapacity(cb, 0, caps, True, f"load{d}")


def _limits(model: Model, distance_cb: int) -> None:
    layout, routing = model.layout, model.routing
    vehicles = layout.problem.vehicles
    if any(v.max_distance is not None for v in vehicles):
        big = 2**50
        caps = [to_int(v.max_distance, layout.distance_scale) if v.max_distance is not None else big
                for v in vehicles]
        routing.AddDimensionWithVehicleCapacity(distance_cb, 0, caps, True, "distance")
    if any(v.max_stops is not None for v in vehicles) or layout.problem.shipments:
        ones = [1] * layout.task_count + [0] * (layout.nodes - layout.task_count)
        cb = routing.RegisterUnaryTransitVector(ones)
        caps = [v.max_stops if v.max_stops is not None else layout.task_count for v in vehicles]
        routing.AddDimensionWithVehicleCapacity(cb, 0, caps, True, "rank")


def _shipments(model: Model) -> None:
    routing = model.routing
    if not model.layout.problem.shipments:
        return
    solver = routing.solver()
    rank = routing.GetDimensionOrDie("rank")
    for s in range(len(model.layout.problem.shipments)):
        p, d = (model.index(n) for n in model.layout.shipment_nodes(s))
        routing.AddPickupAndDelivery(p, d)
        solver.Add(routing.VehicleVar(p) == routing.VehicleVar(d))
        solver.Add(routing.ActiveVar(p) == routing.ActiveVar(d))
        solver.Add(rank.CumulVar(p) < rank.CumulVar(d))


def _skills(model: Model) -> None:
    layout, routing = model.layout, model.routing
    vehicle_skills = [frozenset(v.skills) for v in layout.problem.vehicles]
    for node in range(layout.task_count):
        need = layout.skills(node)
        if not need:
            continue
        allowed = [v for v, have in enumerate(vehicle_skills) if need <= have]
        # -1 is the vehicle of an unperformed node: the task may still be dropped
        routing.VehicleVar(model.index(node)).SetValues([-1, *allowed])


def _most_cost(layout: Layout, distance, horizon: int) -> float:
    """An upper bound on what all routes together can cost, in currency units."""
    p = layout.problem
    per_km = max(v.cost_per_km for v in p.vehicles)
    per_hour = max(v.cost_per_hour for v in p.vehicles)
    km = float(distance.max(axis=1).sum()) / layout.distance_scale / 1000
    hours = horizon * len(p.vehicles) / layout.time_scale / 3600
    return per_km * km + per_hour * hours + sum(v.fixed_cost for v in p.vehicles)


def _cost_scale(layout: Layout, distance, horizon: int) -> int:
    """Internal units per currency unit: ``COST_UNITS`` per unit of the time scale, fewer when
    what all routes could cost would not fit in ``MAX_TOTAL // 8`` of them (a plan of such
    costs is searched on a coarser grid; the costs it reports are the caller's, exact)."""
    unit = COST_UNITS * layout.time_scale
    if layout.problem.objective != "cost":
        return unit
    return max(1, min(unit, int(MAX_TOTAL // 8 / (_most_cost(layout, distance, horizon) + 1))))


def _route_bound(model: Model, distance, time, horizon: int) -> int:
    """An upper bound on what all routes together can cost, in objective units."""
    p = model.layout.problem
    if p.objective == "distance":
        arcs = float(distance.max(axis=1).sum())
    elif p.objective == "duration":
        arcs = float(time.max(axis=1).sum()) + horizon * len(p.vehicles)
    else:
        arcs = _most_cost(model.layout, distance, horizon) * model.cost_scale
    return int(min(arcs + 1, MAX_TOTAL // 4))


def _drops(model: Model, bound: int) -> None:
    layout, routing = model.layout, model.routing
    p = layout.problem
    vehicles_fee = bound if p.min_vehicles else 0
    if vehicles_fee:
        for v in range(len(p.vehicles)):
            routing.SetFixedCostOfVehicle(routing.GetFixedCostOfVehicle(v) + vehicles_fee, v)
    tasks = max(layout.task_count, 1)
    mandatory = min(2 * (bound + vehicles_fee) + 1, MAX_TOTAL // (4 * tasks))
    scale = model.objective_scale
    for i, stop in enumerate(p.stops):  # a penalty above a mandatory stop's is as good as mandatory
        pen = mandatory if stop.drop_penalty is None else min(to_int(stop.drop_penalty, scale), mandatory)
        routing.AddDisjunction([model.index(i)], pen)
    for s, shipment in enumerate(p.shipments):
        pen = mandatory if shipment.drop_penalty is None else min(to_int(shipment.drop_penalty, scale), mandatory)
        pickup, delivery = (model.index(n) for n in layout.shipment_nodes(s))
        routing.AddDisjunction([pickup], pen // 2)
        routing.AddDisjunction([delivery], pen - pen // 2)


def _locks(model: Model) -> None:
    layout, routing = model.layout, model.routing
    solver = routing.solver()
    vehicle_of = {v.id: i for i, v in enumerate(layout.problem.vehicles)}
    for lock in layout.problem.locked:
        previous = routing.Start(vehicle_of[lock.vehicle_id])
        for step in lock.steps:
            index = model.index(layout.step_node[step])
            solver.Add(routing.NextVar(previous) == index)
            previous = index
