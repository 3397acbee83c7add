"""The road geometry of a solved job's routes, asked of the road source it was priced on.

``route_geometry(settings, problem, solution)`` gives vehicle id -> GeoJSON LineString
coordinates ([lon, lat] points) of each route, start to end, through its stops, joined from
the source's ``route`` legs. Bounded like every road request (``roads.client``); a source
that cannot answer raises ``TravelSourceUnavailable``.
"""

from __future__ import annotations

from typing import Any

from optimizer import Problem

from .matrices import client

GEOMETRY_DEADLINE_S = 10.0  # for all the routes of one job


def route_geometry(settings, problem: Problem, solution: dict[str, Any]) -> dict[str, list[list[float]]]:
    where = _places(problem)
    road = client(settings, (problem.travel.profile if problem.travel else "car"), deadline_s=GEOMETRY_DEADLINE_S)
    out: dict[str, list[list[float]]] = {}
    for route in solution.get("routes") or []:
        vehicle = str(route.get("vehicle_id"))
        points = [where[key] for key in _keys(route) if key in where]
        if len(points) < 2:
            continue
        line: list[list[float]] = []
        for leg in road.route(points):
            coordinates = leg["geometry"]["coordinates"]
            line.extend(coordinates if not line else coordinates[1:])
        out[vehicle] = line
    return out


def _keys(route: dict) -> list[tuple[str, str]]:
    vehicle = str(route.get("vehicle_id"))
    keys = []
    for step in route.get("steps") or []:
        kind = step.get("type")
        if kind in ("start", "end"):
            keys.append((kind, vehicle))
        elif kind in ("stop", "pickup", "delivery"):
            keys.append((kind, str(step.get("id"))))
    return keys


def _places(problem: Problem) -> dict[tuple[str, str], tuple[float, float]]:
    where: dict[tuple[str, str], tuple[float, float]] = {}
    for s in problem.stops:
        if s.location:
            where[("stop", s.id)] = tuple(s.location)
    for s in problem.shipments:
        for kind in ("pickup", "delivery"):
            task = getattr(s, kind)
            if task.location:
                where[(kind, s.id)] = tuple(task.location)
    for v in problem.vehicles:
        if v.start:
            where[("start", v.id)] = tuple(v.start)
        if v.end:
            where[("end", v.id)] = tuple(v.end)
    return where
