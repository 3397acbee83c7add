"""Regions of a large plan: a few neighbouring routes, nearby unserved work and a spare vehicle,
cut out as a problem of their own.

A plan's objective is a sum over vehicles (each route's distance, duration or cost) plus the
penalties of the work nobody serves, and every constraint of the contract binds one vehicle
(capacity, windows, shift, skills, breaks, limits, locked steps; a shipment's two ends ride
together). So whole routes with their vehicles, and unserved work, form a problem whose
better solution is a better plan: the region problem is an ordinary contract problem over a
matrix of the places it uses, warm-started from its current routes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ...layout import Layout
from ...model import Matrix, Options, Problem, RouteSpec, Task


@dataclass
class Region:
    vehicles: list[int]  # vehicle indices of the full problem
    items: list[int]  # work items: a stop's index, or len(stops) + a shipment's index


class Items:
    """Work items of a laid-out problem: each stop, and each shipment (two nodes)."""

    def __init__(self, layout: Layout):
        self.layout = layout
        p = layout.problem
        self.stops, self.shipments = len(p.stops), len(p.shipments)
        self.count = self.stops + self.shipments
        node_item = list(range(self.stops)) + [self.stops + s for s in range(self.shipments)] * 2
        self.node_item = np.array(node_item, dtype=np.int64)
        first = [layout.place[n] for n in range(self.stops + self.shipments)]
        self.place = np.array([0 if q is None else q for q in first], dtype=np.int64)

    def nodes(self, item: int) -> list[int]:
        if item < self.stops:
            return [item]
        return list(self.layout.shipment_nodes(item - self.stops))

    def optional(self, item: int) -> bool:
        p = self.layout.problem
        thing = p.stops[item] if item < self.stops else p.shipments[item - self.stops]
        return thing.drop_penalty is not None

    def penalty(self, item: int) -> float:
        p = self.layout.problem
        thing = p.stops[item] if item < self.stops else p.shipments[item - self.stops]
        return thing.drop_penalty or 0.0


def around(items: Items, routes: list[list[int]], vehicle_of: np.ndarray, seed: int,
           size: int, per_route: float, skip: set[int] | frozenset[int] = frozenset()) -> Region:
    """The routes and unserved items nearest to item ``seed``, until ``size`` task nodes,
    plus the unused vehicles whose start is nearest to it: one, and one more per
    ``per_route`` unserved task nodes taken (enough to serve them in routes of that length).
    Vehicles in ``skip`` (and the items they serve) are left out."""
    travel = items.layout.travel
    here = items.place[seed]
    reach = travel.distances[here, items.place] + travel.distances[items.place, here]
    reach = np.where(np.isfinite(reach), reach, np.inf)
    order = np.argsort(reach, kind="stable")
    vehicles: list[int] = []
    chosen: list[int] = []
    taken = set()
    nodes = unserved = 0
    for item in order.tolist():
        if nodes >= size:
            break
        if item in taken:
            continue
        v = int(vehicle_of[item])
        if v in skip:
            continue
        if v < 0:
            taken.add(item)
            chosen.append(item)
            nodes += len(items.nodes(item))
            unserved += len(items.nodes(item))
        elif v not in vehicles:
            vehicles.append(v)
            route_items = _route_items(items, routes[v])
            taken.update(route_items)
            chosen.extend(route_items)
            nodes += len(routes[v])
    unused = [v for v in range(len(routes)) if not routes[v] and v not in vehicles and v not in skip]
    spare = 1 + math.ceil(unserved / max(per_route, 1.0))
    if unused:
        starts = travel.start_place
        far = [(_leg(travel, starts[v], here), v) for v in unused]
        vehicles.extend(v for _, v in sorted(far)[:spare])
    return Region(vehicles, chosen)


def _leg(travel, a, b) -> float:
    if a is None:
        return 0.0
    value = float(travel.distances[a, b])
    return value if math.isfinite(value) else math.inf


def _route_items(items: Items, route: list[int]) -> list[int]:
    seen: list[int] = []
    for node in route:
        item = int(items.node_item[node])
        if item not in seen:
            seen.append(item)
    return seen


def problem_of(items: Items, region: Region, routes: list[list[int]], *, time_limit: float,
               seed: int) -> Problem:
    """The region as a contract problem over a matrix of its places."""
    layout = items.layout
    p, travel = layout.problem, layout.travel
    places: dict[int, int] = {}

    def local(place: int | None) -> int | None:
        return None if place is None else places.setdefault(place, len(places))

    stops, shipments = [], []
    for item in region.items:
        if item < items.stops:
            stop = p.stops[item]
            stops.append(stop.model_copy(update={"location": None,
                                                 "location_index": local(layout.place[item])}))
        else:
            s = item - items.stops
            pickup, delivery = layout.shipment_nodes(s)
            shipment = p.shipments[s]
            stops_of = {"pickup": _at(shipment.pickup, local(layout.place[pickup])),
                        "delivery": _at(shipment.delivery, local(layout.place[delivery]))}
            shipments.append(shipment.model_copy(update=stops_of))
    vehicles = []
    for v in region.vehicles:
        vehicle = p.vehicles[v]
        vehicles.append(vehicle.model_copy(update={
            "start": None, "end": None,
            "start_index": local(travel.start_place[v]), "end_index": local(travel.end_place[v])}))
    index = np.array(list(places), dtype=np.int64)
    sub = np.ix_(index, index)
    matrix = Matrix.model_construct(distances=_cells(travel.distances[sub]),
                                    durations=_cells(travel.durations[sub]))
    ids = {p.vehicles[v].id for v in region.vehicles}
    warm = [RouteSpec.model_construct(vehicle_id=p.vehicles[v].id,
                                      steps=[layout.tasks[n].step for n in routes[v]])
            for v in region.vehicles if routes[v]]
    return p.model_copy(update={
        "vehicles": vehicles, "stops": stops, "shipments": shipments, "matrix": matrix,
        "initial_routes": warm, "locked": [spec for spec in p.locked if spec.vehicle_id in ids],
        "options": Options(time_limit=time_limit, seed=seed, speed_kmh=p.options.speed_kmh),
    })


def _at(task: Task, index: int | None) -> Task:
    return task.model_copy(update={"location": None, "location_index": index})


def _cells(values: np.ndarray) -> list[list[float | None]]:
    return [[x if math.isfinite(x) else None for x in row] for row in values.tolist()]
