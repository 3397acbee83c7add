"""Helpers of the re-optimization tests: a base problem on a line, audited solves, route reading."""

from __future__ import annotations

import copy

from optimizer import Limits, check, parse_problem
from optimizer.engines import engine

DERIVED = Limits()  # a derived problem keeps its base's matrix, with fewer stops
# Places on a line (metres from the depot at index 0; travel takes one second per metre).
PLACES = [0, 10, 20, 30, 40, -10, -20, -30, -40, 25, 15, 50, -50]


def line_matrix(places: list[float] = PLACES) -> dict:
    rows = [[abs(a - b) for b in places] for a in places]
    return {"distances": rows, "durations": copy.deepcopy(rows)}


def base_problem(**extra) -> dict:
    """Two vehicles at the depot, four stops east, four west, one shipment east.

    Capacity 5 with unit demands: no vehicle can serve both sides, so the plan is one route
    east (e1..e4 and s1) and one route west (w1..w4)."""
    problem = {
        "vehicles": [{"id": v, "start_index": 0, "end_index": 0, "capacity": [5], "time_window": [0, 10_000]}
                     for v in ("v1", "v2")],
        "stops": [{"id": f"e{i}", "location_index": i, "demand": [1], "service": 5} for i in range(1, 5)]
        + [{"id": f"w{i}", "location_index": 4 + i, "demand": [1], "service": 5} for i in range(1, 5)],
        "shipments": [{"id": "s1", "amount": [1], "pickup": {"location_index": 9, "service": 5},
                       "delivery": {"location_index": 10, "service": 5}}],
        "matrix": line_matrix(),
        "options": {"time_limit": 0.5},
    }
    problem.update(extra)
    return problem


def solve_checked(data: dict, time_limit: float = 0.5):
    """Solve and audit with the independent checker (locks included); the Solution."""
    problem = parse_problem(data, DERIVED)
    solution = engine("ortools").solve(problem, time_limit=time_limit, seed=1)
    violations = check(problem, solution)
    assert violations == [], "\n".join(map(str, violations))
    return solution


def steps(solution, vehicle_id: str) -> list[str]:
    """Task steps of a vehicle's route ("e1", "s1:pickup"), from a Solution or its JSON."""
    doc = solution if isinstance(solution, dict) else solution.to_json_dict()
    for route in doc["routes"]:
        if route["vehicle_id"] == vehicle_id:
            return [s["id"] if s["type"] == "stop" else f"{s['id']}:{s['type']}"
                    for s in route["steps"] if s["type"] in ("stop", "pickup", "delivery")]
    return []


def route(solution, vehicle_id: str) -> dict:
    doc = solution if isinstance(solution, dict) else solution.to_json_dict()
    return next(r for r in doc["routes"] if r["vehicle_id"] == vehicle_id)


def routed(solution) -> set[str]:
    doc = solution if isinstance(solution, dict) else solution.to_json_dict()
    return {s["id"] for r in doc["routes"] for s in r["steps"] if s.get("id")}


def solved_base(**extra) -> tuple[dict, dict, str, str]:
    """(problem, solution JSON, east vehicle id, west vehicle id) of the base problem."""
    problem = base_problem(**extra)
    solution = solve_checked(problem).to_json_dict()
    east = next(r["vehicle_id"] for r in solution["routes"] if any(s.get("id") == "e1" for s in r["steps"]))
    west = "v2" if east == "v1" else "v1"
    return problem, solution, east, west
