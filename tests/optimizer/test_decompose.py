"""Large problems solved in regions: every result is checked by the independent checker.

The thresholds are lowered so that small problems go through the same code in seconds.
"""

import math
import random

import pytest

from optimizer import check, parse_problem
from optimizer.engines import engine
from optimizer.engines.ortools import decompose


@pytest.fixture(autouse=True)
def small_regions(monkeypatch):
    monkeypatch.setattr(decompose, "DECOMPOSE_ABOVE", 100)
    monkeypatch.setattr(decompose, "REGION_NODES", 40)
    monkeypatch.setattr(decompose, "REGION_S", 0.3)
    monkeypatch.setattr(decompose, "FIRST_REGION_S", (0.1, 0.3))


def windowed(stops: int, seed: int = 3, shipments: int = 0, breaks: bool = False) -> dict:
    rng = random.Random(seed)
    places = stops + 2 * shipments + 1
    points = [(rng.uniform(0, 100), rng.uniform(0, 100)) for _ in range(places)]
    matrix = [[round(math.dist(a, b), 1) for b in points] for a in points]
    vehicles = [{"id": f"v{k}", "start_index": 0, "end_index": 0, "capacity": [30], "time_window": [0, 1500],
                 **({"breaks": [{"id": "lunch", "time_windows": [[400, 700]], "duration": 30}]} if breaks else {})}
                for k in range(stops // 6 + shipments // 3 + 2)]
    rows = []
    for i in range(1, stops + 1):
        opens = rng.randint(0, 900)
        rows.append({"id": f"s{i}", "location_index": i, "demand": [rng.randint(1, 5)], "service": 5,
                     "time_windows": [[opens, opens + 300]]})
    ships = [{"id": f"p{j}", "amount": [2],
              "pickup": {"location_index": stops + 1 + 2 * j, "service": 3},
              "delivery": {"location_index": stops + 2 + 2 * j, "service": 3}} for j in range(shipments)]
    return {"vehicles": vehicles, "stops": rows, "shipments": ships,
            "matrix": {"distances": matrix, "durations": matrix}}


def checked(data: dict, time_limit: float, **kwargs):
    problem = parse_problem(data)
    seen = []
    solution = engine("ortools").solve(problem, time_limit=time_limit, seed=1, on_incumbent=seen.append, **kwargs)
    assert check(problem, solution) == [], "\n".join(map(str, check(problem, solution)))
    return solution, seen


def test_a_seeded_plan_is_improved_region_by_region():
    solution, seen = checked(windowed(150), time_limit=6)
    assert solution.solver.search == decompose.SEARCH
    assert solution.status == "feasible" and solution.summary.unassigned == 0
    objectives = [o for _, o in solution.solver.improvements]
    assert len(objectives) >= 2 and objectives == sorted(objectives, reverse=True)
    assert objectives[-1] < objectives[0], "the regions improved the first plan"
    assert seen and seen[-1].objective == solution.solver.objective
    assert seen[-1].solution().summary == solution.summary


def test_shipments_and_breaks_are_built_from_nothing_in_regions():
    # shipments and breaks: no seed construction, so the regions build every route
    solution, _ = checked(windowed(90, shipments=15, breaks=True), time_limit=8)
    assert solution.solver.search == decompose.SEARCH
    assert solution.status == "feasible", solution.unassigned
    served = {s.id for r in solution.routes for s in r.steps if s.type == "pickup"}
    assert len(served) == 15
    assert all(any(s.type == "break" for s in r.steps) for r in solution.routes)


def test_locked_prefixes_and_initial_routes_are_kept_as_given():
    data = windowed(120)
    cold, _ = checked(data, time_limit=4)
    routes = [r for r in cold.routes if len(r.steps) > 4]
    data["initial_routes"] = [{"vehicle_id": r.vehicle_id, "steps": [s.id for s in r.steps if s.type == "stop"]}
                              for r in cold.routes]
    data["locked"] = [{"vehicle_id": r.vehicle_id, "steps": [s.id for s in r.steps if s.type == "stop"][:2]}
                      for r in routes[:3]]
    warm, _ = checked(data, time_limit=4)
    assert warm.solver.search == decompose.SEARCH
    by_vehicle = {r.vehicle_id: [s.id for s in r.steps if s.type == "stop"] for r in warm.routes}
    for lock in data["locked"]:
        assert by_vehicle[lock["vehicle_id"]][:2] == lock["steps"]
    assert warm.changes is not None
    assert warm.summary.distance <= cold.summary.distance * 1.02


def test_a_stoppable_solve_is_not_decomposed():
    solution, _ = checked(windowed(150), time_limit=1, stop=lambda: False)
    assert solution.solver.search == "guided_local_search"
