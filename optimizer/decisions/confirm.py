"""The checker's word on one route changed in a plan, at the cost of that route.

A quote or a relaxation changes one vehicle's route and leaves the others as they were, so
the plan after it is sound when that route is: ``confirm`` runs ``optimizer.check`` on the
problem cut down to that vehicle and the work its route serves (a matrix problem keeps the
rows and columns of the places it uses; a vehicle without capacity is joined by an idle one
that has it, so loads keep their dimensions), with the route as the whole solution.
"""

from __future__ import annotations

import math

import numpy as np

from ..check import Violation, check
from ..model import Matrix, Problem
from ..solution import Route
from ..travel import Travel


def confirm(problem: Problem, travel: Travel, v: int, route: Route) -> list[Violation]:
    """Every violation of ``route`` (vehicle ``v``'s) against ``problem``; empty when sound."""
    vehicle = problem.vehicles[v]
    stop_ids = {s.id for s in route.steps if s.type == "stop"}
    shipment_ids = {s.id for s in route.steps if s.type in ("pickup", "delivery")}
    stops = [(i, s) for i, s in enumerate(problem.stops) if s.id in stop_ids]
    shipments = [(i, s) for i, s in enumerate(problem.shipments) if s.id in shipment_ids]
    vehicles = [vehicle]
    if len(vehicle.capacity) < problem.dimensions:  # keep the load's dimensions: a vehicle that has them, idle
        holder = next(x for x in problem.vehicles if len(x.capacity) == problem.dimensions)
        vehicles.append(holder.model_copy(update={"start": None, "end": None, "start_index": None,
                                                  "end_index": None, "breaks": []}))
    sub = problem.model_copy(update={
        "vehicles": vehicles, "stops": [s for _, s in stops], "shipments": [s for _, s in shipments],
        "locked": [spec for spec in problem.locked if spec.vehicle_id == vehicle.id],
        "initial_routes": [], "reassign_penalty": None})
    if problem.matrix is not None:
        sub = _on_used_places(sub, travel, v, stops, shipments)
    tasks = sum(s.type in ("stop", "pickup", "delivery") for s in route.steps)
    document = {"status": "feasible", "routes": [route.model_dump(mode="json", exclude_none=True)],
                "unassigned": [], "summary": {"distance": route.distance, "vehicles_used": int(tasks > 0),
                                              "unassigned": 0}}
    return check(sub, document)


def _on_used_places(sub: Problem, travel: Travel, v: int, stops, shipments) -> Problem:
    """``sub`` over the rows and columns of the places it uses (``travel``'s numbers)."""
    used: dict[int, int] = {}

    def at(place: int | None) -> int | None:
        return None if place is None else used.setdefault(place, len(used))

    new_stops = [s.model_copy(update={"location_index": at(travel.stop_place[i])}) for i, s in stops]
    new_shipments = [s.model_copy(update={
        "pickup": s.pickup.model_copy(update={"location_index": at(travel.pickup_place[i])}),
        "delivery": s.delivery.model_copy(update={"location_index": at(travel.delivery_place[i])}),
    }) for i, s in shipments]
    vehicle = sub.vehicles[0].model_copy(update={"start_index": at(travel.start_place[v]),
                                                 "end_index": at(travel.end_place[v])})
    rows = list(used) or [0]
    pick = np.ix_(rows, rows)
    matrix = Matrix.model_construct(distances=_cells(travel.distances[pick]), durations=_cells(travel.durations[pick]))
    return sub.model_copy(update={"stops": new_stops, "shipments": new_shipments,
                                  "vehicles": [vehicle, *sub.vehicles[1:]], "matrix": matrix})


def _cells(values: np.ndarray) -> list[list[float | None]]:
    return [[x if math.isfinite(x) else None for x in row] for row in values.tolist()]
