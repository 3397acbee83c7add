"""Small random problems with every feature the decisions handle, solved and checked.

``problem(seed)`` draws a matrix problem (some cells without a road), 2 or 3 vehicles (some
with breaks, shift limits, skills, open routes), stops with one or two windows, shipments,
optional work, and one of the three objectives; ``solved(seed)`` solves it briefly with
OR-Tools. ``new_work(seed, problem)`` draws a new stop or shipment for it.
"""

from __future__ import annotations

import random

from optimizer import check, parse_problem
from optimizer.engines import engine

PLACES = 14
DAY = 20_000  # seconds


def problem(seed: int, breaks: bool = True) -> dict:
    rng = random.Random(seed)
    points = [(rng.uniform(0, 6000), rng.uniform(0, 6000)) for _ in range(PLACES)]
    distances = [[round(((ax - bx) ** 2 + (ay - by) ** 2) ** 0.5, 1) for bx, by in points] for ax, ay in points]
    durations = [[round(d / rng.choice((8.0, 10.0)), 1) if d else 0.0 for d in row] for row in distances]
    if rng.random() < 0.3:  # one arc without a road
        a, b = rng.sample(range(1, PLACES), 2)
        distances[a][b] = durations[a][b] = None
    vehicles = []
    for k in range(rng.choice((2, 3))):
        vehicle = {"id": f"v{k}", "start_index": 0, "capacity": [rng.choice((8, 12, 20))],
                   "time_window": [0, rng.choice((DAY, DAY // 2 + 4000))],
                   "cost_per_km": rng.choice((1.0, 2.0)), "cost_per_hour": rng.choice((0.0, 30.0)),
                   "fixed_cost": rng.choice((0.0, 100.0))}
        if rng.random() < 0.7:
            vehicle["end_index"] = 0
        if rng.random() < 0.3:
            vehicle["max_duration"] = rng.choice((6000, 9000))
        if rng.random() < 0.3:
            vehicle["max_distance"] = 30_000
        if rng.random() < 0.2:
            vehicle["max_stops"] = 5
        if rng.random() < 0.4:
            vehicle["skills"] = ["cold"]
        if breaks and rng.random() < 0.3:
            vehicle["breaks"] = [{"id": "lunch", "time_windows": [[4000, 9000]], "duration": 600}]
        vehicles.append(vehicle)
    stops = [_stop(rng, f"c{i}", i) for i in range(1, rng.randint(6, 10))]
    shipments = []
    for k in range(rng.randint(0, 2)):
        a, b = rng.sample(range(1, PLACES), 2)
        shipments.append({"id": f"s{k}", "amount": [rng.randint(1, 4)],
                          "pickup": {"location_index": a, "service": 60, "time_windows": [[0, DAY // 2]]},
                          "delivery": {"location_index": b, "service": 60}})
    return {"vehicles": vehicles, "stops": stops, "shipments": shipments,
            "matrix": {"distances": distances, "durations": durations},
            "objective": rng.choice(("distance", "duration", "cost")),
            "options": {"time_limit": 0.3, "seed": seed}}


def _stop(rng: random.Random, ident: str, place: int) -> dict:
    stop = {"id": ident, "location_index": place, "demand": [rng.randint(1, 4)], "service": rng.choice((60, 300))}
    opens = rng.randrange(0, DAY - 4000)
    if rng.random() < 0.8:
        stop["time_windows"] = [[opens, opens + rng.choice((900, 3600))]]
        if rng.random() < 0.3:
            stop["time_windows"].append([opens + 5000, opens + 6500])
    if rng.random() < 0.2:
        stop["skills"] = ["cold"]
    if rng.random() < 0.3:
        stop["drop_penalty"] = rng.choice((500, 20_000))
    return stop


def solved(seed: int, breaks: bool = True):
    parsed = parse_problem(problem(seed, breaks))
    solution = engine("ortools").solve(parsed, time_limit=0.3, seed=seed)
    assert check(parsed, solution) == []
    return parsed, solution


def new_work(seed: int, parsed) -> dict:
    """{"stops": [one]} or {"shipments": [one]} for ``parsed`` (places of its matrix)."""
    rng = random.Random(10_000 + seed)
    if rng.random() < 0.7:
        return {"stops": [_stop(rng, "new", rng.randrange(1, PLACES))]}
    a, b = rng.sample(range(1, PLACES), 2)
    opens = rng.randrange(0, DAY // 2)
    return {"shipments": [{"id": "new", "amount": [rng.randint(1, 3)],
                           "pickup": {"location_index": a, "service": 60, "time_windows": [[opens, opens + 4000]]},
                           "delivery": {"location_index": b, "service": 120}}]}
