"""The reference for ``explain``: the smallest relaxation found by trying them all, with the
checker as the only judge.

For one unassigned task and one kind of relaxation, every vehicle and every place in its
route is tried: the route's steps are given to ``optimizer.check`` with the task among them
and no times at all (the checker then times the route at the earliest from its start's
departure, ``fits``), the other routes as reported, on a copy of the problem relaxed by a size. Feasibility only grows with the size,
so each (vehicle, place) is searched by bisection over sizes up to a cap; the smallest over
all of them is what the relaxation needs. Nothing of ``optimizer.decisions`` is used.
"""

from __future__ import annotations

import math

from optimizer import check

CAP_S = 1e6  # seconds (or metres) a relaxation is searched up to
STEP = 1e-3  # the bisection's last step


def fits(problem, solution, kind: str, ident: str, vehicle_id: str, steps: list[dict]) -> bool:
    """Does vehicle ``vehicle_id`` serving ``steps`` (the unassigned task among them) pass the
    checker, leaving its start at some time? The checker times a route from its start step's
    departure: at the shift's opening first; when only max_duration fails there, at the
    latest departure that keeps every window (found by bisection: lateness only grows with
    it, the duration only shrinks)."""
    found = _kinds(problem, solution, kind, ident, vehicle_id, steps, None)
    if found != {"max_duration"}:
        return not found
    vehicle = next(v for v in problem.vehicles if v.id == vehicle_id)
    low = vehicle.time_window[0] if vehicle.time_window else 0.0
    high = vehicle.time_window[1] if vehicle.time_window else low + CAP_S
    while high - low > STEP:
        middle = (low + high) / 2
        late = _kinds(problem, solution, kind, ident, vehicle_id, steps, middle) - {"max_duration"}
        low, high = (middle, high) if not late else (low, middle)
    return not _kinds(problem, solution, kind, ident, vehicle_id, steps, low)


def _kinds(problem, solution, kind, ident, vehicle_id, steps, departure) -> set[str]:
    """The kinds of violation of the plan with ``vehicle_id``'s route replaced (the other
    routes as the solution reports them, times included)."""
    start = [{"type": "start", "departure": departure}] if departure is not None else []
    routes = [r.model_dump(mode="json", exclude_none=True) for r in solution.routes if r.vehicle_id != vehicle_id]
    routes.append({"vehicle_id": vehicle_id, "steps": start + steps})
    unassigned = [{"type": u.type, "id": u.id} for u in solution.unassigned if u.id != ident or u.type != kind]
    document = {"status": "feasible", "unassigned": unassigned, "routes": routes}
    return {x.kind for x in check(problem, document) if x.kind != "status"}


def places(solution, vehicle_id: str, kind: str, ident: str):
    """Every step list of the vehicle with the task in it."""
    route = next((r for r in solution.routes if r.vehicle_id == vehicle_id), None)
    steps = [{"type": s.type, "id": s.id} for s in route.steps if s.type not in ("start", "end")] if route else []
    if kind == "stop":
        for p in range(len(steps) + 1):
            yield steps[:p] + [{"type": "stop", "id": ident}] + steps[p:]
        return
    for p in range(len(steps) + 1):
        for q in range(p, len(steps) + 1):
            yield (steps[:p] + [{"type": "pickup", "id": ident}] + steps[p:q]
                   + [{"type": "delivery", "id": ident}] + steps[q:])


def relax(problem, fix_kind: str, kind: str, ident: str, vehicle_id: str, size: float, added=()):
    if fix_kind == "time_window":
        def widen(windows):
            return [(max(0.0, lo - size), hi + size) for lo, hi in windows]
        if kind == "stop":
            stops = [s.model_copy(update={"time_windows": widen(s.time_windows)}) if s.id == ident else s
                     for s in problem.stops]
            return problem.model_copy(update={"stops": stops})
        shipments = [s.model_copy(update={
            "pickup": s.pickup.model_copy(update={"time_windows": widen(s.pickup.time_windows)}),
            "delivery": s.delivery.model_copy(update={"time_windows": widen(s.delivery.time_windows)}),
        }) if s.id == ident else s for s in problem.shipments]
        return problem.model_copy(update={"shipments": shipments})
    vehicles = []
    for v in problem.vehicles:
        if v.id == vehicle_id:
            if fix_kind == "shift_end":
                v = v.model_copy(update={"time_window": (v.time_window[0], v.time_window[1] + size)})
            elif fix_kind == "capacity":
                v = v.model_copy(update={"capacity": [c + a for c, a in zip(v.capacity, added, strict=True)]})
            elif fix_kind == "skills":
                v = v.model_copy(update={"skills": [*v.skills, *added]})
            elif fix_kind == "max_stops":
                v = v.model_copy(update={"max_stops": v.max_stops + math.ceil(size)})
            else:
                v = v.model_copy(update={fix_kind: getattr(v, fix_kind) + size})
        vehicles.append(v)
    return problem.model_copy(update={"vehicles": vehicles})


def smallest(problem, solution, fix_kind: str, kind: str, ident: str) -> float | None:
    """The least size of ``fix_kind`` (over every vehicle and place) that lets the task in;
    None when no size up to the cap does. Capacity: the least total added (each dimension
    searched alone, then together); skills: the fewest skills added."""
    best = None
    for vehicle in problem.vehicles:
        if fix_kind in ("shift_end",) and vehicle.time_window is None:
            continue
        if fix_kind in ("max_duration", "max_distance", "max_stops") and getattr(vehicle, fix_kind) is None:
            continue
        for steps in places(solution, vehicle.id, kind, ident):
            size = _least(problem, solution, fix_kind, kind, ident, vehicle, steps)
            if size is not None and (best is None or size < best):
                best = size
    return best


def _least(problem, solution, fix_kind, kind, ident, vehicle, steps) -> float | None:
    def ok(size: float, added=()) -> bool:
        return fits(relax(problem, fix_kind, kind, ident, vehicle.id, size, added), solution, kind, ident,
                    vehicle.id, steps)

    if fix_kind == "skills":
        items = problem.stops if kind == "stop" else problem.shipments
        needed = next(i.skills for i in items if i.id == ident)
        lacking = tuple(sorted(set(needed) - set(vehicle.skills)))
        return float(len(lacking)) if lacking and ok(0, lacking) else None
    if fix_kind == "capacity":
        for total in range(1, 64):  # the least total over every split (one dimension here)
            for added in _splits(total, len(vehicle.capacity)):
                if ok(0, added):
                    return float(total)
        return None
    if fix_kind == "max_stops":
        return next((float(n) for n in range(1, 16) if ok(n)), None)
    if not ok(CAP_S):
        return None
    low, high = 0.0, CAP_S
    if ok(low):
        return None  # it fits without: not a relaxation
    while high - low > STEP:
        middle = (low + high) / 2
        low, high = (low, middle) if ok(middle) else (middle, high)
    return high


def _splits(total: int, dims: int):
    if dims == 1:
        yield (total,)
        return
    for first in range(total + 1):
        for rest in _splits(total - first, dims - 1):
            yield (first, *rest)
