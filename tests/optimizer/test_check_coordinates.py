"""The solution checker on a coordinate problem (great-circle travel)."""

from __future__ import annotations

import math

import pytest
from test_check import SOLVER, audit, bare, kinds, step

from optimizer.travel import Travel
from optimizer.validate import parse_problem

# -- a coordinate problem -----------------------------------------------------------------
#
# Stops a and b lie 0.01 and 0.02 degrees east of the depot on the equator (about 1.1 and
# 2.2 km). Great-circle travel is travel.py's business; the numbers below come from it.


def coordinate_problem(end: bool = True) -> dict:
    vehicle = {"id": "car", "start": [0.0, 0.0], "capacity": [2]}
    if end:
        vehicle["end"] = [0.0, 0.0]
    return {
        "options": {"speed_kmh": 36},  # 10 m/s
        "vehicles": [vehicle],
        "stops": [
            {"id": "a", "location": [0.01, 0.0], "demand": [1], "service": 60},
            {"id": "b", "location": [0.02, 0.0], "demand": [1]},
        ],
    }


def legs(problem: dict) -> list[tuple[float, float]]:
    """(metres, seconds) of depot -> a, a -> b and b -> depot."""
    travel = Travel.of(parse_problem(problem))
    depot, a, b = travel.start_place[0], *travel.stop_place
    pairs = [(depot, a), (a, b), (b, depot)]
    return [(travel.distance(x, y), travel.duration(x, y)) for x, y in pairs]


def coordinate_solution(end: bool = True) -> dict:
    (d1, t1), (d2, t2), (d3, t3) = legs(coordinate_problem(end))
    assert 1100 < d1 < 1125 and 1100 < d2 < 1125 and 2200 < d3 < 2250  # on the equator
    assert math.isclose(t1, d1 / 10, abs_tol=1) and math.isclose(t3, d3 / 10, abs_tol=1)
    total = d1 + d2 + (d3 if end else 0)
    back = t1 + 60 + t2 + (t3 if end else 0)
    steps = [
        step("start", None, 0, 0, [0], 0),
        step("stop", "a", t1, t1 + 60, [1], d1),
        step("stop", "b", t1 + 60 + t2, t1 + 60 + t2, [2], d1 + d2),
        step("end", None, back, None, [2], total),
    ]
    return {
        "status": "feasible",
        "summary": {"distance": total, "duration": back, "cost": 0, "vehicles_used": 1,
                    "unassigned": 0},
        "routes": [{"vehicle_id": "car", "distance": total, "duration": back, "cost": 0,
                    "steps": steps}],
        "unassigned": [],
        "solver": SOLVER,
    }


@pytest.mark.parametrize("end", [True, False])
def test_coordinate_solution_passes(end):
    assert audit(coordinate_problem(end), coordinate_solution(end)) == []


def test_coordinate_distance_checked():
    problem = coordinate_problem()
    problem["vehicles"][0]["max_distance"] = coordinate_solution()["routes"][0]["distance"] - 1
    assert kinds(audit(problem, coordinate_solution())) == {"max_distance"}
    solution = coordinate_solution()
    solution["routes"][0]["steps"][2]["distance"] += 1.0
    assert kinds(audit(coordinate_problem(), solution)) == {"reported"}


def test_coordinate_time_window_and_duration():
    problem = coordinate_problem()
    problem["stops"][1]["time_windows"] = [[0, 100]]  # b is reached after about 4 minutes
    problem["vehicles"][0]["max_duration"] = 300  # the round trip takes about 6.5 minutes
    assert kinds(audit(problem, bare(coordinate_solution()))) == {"time_window", "max_duration"}


def test_coordinate_capacity_and_missing_stop():
    problem = coordinate_problem()
    problem["vehicles"][0]["capacity"] = [1]
    assert kinds(audit(problem, coordinate_solution())) == {"capacity"}
    solution = bare(coordinate_solution())
    solution["routes"][0]["steps"].pop(2)  # b vanishes
    assert kinds(audit(coordinate_problem(), solution)) == {"missing", "status"}
    solution["status"] = "infeasible"  # b is mandatory and unserved
    assert kinds(audit(coordinate_problem(), solution)) == {"missing"}
