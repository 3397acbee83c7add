"""The problem laid out as numbered nodes with integer data, ready for a routing model.

Nodes ``0 .. tasks-1`` are the tasks (stops, then shipment pickups, then deliveries);
after them come one node per distinct vehicle start or end place, and one shared "free"
node for vehicles without a start or an end (travel to and from it costs nothing).
Times are in ``1 / time_scale`` seconds, distances in ``1 / distance_scale`` metres.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from .model import Problem, Window
from .scaling import decimal_scale
from .travel import Travel

FREE = None  # the place of a missing start or end


@dataclass(frozen=True)
class Task:
    kind: str  # "stop" | "pickup" | "delivery"
    index: int  # position in problem.stops or problem.shipments
    id: str

    @property
    def step(self) -> str:
        return self.id if self.kind == "stop" else f"{self.id}:{self.kind}"


@dataclass(eq=False)
class Layout:
    problem: Problem
    travel: Travel
    tasks: list[Task]
    place: list[int | None]  # travel place of every node
    service: list[float]  # seconds, per node
    windows: list[tuple[Window, ...]]  # per node, sorted; empty = any time
    demand: np.ndarray  # (nodes, dimensions) int; deliveries negative
    starts: list[int]  # node per vehicle
    ends: list[int]
    time_scale: int
    distance_scale: int
    step_node: dict[str, int] = field(default_factory=dict)

    @property
    def nodes(self) -> int:
        return len(self.place)

    @property
    def task_count(self) -> int:
        return len(self.tasks)

    def shipment_nodes(self, s: int) -> tuple[int, int]:
        stops, shipments = len(self.problem.stops), len(self.problem.shipments)
        return stops + s, stops + shipments + s

    @cached_property
    def distinct_vehicles(self) -> list[int]:
        """One vehicle of each group that differs only in id and costs."""
        seen: dict[tuple, int] = {}
        for v, vehicle in enumerate(self.problem.vehicles):
            key = (self.travel.start_place[v], self.travel.end_place[v], tuple(vehicle.capacity),
                   tuple(sorted(vehicle.skills)), vehicle.time_window, vehicle.max_distance,
                   vehicle.max_duration, vehicle.max_stops)
            seen.setdefault(key, v)
        return list(seen.values())

    def skills(self, node: int) -> frozenset[str]:
        task = self.tasks[node]
        item = self.problem.stops[task.index] if task.kind == "stop" else self.problem.shipments[task.index]
        return frozenset(item.skills)

    def place_matrix(self, values: np.ndarray, scale: int, extra: list[float] | None = None) -> np.ndarray:
        """Node-by-node integer matrix from a place matrix; ``extra[i]`` is added to row i.

        Travel to or from the free node is 0; an arc with no road is marked ``-1``.
        """
        real = [0 if p is FREE else p for p in self.place]
        # no place at all (vehicles without start or end, nothing to visit): nothing to index
        sub = np.zeros((len(real), len(real))) if len(values) == 0 else values[np.ix_(real, real)]
        free = np.array([p is FREE for p in self.place])
        sub[free, :] = 0.0
        sub[:, free] = 0.0
        np.fill_diagonal(sub, 0.0)
        missing = ~np.isfinite(sub)
        sub[missing] = 0.0
        sub *= scale
        if extra is not None:
            sub += np.asarray(extra, dtype=np.float64)[:, None] * scale
        out = np.rint(sub).astype(np.int64)
        out[missing] = -1
        return out


def lay_out(problem: Problem, travel: Travel | None = None) -> Layout:
    travel = travel or Travel.of(problem)
    tasks: list[Task] = []
    place: list[int | None] = []
    service: list[float] = []
    windows: list[tuple[Window, ...]] = []
    dims = problem.dimensions
    demand_rows: list[list[int]] = []

    def add(task: Task, where, svc, tws, amount):
        tasks.append(task)
        place.append(where)
        service.append(svc)
        windows.append(tuple(sorted(tws)))
        demand_rows.append(list(amount) or [0] * dims)

    for i, s in enumerate(problem.stops):
        add(Task("stop", i, s.id), travel.stop_place[i], s.service, s.time_windows, s.demand)
    for i, s in enumerate(problem.shipments):
        add(Task("pickup", i, s.id), travel.pickup_place[i], s.pickup.service,
            s.pickup.time_windows, s.amount)
    for i, s in enumerate(problem.shipments):
        add(Task("delivery", i, s.id), travel.delivery_place[i], s.delivery.service,
            s.delivery.time_windows, [-a for a in s.amount])

    depot: dict[object, int] = {}

    def depot_node(where) -> int:
        key = ("free",) if where is FREE else where
        if key not in depot:
            depot[key] = len(place)
            place.append(where)
            service.append(0.0)
            windows.append(())
            demand_rows.append([0] * dims)
        return depot[key]

    starts = [depot_node(p) for p in travel.start_place]
    ends = [depot_node(p) for p in travel.end_place]

    # whole matrices cannot need a finer scale: checking them would cost seconds at scale
    times: list = [service] if travel.whole else [travel.durations, service]
    for w in windows:
        times.extend(w)
    for v in problem.vehicles:
        times.extend([v.time_window or (), v.max_duration or 0])
        for b in v.breaks:
            times.append(b.duration)
            times.extend(b.time_windows)
    distances: list = [[v.max_distance or 0 for v in problem.vehicles]]
    if not travel.whole:
        distances.append(travel.distances)
    layout = Layout(
        problem=problem,
        travel=travel,
        tasks=tasks,
        place=place,
        service=service,
        windows=windows,
        demand=np.array(demand_rows, dtype=np.int64).reshape(len(place), dims),
        starts=starts,
        ends=ends,
        time_scale=decimal_scale([np.asarray(t, dtype=np.float64) for t in times]),
        distance_scale=decimal_scale(distances),
    )
    layout.step_node.update({t.step: n for n, t in enumerate(tasks)})
    return layout
