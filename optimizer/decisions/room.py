"""What a quote says of the route it leaves: where the new steps are, what the objective
gains or loses by part, what room is left and which constraint binds first."""

from __future__ import annotations

from ..model import Problem, Vehicle
from ..solution import Costs, Route
from .answers import Insertion, Placement, RouteSlack, Shortfall
from .costs import Windows, label, route_costs
from .misses import Miss


def insertion(problem: Problem, vehicle: Vehicle, route: Route, labels: list[str], afters: list[str],
              old: Costs | None, windows: Windows) -> Insertion:
    """The answer for ``route`` (the vehicle's, with the new steps ``labels`` in it, each
    after the step of the route as it was named in ``afters``) that replaces a route costing
    ``old`` (none: the vehicle was unused)."""
    where = dict(zip(labels, afters, strict=True))
    placements = [Placement(step=label(step), after=where[label(step)], position=k, arrival=step.arrival,
                            service_start=round(step.arrival + step.waiting, 6))
                  for k, step in enumerate(route.steps)
                  if step.type in ("stop", "pickup", "delivery") and label(step) in where]
    slack, binding = room(vehicle, route, placements[0].position, windows)
    return Insertion(vehicle_id=vehicle.id, placements=placements,
                     cost=change(route_costs(problem.objective, vehicle, route), old), slack=slack, binding=binding)


def room(vehicle: Vehicle, route: Route, position: int, windows: Windows) -> tuple[RouteSlack, str]:
    """What is left on ``route`` once the new step at ``position`` is in, and what binds first."""
    time, where = forward_slack(vehicle, route, position, windows)
    load = [max(s.load[d] for s in route.steps) for d in range(len(vehicle.capacity))]
    tasks = sum(s.type in ("stop", "pickup", "delivery") for s in route.steps)
    slack = RouteSlack(
        time=None if time is None else round(time, 6),
        capacity=[c - x for c, x in zip(vehicle.capacity, load, strict=True)],
        distance=None if vehicle.max_distance is None else round(vehicle.max_distance - route.distance, 6),
        duration=None if vehicle.max_duration is None else round(vehicle.max_duration - route.duration, 6),
        stops=None if vehicle.max_stops is None else vehicle.max_stops - tasks)
    margins: list[tuple[float, str]] = []
    if time is not None:
        margins.append((time / max(route.duration, 1.0), where))
    margins += [(left / cap, "capacity") for left, cap in zip(slack.capacity, vehicle.capacity, strict=True)
                if cap > 0]
    for left, limit, name in ((slack.distance, vehicle.max_distance, "max_distance"),
                              (slack.duration, vehicle.max_duration, "max_duration"),
                              (slack.stops, vehicle.max_stops, "max_stops")):
        if left is not None:
            margins.append((left / limit if limit else 0.0, name))
    return slack, (min(margins)[1] if margins else "none")


def forward_slack(vehicle: Vehicle, route: Route, position: int, windows: Windows) -> tuple[float | None, str]:
    """Seconds the service at ``position`` could start later, every window after it and the
    shift end kept (the waiting on the way absorbs some): (seconds, what decides it)."""
    best: tuple[float, str] | None = None
    waited = 0.0
    for step in route.steps[position:]:
        if step.type == "end":
            shift = vehicle.time_window
            if shift is not None:
                left = waited + shift[1] - step.arrival
                best = min(best, (left, "shift end")) if best else (left, "shift end")
            break
        if step.type == "break":
            continue
        if step is not route.steps[position]:
            waited += step.waiting
        left = windows.slack(label(step), step.arrival + step.waiting)
        if left is not None:
            entry = (waited + left, f"time_window at {label(step)}")
            best = min(best, entry) if best else entry
    return (None, "none") if best is None else (max(0.0, best[0]), best[1])


def change(new: Costs, old: Costs | None) -> Costs:
    """The objective's change, part by part, from a route costing ``old`` to one costing ``new``."""
    if old is None:
        return new
    return Costs(**{k: round(getattr(new, k) - getattr(old, k), 6)
                    for k in ("total", "distance", "time", "waiting", "fixed", "penalties")})


def shortfall(miss: Miss) -> Shortfall:
    return Shortfall(constraint=miss.kind, step=miss.step, by=None if miss.by is None else round(miss.by, 6),
                     dimension=miss.dimension, skills=list(miss.skills) or None, message=miss.message)
