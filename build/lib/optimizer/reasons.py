"""Why an unassigned stop or shipment fits no vehicle.

Each vehicle is tried alone with the task alone (start, task, end). The checks run in a
fixed order; a vehicle's reason is the first check it fails. When some vehicle passes every
check the task was ``dropped`` (it fits, but not beside the other work, or not at its
penalty); otherwise the reported reason is that of the vehicle that came closest, the one
failing latest in the order.
"""

from __future__ import annotations

import math

from .layout import Layout

ORDER = ("skills", "capacity", "unreachable", "time_window", "max_distance", "max_duration")


def reason(layout: Layout, nodes: list[int]) -> str:
    """Reason for leaving the task made of ``nodes`` (one stop, or pickup then delivery)."""
    best = -1
    for v in layout.distinct_vehicles:
        failed = _first_failure(layout, v, nodes)
        if failed is None:
            return "dropped"
        best = max(best, ORDER.index(failed))
    return ORDER[best] if best >= 0 else "dropped"


def _first_failure(layout: Layout, v: int, nodes: list[int]) -> str | None:
    vehicle = layout.problem.vehicles[v]
    if not layout.skills(nodes[0]) <= frozenset(vehicle.skills):
        return "skills"
    load = layout.demand[nodes[0]]
    if vehicle.capacity and any(d > c for d, c in zip(load, vehicle.capacity, strict=True)):
        return "capacity"
    if vehicle.max_stops is not None and vehicle.max_stops < len(nodes):
        return "capacity"
    travel = layout.travel
    places = [travel.start_place[v], *(layout.place[n] for n in nodes), travel.end_place[v]]
    legs = list(zip(places, places[1:], strict=False))
    if any(not math.isfinite(travel.distance(a, b) + travel.duration(a, b)) for a, b in legs):
        return "unreachable"
    if not _in_time(layout, v, nodes, legs):
        return "time_window"
    if vehicle.max_distance is not None and sum(travel.distance(a, b) for a, b in legs) > vehicle.max_distance:
        return "max_distance"
    busy = sum(travel.duration(a, b) for a, b in legs) + sum(layout.service[n] for n in nodes)
    if vehicle.max_duration is not None and busy > vehicle.max_duration:
        return "max_duration"
    return None


def _in_time(layout: Layout, v: int, nodes: list[int], legs) -> bool:
    window = layout.problem.vehicles[v].time_window
    clock = window[0] if window else 0.0
    for node, (a, b) in zip(nodes, legs, strict=False):
        arrival = clock + layout.travel.duration(a, b)
        start = earliest_in(layout.windows[node], arrival)
        if start is None:
            return False
        clock = start + layout.service[node]
    clock += layout.travel.duration(*legs[-1])
    return window is None or clock <= window[1]


def earliest_in(windows, t: float) -> float | None:
    """Earliest time at or after ``t`` inside one of ``windows`` (none: any time)."""
    if not windows:
        return t
    starts = [max(t, a) for a, b in windows if max(t, a) <= b]
    return min(starts) if starts else None
