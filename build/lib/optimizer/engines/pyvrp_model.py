"""Our problem as ``pyvrp.ProblemData``, exactly, and PyVRP's solutions back as node orders.

One PyVRP location per layout node (tasks, then depots, then the shared free node of open
routes, whose travel is 0 both ways). Stops are clients whose ``demand`` is a pickup (our
loads accumulate along the route); shipments are PyVRP shipments. Identical vehicles make
one vehicle type. Optional work is ``required=False`` with its drop penalty as prize; the
objective becomes unit distance or duration costs (``units``). A missing road, and an arc
into a task whose skills a vehicle type lacks (its own routing profile), is longer than any
route, with ``max_distance`` capped below that length. ``max_stops`` is one more load
dimension (1 per stop; PyVRP counts shipments differently, so not with shipments).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..layout import Layout
from ..scaling import to_int
from .units import Arcs, NotExact, Units, arcs, fits, units

MAX_VALUE = 1 << 44  # PyVRP's largest matrix value
MAX_COST = 1 << 60


@dataclass(eq=False)
class Translation:
    layout: Layout
    data: object  # pyvrp.ProblemData
    type_vehicles: list[list[int]]  # our vehicle indices per PyVRP vehicle type
    vehicle_type: list[int]  # PyVRP vehicle type per vehicle
    units: Units
    fee: int  # added to every fixed cost for min_vehicles


def limits(layout: Layout) -> list[str]:
    """Why PyVRP's integers cannot hold this problem exactly (empty: they can)."""
    return fits(_numbers, layout)


def _numbers(layout: Layout) -> tuple[Arcs, Units, int, int | None]:
    a, u = arcs(layout), units(layout)
    p = layout.problem
    forbid = a.missing.any() or any(x.skills for x in [*p.stops, *p.shipments])
    long_arc = a.bound + 1 if forbid else None
    if max(a.bound + 1, a.time_bound, int(a.distance.max(initial=0))) >= MAX_VALUE:
        raise NotExact("pyvrp: travel in the layout's units exceeds PyVRP's 2^44")
    fee = u.bound(a) if p.min_vehicles else 0
    worst = (long_arc or a.bound) * max(u.per_distance, default=0) + u.bound(a) + fee * len(p.vehicles)
    worst += sum(u.penalty(x.drop_penalty) for x in [*p.stops, *p.shipments] if x.drop_penalty)
    if worst >= MAX_COST:
        raise NotExact("pyvrp: the objective in exact integer units would overflow")
    return a, u, fee, long_arc


def translate(layout: Layout) -> Translation:
    import pyvrp

    a, u, fee, long_arc = _numbers(layout)
    p, ts, ds = layout.problem, layout.time_scale, layout.distance_scale
    dims = p.dimensions
    counting = any(v.max_stops is not None for v in p.vehicles)
    total = [int(x) for x in np.abs(layout.demand).sum(axis=0)] if dims else []

    def window(ws) -> dict:
        if not ws:
            return {}
        (lo, hi), = ws
        return {"tw_early": to_int(lo, ts), "tw_late": to_int(hi, ts)}

    def prize(item) -> dict:
        if item.drop_penalty is None:
            return {}
        return {"required": False, "prize": u.penalty(item.drop_penalty)}

    clients = []
    for i, stop in enumerate(p.stops):
        amount = [*(stop.demand or [0] * dims), *([1] if counting else [])]
        clients.append(pyvrp.Client(location=i, pickup=amount, service_duration=to_int(stop.service, ts),
                                    **window(layout.windows[i]), **prize(stop), name=stop.id))
    shipments = []
    for s, shipment in enumerate(p.shipments):
        pn, dn = layout.shipment_nodes(s)
        pw, dw = window(layout.windows[pn]), window(layout.windows[dn])
        shipments.append(pyvrp.Shipment(
            pickup_location=pn, delivery_location=dn,
            pickup_service_duration=to_int(shipment.pickup.service, ts),
            delivery_service_duration=to_int(shipment.delivery.service, ts),
            **{f"pickup_{k}": x for k, x in pw.items()}, **{f"delivery_{k}": x for k, x in dw.items()},
            amount=list(shipment.amount or [0] * dims), **prize(shipment), name=shipment.id))
    first_depot = layout.task_count
    depots = [pyvrp.Depot(location=n) for n in range(first_depot, layout.nodes)]

    def profile_of(vehicle) -> frozenset[str]:  # the skills that shape its arcs
        return frozenset(vehicle.skills) if long_arc is not None else frozenset()

    profiles: dict[frozenset[str], int] = {}
    groups: dict[tuple, list[int]] = {}
    for v, vehicle in enumerate(p.vehicles):
        profile = profiles.setdefault(profile_of(vehicle), len(profiles))
        key = (layout.starts[v], layout.ends[v], tuple(vehicle.capacity), vehicle.time_window,
               vehicle.max_duration, vehicle.max_distance, vehicle.max_stops, profile,
               u.per_distance[v], u.per_duration[v], u.fixed[v])
        groups.setdefault(key, []).append(v)
    vehicle_types, vehicle_type = [], [0] * len(p.vehicles)
    for t, members in enumerate(groups.values()):
        v = members[0]
        vehicle = p.vehicles[v]
        for w in members:
            vehicle_type[w] = t
        capacity = list(vehicle.capacity) or total
        if counting:
            capacity = [*capacity, vehicle.max_stops if vehicle.max_stops is not None else layout.task_count]
        extra = {}
        if vehicle.time_window:
            extra.update(tw_early=to_int(vehicle.time_window[0], ts), tw_late=to_int(vehicle.time_window[1], ts))
        if vehicle.max_duration is not None:
            extra["shift_duration"] = to_int(vehicle.max_duration, ts)
        max_distance = to_int(vehicle.max_distance, ds) if vehicle.max_distance is not None else None
        if long_arc is not None:
            max_distance = min(max_distance if max_distance is not None else a.bound, a.bound)
        if max_distance is not None:
            extra["max_distance"] = max_distance
        vehicle_types.append(pyvrp.VehicleType(
            num_available=len(members), capacity=capacity,
            start_depot=layout.starts[v] - first_depot, end_depot=layout.ends[v] - first_depot,
            fixed_cost=u.fixed[v] + fee, unit_distance_cost=u.per_distance[v],
            unit_duration_cost=u.per_duration[v], profile=profiles[profile_of(vehicle)],
            name=vehicle.id, **extra))

    distance = a.distance.copy()
    if long_arc is not None:
        distance[a.missing] = long_arc
    distances = []
    for skills in profiles:
        matrix = distance.copy()
        lacking = [n for n in range(layout.task_count) if not layout.skills(n) <= skills]
        if lacking:
            matrix[:, lacking] = long_arc
            np.fill_diagonal(matrix, 0)
        distances.append(matrix)
    data = pyvrp.ProblemData(
        locations=[pyvrp.Location(0.0, 0.0) for _ in range(layout.nodes)], clients=clients,
        depots=depots, vehicle_types=vehicle_types, distance_matrices=distances,
        duration_matrices=[a.duration] * len(distances), shipments=shipments)
    return Translation(layout, data, [list(m) for m in groups.values()], vehicle_type, u, fee)
