"""Plan stability: ``reassign_penalty`` charged for work served by another vehicle than before.

"Before" is ``initial_routes``: a stop listed on vehicle ``u`` there and served by vehicle
``v != u`` costs the penalty once; a shipment counts once (its two steps share a vehicle).
Work that is not served pays its drop penalty only, and work absent from ``initial_routes``
(new stops) is free to go anywhere.

How it is modelled, exactly and cheaply: a dimension ``stability`` whose transit depends on
the vehicle. For vehicle ``v`` the transit out of a node is 1 when the node's previous
vehicle is another one, else 0, so the span of ``v``'s route counts the work it took from
other vehicles, and a span cost of ``reassign_penalty`` per unit puts exactly that into the
objective. Transits are unary vectors (one integer per node and vehicle, and vehicles
without previous work share one vector), and the dimension's cost is evaluated
incrementally by OR-Tools' own local-search filters.

Alternatives that do not fit: ``AddSoftSameVehicleConstraint`` groups nodes with each other,
not with a vehicle (grouping a node with a vehicle's start is reported to stall the search,
google/or-tools#1245); ``SetAllowedVehiclesForIndex`` is hard; a per-vehicle arc cost
matrix would be exact too but costs a node-by-node matrix per vehicle.

Without a penalty, or without ``initial_routes``, nothing is added to the model.
"""

from __future__ import annotations

from ...layout import Layout
from ...scaling import to_int
from .model import Model

DIMENSION = "stability"


def previous_vehicles(layout: Layout) -> dict[int, int]:
    """Charged node -> the vehicle whose initial route lists it (a shipment: its pickup node)."""
    problem = layout.problem
    vehicle_of = {v.id: i for i, v in enumerate(problem.vehicles)}
    stops = len(problem.stops)
    out: dict[int, int] = {}
    for spec in problem.initial_routes:
        v = vehicle_of[spec.vehicle_id]
        for step in spec.steps:
            node = layout.step_node[step]
            if node >= stops:  # a shipment step: charge its pickup, once
                node = layout.shipment_nodes(layout.tasks[node].index)[0]
            out.setdefault(node, v)
    return out


def add_stability(model: Model, cap: int) -> int:
    """Add the stability cost to ``model``; return the most it can add to the objective.

    ``cap`` bounds that total (the penalty per unit is lowered to keep it within ``cap``).
    """
    layout, routing = model.layout, model.routing
    penalty = layout.problem.reassign_penalty
    previous = previous_vehicles(layout) if penalty else {}
    if not previous:
        return 0
    unit = min(to_int(penalty, model.objective_scale), cap // len(previous))
    if unit <= 0:
        return 0
    shared = [0] * layout.nodes  # vehicles without previous work: every charged node costs
    for node in previous:
        shared[node] = 1
    shared_cb = routing.RegisterUnaryTransitVector(shared)
    evaluators = []
    owners = set(previous.values())
    for v in range(len(layout.problem.vehicles)):
        if v not in owners:
            evaluators.append(shared_cb)
            continue
        own = [0 if previous.get(n, v) == v else 1 for n in range(layout.nodes)]
        evaluators.append(routing.RegisterUnaryTransitVector(own))
    routing.AddDimensionWithVehicleTransits(evaluators, 0, len(previous), True, DIMENSION)
    routing.GetDimensionOrDie(DIMENSION).SetSpanCostCoefficientForAllVehicles(unit)
    return unit * len(previous)
