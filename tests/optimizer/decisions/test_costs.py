"""Every engine's solution says what each route costs, by part, as the objective counts it,
and the parts add up to the objective (engines.score.objective_value)."""

from __future__ import annotations

import math

import pytest

from optimizer import check, parse_problem
from optimizer.engines import engine, objective_value

MATRIX = [[0, 600, 900, 1200, 800, 700], [600, 0, 500, 900, 1000, 1100], [900, 500, 0, 400, 1100, 1300],
          [1200, 900, 400, 0, 700, 1200], [800, 1000, 1100, 700, 0, 500], [700, 1100, 1300, 1200, 500, 0]]


def problem(objective: str, optional: bool) -> dict:
    # (PyVRP finds no solution when the vehicle with an hourly cost has a fixed cost too)
    vehicles = [{"id": f"v{k}", "start_index": 0, "end_index": 0, "capacity": [6], "time_window": [0, 20000],
                 "fixed_cost": 40.0 * (1 - k), "cost_per_km": 2.0, "cost_per_hour": 30.0 * k} for k in range(2)]
    stops = [{"id": f"c{i}", "location_index": i, "demand": [2], "service": 120,
              "time_windows": [[1500 * i, 1500 * i + 900]]} for i in range(1, 6)]
    if optional:  # a stop no vehicle can carry, dropped at its penalty
        stops.append({"id": "odd", "location_index": 3, "demand": [7], "drop_penalty": 777.5})
    return {"vehicles": vehicles, "stops": stops, "matrix": {"distances": MATRIX, "durations": MATRIX},
            "objective": objective, "options": {"seed": 1}}


def assert_adds_up(parsed, solution) -> None:
    summary = solution.summary.costs
    parts = summary.distance + summary.time + summary.waiting + summary.fixed + summary.penalties
    assert math.isclose(summary.total, objective_value(parsed, solution), rel_tol=1e-9, abs_tol=1e-6)
    assert math.isclose(parts, summary.total, rel_tol=1e-9, abs_tol=1e-6)
    for part in ("distance", "waiting", "fixed"):
        assert math.isclose(getattr(summary, part), sum(getattr(r.costs, part) for r in solution.routes),
                            abs_tol=1e-6)
    for route in solution.routes:
        c = route.costs
        assert math.isclose(c.distance + c.time + c.waiting + c.fixed, c.total, rel_tol=1e-9, abs_tol=1e-6)
        assert c.total == {"distance": route.distance, "duration": route.duration}.get(parsed.objective, route.cost)
        assert c.waiting == pytest.approx(
            sum(s.waiting for s in route.steps) * (1.0 if parsed.objective == "duration" else
                                                   parsed.vehicles[int(route.vehicle_id[1])].cost_per_hour / 3600
                                                   if parsed.objective == "cost" else 0.0), abs=1e-5)


# every engine, on every problem it models (VROOM refuses duration, hourly costs and
# optional work); PyVRP finds no solution under the cost objective once some work is
# optional (auto then falls back to OR-Tools): it has nothing of its own to break down there
CASES = [(name, objective, optional) for name in ("ortools", "pyvrp", "vroom")
         for objective in ("distance", "duration", "cost") for optional in (False, True)
         if not engine(name).unsupported(parse_problem(problem(objective, optional)))
         and (name, objective, optional) != ("pyvrp", "cost", True)]


@pytest.mark.parametrize(("name", "objective", "optional"), CASES)
def test_every_engine_breaks_its_objective_down_into_parts_that_add_up(name, objective, optional):
    parsed = parse_problem(problem(objective, optional))
    solution = engine(name).solve(parsed, time_limit=0.5, seed=1)
    assert check(parsed, solution) == []
    assert solution.routes and solution.summary.costs is not None
    assert_adds_up(parsed, solution)
    if optional:
        assert solution.summary.costs.penalties == 777.5
    if objective == "cost":
        assert solution.summary.costs.fixed == sum(parsed.vehicles[int(r.vehicle_id[1])].fixed_cost
                                                    for r in solution.routes)


def test_the_tightest_step_is_the_one_closest_to_its_window_end():
    parsed = parse_problem(problem("duration", False))
    solution = engine("ortools").solve(parsed, time_limit=0.5, seed=1)
    windows = {s.id: s.time_windows[0] for s in parsed.stops}
    for route in solution.routes:
        slack = {s.id: windows[s.id][1] - (s.arrival + s.waiting) for s in route.steps if s.type == "stop"}
        assert route.tightest.step == min(slack, key=slack.get)
        assert route.tightest.window_slack == pytest.approx(min(slack.values()), abs=1e-6)
        assert route.tightest.load == [max(s.load[0] for s in route.steps)]
        assert route.tightest.capacity == [6]
