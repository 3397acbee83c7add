"""The large-problem construction: its routes are feasible and warm-start the search."""

import random

from optimizer import parse_problem
from optimizer.engines.ortools import search as search_module
from optimizer.engines.ortools.routing import build
from optimizer.engines.ortools.seed import applicable, greedy_routes
from optimizer.layout import lay_out


def windowed_problem(stops: int, vehicles: int, seed: int = 5) -> dict:
    rng = random.Random(seed)
    points = [(rng.uniform(0, 100), rng.uniform(0, 100)) for _ in range(stops + 1)]
    matrix = [[round(((a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2) ** 0.5, 1) for b in points] for a in points]
    rows = []
    for i in range(1, stops + 1):
        opens = rng.randint(0, 400)
        rows.append({"id": f"s{i}", "location_index": i, "demand": [rng.randint(1, 5)], "service": 5,
                     "time_windows": [[opens, opens + 120]]})
    return {
        "vehicles": [{"id": f"v{k}", "start_index": 0, "end_index": 0, "capacity": [30],
                      "time_window": [0, 700]} for k in range(vehicles)],
        "stops": rows,
        "matrix": {"distances": matrix, "durations": matrix},
    }


def test_greedy_routes_respect_capacity_and_cover_stops_once():
    problem = parse_problem(windowed_problem(60, 8))
    layout = lay_out(problem)
    assert applicable(layout)
    model = build(layout)
    time, distance = model.matrices
    routes = greedy_routes(layout, time, distance)
    served = [n for r in routes for n in r]
    assert len(served) == len(set(served))
    for route in routes:
        assert sum(layout.demand[n][0] for n in route) <= 30
    # every route is one the solver accepts as a feasible assignment
    assert model.routing.ReadAssignmentFromRoutes([[model.index(n) for n in r] for r in routes], True) is not None


def test_seeded_search_gives_a_checked_solution(solved, monkeypatch):
    monkeypatch.setattr(search_module, "LARGE", 10)  # seed this small problem as if it were large
    solution = solved(windowed_problem(60, 8), time_limit=2)
    assert solution.status == "feasible" and solution.summary.unassigned == 0


def test_not_applicable_with_shipments_or_breaks():
    data = windowed_problem(5, 1)
    data["shipments"] = [{"id": "x", "pickup": {"location_index": 1}, "delivery": {"location_index": 2}}]
    assert not applicable(lay_out(parse_problem(data)))
    data = windowed_problem(5, 1)
    data["vehicles"][0]["breaks"] = [{"id": "b", "time_windows": [[10, 20]], "duration": 5}]
    assert not applicable(lay_out(parse_problem(data)))
