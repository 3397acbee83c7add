"""The checker's word on one route changed in a plan, at the cost of that route.

A quote or a relaxation changes one vehicle's route and leaves the others as they were, so
the plan after it is sound when that route is: ``confirm`` runs ``optimizer.check`` on the
problem cut down to that vehicle and the work its route serves (a matrix problem keeps the
travel's matrices as arrays, which the checker takes as they are; a vehicle without capacity
is joined by an idle one that has it, so loads keep their dimensions), with the route as the
whole solution. So a confirmation costs the route's length, not its places squared.
"""

from __future__ import annotations

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
    if problem.matrix is not None:  # the travel's own arrays: nothing per cell is read or copied
        sub = sub.model_copy(update={"matrix": Matrix.model_construct(distances=travel.distances,
                                                                       durations=travel.durations)})
    tasks = sum(s.type in ("stop", "pickup", "delivery") for s in route.steps)
    document = {"status": "feasible", "routes": [route.model_dump(mode="json", exclude_none=True)],
                "unassigned": [], "summary": {"distance": route.distance, "vehicles_used": int(tasks > 0),
                                              "unassigned": 0}}
    return check(sub, document)
