"""Our problem as a ``vroom.Input``, exactly, for the problems VROOM can hold.

One VROOM location per layout node; a vehicle without a start (or end) gets none, which is
VROOM's open route. The objective is a custom cost matrix per routing profile (one per
distinct price per distance tick, ``units``) plus fixed costs, so VROOM minimises our
distance or cost; stops are jobs whose ``demand`` is a pickup, shipments are shipments,
skills are numbered, several time windows and breaks are VROOM's own, ``max_stops`` is
``max_tasks``. A missing road is an arc longer than any route, with ``max_distance`` capped
below it. VROOM's matrices are 32-bit: a problem whose integers do not fit is unsupported.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..layout import Layout
from ..scaling import to_int
from .units import NotExact, Units, arcs, fits, units

MAX_UINT32 = (1 << 32) - 1
MAX_FEE = 1 << 40


@dataclass(eq=False)
class Translation:
    layout: Layout
    input: object  # vroom.Input
    breaks: dict[int, tuple[int, str]]  # VROOM break id -> (vehicle, our break id)
    units: Units


def _matrices(layout: Layout):
    a, u = arcs(layout), units(layout)
    p = layout.problem
    distance = a.distance.copy()
    capped = bool(a.missing.any())
    if capped:
        distance[a.missing] = a.bound + 1
    costs = {k: distance * k for k in sorted(set(u.per_distance))}
    ts = layout.time_scale
    ends = [b for ws in layout.windows for _, b in ws]
    ends += [x for v in p.vehicles for x in (v.time_window or ())]
    ends += [b + brk.duration for v in p.vehicles for brk in v.breaks for _, b in brk.time_windows]
    biggest = max([int(distance.max(initial=0)), a.time_bound, to_int(max(ends, default=0.0), ts)]
                  + [int(m.max(initial=0)) for m in costs.values()])
    # a max_distance beyond every route's longest possible distance is the same limit as that one
    limits = [min(to_int(v.max_distance, layout.distance_scale), a.bound) for v in p.vehicles
              if v.max_distance is not None]
    if biggest > MAX_UINT32 or max(limits, default=0) > MAX_UINT32:
        raise NotExact("vroom: travel, times, costs or limits in exact integer units exceed 32 bits")
    fee = u.bound(a) if p.min_vehicles else 0
    if fee + max(u.fixed, default=0) > MAX_FEE:
        raise NotExact("vroom: fixed costs in exact integer units are too large")
    return a, u, distance, costs, capped, fee


def limits(layout: Layout) -> list[str]:
    """Why VROOM's integers cannot hold this problem exactly (empty: they can)."""
    return fits(_matrices, layout)


def translate(layout: Layout) -> Translation:
    import vroom

    a, u, distance, costs, capped, fee = _matrices(layout)
    p, ts, ds = layout.problem, layout.time_scale, layout.distance_scale
    dims = p.dimensions
    total = [int(x) for x in np.abs(layout.demand).sum(axis=0)] if dims else []
    skill_ids: dict[str, int] = {}

    def skills(names) -> set[int]:
        return {skill_ids.setdefault(s, len(skill_ids)) for s in names}

    def windows(node: int) -> dict:
        ws = layout.windows[node]
        return {"time_windows": [vroom.TimeWindow(to_int(lo, ts), to_int(hi, ts)) for lo, hi in ws]} if ws else {}

    inp = vroom.Input()
    profile = {k: f"p{i}" for i, k in enumerate(costs)}
    for k, name in profile.items():
        inp.set_durations_matrix(name, a.duration)
        inp.set_distances_matrix(name, distance)
        inp.set_costs_matrix(name, costs[k])
    breaks: dict[int, tuple[int, str]] = {}
    for v, vehicle in enumerate(p.vehicles):
        extra = {}
        if vehicle.time_window:
            extra["time_window"] = vroom.TimeWindow(*(to_int(x, ts) for x in vehicle.time_window))
        if vehicle.max_stops is not None:
            extra["max_tasks"] = vehicle.max_stops
        limit = min(to_int(vehicle.max_distance, ds), a.bound) if vehicle.max_distance is not None else None
        if capped:
            limit = min(limit if limit is not None else a.bound, a.bound)
        if limit is not None:
            extra["max_distance"] = limit
        vehicle_breaks = []
        for brk in vehicle.breaks:
            breaks[len(breaks)] = (v, brk.id)
            vehicle_breaks.append(vroom.Break(
                len(breaks) - 1, service=to_int(brk.duration, ts),
                time_windows=[vroom.TimeWindow(to_int(lo, ts), to_int(hi, ts)) for lo, hi in brk.time_windows]))
        start, end = layout.travel.start_place[v], layout.travel.end_place[v]
        inp.add_vehicle(vroom.Vehicle(
            v, start=None if start is None else layout.starts[v], end=None if end is None else layout.ends[v],
            profile=profile[u.per_distance[v]], capacity=list(vehicle.capacity) or total,
            skills=skills(vehicle.skills), breaks=vehicle_breaks,
            costs=vroom.VehicleCosts(fixed=u.fixed[v] + fee), **extra))
    for i, stop in enumerate(p.stops):
        inp.add_job(vroom.Job(i, location=i, default_service=to_int(stop.service, ts),
                              pickup=vroom.Amount(list(stop.demand or [0] * dims)),
                              skills=skills(stop.skills), **windows(i)))
    for s, shipment in enumerate(p.shipments):
        pn, dn = layout.shipment_nodes(s)
        inp.add_shipment(
            vroom.ShipmentStep(pn, location=pn, default_service=to_int(shipment.pickup.service, ts), **windows(pn)),
            vroom.ShipmentStep(dn, location=dn, default_service=to_int(shipment.delivery.service, ts), **windows(dn)),
            amount=vroom.Amount(list(shipment.amount or [0] * dims)), skills=skills(shipment.skills))
    return Translation(layout, inp, breaks, u)
