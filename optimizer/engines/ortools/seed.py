"""A fast first solution for large problems, built with numpy in the model's own units.

OR-Tools' construction heuristics check every insertion against every constraint; on
thousands of stops with time windows none of them finishes within minutes. Here each
vehicle in turn repeatedly takes the stop whose service can start soonest (a nearest
neighbour in time), respecting windows, shift, capacity, skills, stop count, distance and
duration limits: one vector operation per step. The routes then warm-start the local search,
which inserts whatever was left over.

Only problems this construction models exactly are seeded: plain stops with at most one
time window, no shipments, breaks or missing roads.
"""

from __future__ import annotations

import numpy as np

from ...layout import Layout
from ...scaling import to_int

INF = np.iinfo(np.int64).max // 4


def applicable(layout: Layout) -> bool:
    p = layout.problem
    return (not p.shipments and not p.locked and not p.initial_routes
            and all(len(w) <= 1 for w in layout.windows)
            and not any(v.breaks for v in p.vehicles))


def greedy_routes(layout: Layout, time: np.ndarray, distance: np.ndarray) -> list[list[int]]:
    """Task nodes per vehicle. ``time[i, j]`` is travel plus service at i, in model units."""
    p, ts, ds = layout.problem, layout.time_scale, layout.distance_scale
    n = layout.task_count
    tasks = np.arange(n)
    lo = np.array([to_int(w[0][0], ts) if w else 0 for w in layout.windows[:n]], dtype=np.int64)
    hi = np.array([to_int(w[0][1], ts) if w else INF for w in layout.windows[:n]], dtype=np.int64)
    demand = layout.demand[:n]
    free = np.ones(n, dtype=bool)
    skills = [layout.skills(i) for i in range(n)]
    routes: list[list[int]] = []
    for v, vehicle in enumerate(p.vehicles):
        route: list[int] = []
        routes.append(route)
        if not free.any():
            continue
        allowed = free & np.array([s <= frozenset(vehicle.skills) for s in skills])
        cap = np.array(vehicle.capacity, dtype=np.int64) if vehicle.capacity else None
        shift_lo, shift_hi = ((to_int(x, ts) for x in vehicle.time_window) if vehicle.time_window else (0, INF))
        max_d = to_int(vehicle.max_distance, ds) if vehicle.max_distance is not None else INF
        max_t = to_int(vehicle.max_duration, ts) if vehicle.max_duration is not None else INF
        max_n = vehicle.max_stops if vehicle.max_stops is not None else n
        here, end = layout.starts[v], layout.ends[v]
        clock, start_clock, driven = shift_lo, shift_lo, 0
        load = np.zeros(demand.shape[1], dtype=np.int64)
        while len(route) < max_n:
            ok = allowed & free
            if cap is not None:
                ok &= np.all(load + demand <= cap, axis=1)
            begin = np.maximum(clock + time[here, tasks], lo)
            back = begin + time[tasks, end]
            ok &= (begin <= hi) & (back <= shift_hi) & (back - start_clock <= max_t)
            ok &= driven + distance[here, tasks] + distance[tasks, end] <= max_d
            if not ok.any():
                break
            choice = int(np.argmin(np.where(ok, begin, INF)))
            route.append(choice)
            free[choice] = False
            load += demand[choice]
            driven += int(distance[here, choice])
            clock, here = int(begin[choice]), choice
    return routes
