import threading
import time

import pytest
from solve_helpers import line_matrix, reasons, route_steps

from optimizer import parse_problem
from optimizer.engines import engine


def depot_problem(positions, stops, vehicles=None, **extra):
    """Depot at position 0 of a line; stops are given as (id, index, extra fields)."""
    data = {
        "vehicles": vehicles or [{"id": "v1", "start_index": 0, "end_index": 0}],
        "stops": [{"id": sid, "location_index": idx, **fields} for sid, idx, fields in stops],
        "matrix": {"distances": line_matrix(positions), "durations": line_matrix(positions)},
    }
    data.update(extra)
    return data


def test_time_windows_decide_the_order(solved):
    # geometry says a then b; the windows say b first
    data = depot_problem([0, 10, 20], [("a", 1, {"time_windows": [[30, 40]]}),
                                       ("b", 2, {"time_windows": [[0, 25]]})])
    solution = solved(data)
    assert solution.status == "feasible"
    assert route_steps(solution, "v1") == ["b", "a"]
    arrival = {s.id: s for s in solution.routes[0].steps if s.type == "stop"}
    assert arrival["a"].arrival + arrival["a"].waiting >= 30


def test_multiple_windows_pick_the_reachable_one(solved):
    data = depot_problem([0, 10], [("a", 1, {"time_windows": [[0, 5], [50, 60]], "service": 3})])
    solution = solved(data)
    stop = solution.routes[0].steps[1]
    assert 50 <= stop.arrival + stop.waiting <= 60
    assert stop.departure == pytest.approx(stop.arrival + stop.waiting + 3)


def test_skill_decides_the_vehicle(solved):
    vehicles = [{"id": "plain", "start_index": 0, "end_index": 0},
                {"id": "fridge", "start_index": 0, "end_index": 0, "skills": ["cold"]}]
    data = depot_problem([0, 10, 11], [("ice", 2, {"skills": ["cold"]}), ("bread", 1, {})],
                         vehicles=vehicles)
    solution = solved(data)
    assert "ice" in route_steps(solution, "fridge")


def test_lock_fixes_a_prefix_against_the_geometry(solved):
    data = depot_problem([0, 10, 20, 30], [("a", 1, {}), ("b", 2, {}), ("c", 3, {})],
                         locked=[{"vehicle_id": "v1", "steps": ["c", "a"]}])
    solution = solved(data)
    assert route_steps(solution, "v1")[:2] == ["c", "a"]


def test_shipment_shares_a_vehicle_pickup_first(solved):
    vehicles = [{"id": f"v{i}", "start_index": 0, "end_index": 0, "capacity": [5]} for i in (1, 2)]
    data = depot_problem(
        [0, 30, 5, 25], [("x", 1, {"demand": [0]})], vehicles=vehicles,
        shipments=[{"id": "s1", "amount": [5], "pickup": {"location_index": 3},
                    "delivery": {"location_index": 2}}],
    )
    solution = solved(data)
    owner = [r for r in solution.routes if any(s.id == "s1" for s in r.steps)]
    assert len(owner) == 1
    steps = route_steps(solution, owner[0].vehicle_id)
    assert steps.index("s1:pickup") < steps.index("s1:delivery")


def test_capacity_splits_the_work(solved):
    vehicles = [{"id": f"v{i}", "start_index": 0, "end_index": 0, "capacity": [10]} for i in (1, 2)]
    data = depot_problem([0, 1, 2, 3], [(s, i + 1, {"demand": [6]}) for i, s in enumerate("abc")],
                         vehicles=vehicles + [{"id": "v3", "start_index": 0, "end_index": 0, "capacity": [10]}])
    solution = solved(data)
    assert solution.summary.vehicles_used == 3
    assert all(max(s.load[0] for s in r.steps) <= 10 for r in solution.routes)


def test_per_vehicle_limits(solved):
    vehicles = [
        {"id": "short", "start_index": 0, "end_index": 0, "max_distance": 25, "max_stops": 1},
        {"id": "long", "start_index": 0, "end_index": 0},
    ]
    data = depot_problem([0, 10, 11, 12], [("a", 1, {}), ("b", 2, {}), ("c", 3, {})], vehicles=vehicles)
    solution = solved(data)
    assert len(route_steps(solution, "short")) <= 1
    assert solution.status == "feasible"


def test_open_route_does_not_return(solved):
    data = depot_problem([0, 10, 20], [("a", 1, {}), ("b", 2, {})],
                         vehicles=[{"id": "v1", "start_index": 0}])
    solution = solved(data)
    assert solution.summary.distance == 20
    assert route_steps(solution, "v1") == ["a", "b"]


def test_break_is_taken_inside_its_window(solved):
    vehicles = [{"id": "v1", "start_index": 0, "end_index": 0, "time_window": [0, 1000],
                 "breaks": [{"id": "lunch", "time_windows": [[40, 60]], "duration": 30}]}]
    data = depot_problem([0, 30, 60], [("a", 1, {"service": 10}), ("b", 2, {"service": 10})],
                         vehicles=vehicles)
    solution = solved(data)
    lunch = [s for s in solution.routes[0].steps if s.type == "break"]
    assert len(lunch) == 1 and 40 <= lunch[0].arrival <= 60
    assert lunch[0].departure - lunch[0].arrival == 30


def test_optional_stop_dropped_when_not_worth_it(solved):
    data = depot_problem([0, 10, 500], [("near", 1, {}), ("far", 2, {"drop_penalty": 100})])
    solution = solved(data)
    assert solution.status == "feasible"
    assert reasons(solution) == {"far": "dropped"}
    data["stops"][1]["drop_penalty"] = 5000
    assert solved(data).summary.unassigned == 0


def test_unassigned_reasons(solved):
    vehicles = [{"id": "v1", "start_index": 0, "end_index": 0, "capacity": [5],
                 "time_window": [0, 1000], "max_distance": 150, "max_duration": 90}]
    positions = [0, 10, 20, 30, 80, 40]
    distances = line_matrix(positions)
    for row in distances:
        row[5] = None  # no road into place 5
    data = {
        "vehicles": vehicles,
        "stops": [
            {"id": "ok", "location_index": 1, "demand": [1]},
            {"id": "heavy", "location_index": 1, "demand": [9]},
            {"id": "late", "location_index": 2, "time_windows": [[2000, 3000]]},
            {"id": "cold", "location_index": 1, "skills": ["cold"]},
            {"id": "cut-off", "location_index": 5},
            {"id": "slow", "location_index": 3, "service": 60},
        ],
        "matrix": {"distances": distances, "durations": distances},
    }
    solution = solved(data)
    assert solution.status == "infeasible"
    assert reasons(solution) == {"heavy": "capacity", "late": "time_window", "cold": "skills",
                                 "cut-off": "unreachable", "slow": "max_duration"}
    data["vehicles"][0]["max_distance"] = 50
    data["stops"].append({"id": "far", "location_index": 4})
    assert reasons(solved(data))["far"] == "max_distance"


def test_cost_objective_prefers_the_cheap_vehicle(solved):
    vehicles = [{"id": "dear", "start_index": 0, "end_index": 0, "fixed_cost": 100},
                {"id": "cheap", "start_index": 0, "end_index": 0, "fixed_cost": 1, "cost_per_hour": 3.6}]
    data = depot_problem([0, 1000, 2000], [("a", 1, {}), ("b", 2, {})], vehicles=vehicles,
                         objective="cost")
    solution = solved(data)
    assert [r.vehicle_id for r in solution.routes] == ["cheap"]
    route = solution.routes[0]
    assert route.cost == pytest.approx(1 + 4 * 1 + 3.6 * route.duration / 3600)


def test_min_vehicles_uses_fewer_vehicles(solved):
    vehicles = [{"id": f"v{i}", "start_index": 0, "end_index": 1} for i in range(3)]
    positions = [0, 0, 10, 10, 10]
    data = depot_problem(positions, [("a", 2, {}), ("b", 3, {}), ("c", 4, {})], vehicles=vehicles)
    data["matrix"]["distances"][0][2] = 1  # each vehicle alone would pick a different start
    data["min_vehicles"] = True
    assert solved(data).summary.vehicles_used == 1


def test_duration_objective_counts_waiting(solved):
    data = depot_problem([0, 10, 20], [("a", 1, {"time_windows": [[100, 120]]}), ("b", 2, {})],
                         objective="duration")
    solution = solved(data)
    route = solution.routes[0]
    # the vehicle leaves late enough not to wait at "a"
    assert route.duration == pytest.approx(40, abs=1e-6) or route.duration < 100


def test_float_matrix_keeps_visible_precision(solved):
    data = {
        "vehicles": [{"id": "v1", "start_index": 0, "end_index": 0}],
        "stops": [{"id": "a", "location_index": 1}, {"id": "b", "location_index": 2}],
        "matrix": {"distances": [[0, 1.25, 2.5], [1.25, 0, 1.125], [2.5, 1.125, 0]]},
    }
    solution = solved(data)
    assert solution.summary.distance == pytest.approx(1.25 + 1.125 + 2.5, abs=1e-9)


def test_coordinates_and_speed(solved):
    data = {
        "vehicles": [{"id": "v1", "start": [13.40, 52.52], "end": [13.40, 52.52]}],
        "stops": [{"id": "a", "location": [13.41, 52.52]}, {"id": "b", "location": [13.40, 52.53]}],
        "options": {"speed_kmh": 36},
    }
    solution = solved(data)
    route = solution.routes[0]
    assert 3000 < route.distance < 4000  # ~0.68 + ~1.1 + ~1.4 km
    assert route.duration == pytest.approx(route.distance / 10, abs=3)


def random_problem(stops: int, seed: int = 3) -> dict:
    import random

    rng = random.Random(seed)
    points = [(rng.uniform(0, 1000), rng.uniform(0, 1000)) for _ in range(stops + 1)]
    matrix = [[round(((a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2) ** 0.5) for b in points] for a in points]
    return {
        "vehicles": [{"id": f"v{i}", "start_index": 0, "end_index": 0, "capacity": [40]} for i in range(stops // 10)],
        "stops": [{"id": f"s{i}", "location_index": i, "demand": [rng.randint(1, 6)]} for i in range(1, stops + 1)],
        "matrix": {"distances": matrix},
    }


def test_warm_start_from_initial_routes(solved):
    data = random_problem(40)
    cold = solved(data, time_limit=2)
    data["initial_routes"] = [
        {"vehicle_id": r.vehicle_id, "steps": [s.id for s in r.steps if s.type == "stop"]}
        for r in cold.routes
    ]
    warm = solved(data, time_limit=0.5)
    assert warm.solver.improvements[0][1] <= cold.solver.objective
    assert warm.summary.distance <= cold.summary.distance + 1e-9


def test_time_limit_is_honoured_and_incumbents_stream():
    problem = parse_problem(random_problem(150))
    seen = []

    def on_incumbent(incumbent):
        routes = incumbent.solution().routes
        seen.append((incumbent.elapsed, incumbent.objective, sum(r.distance for r in routes)))

    started = time.monotonic()
    solution = engine("ortools").solve(problem, time_limit=2, on_incumbent=on_incumbent)
    wall = time.monotonic() - started
    assert wall <= 2.5
    assert solution.solver.wall_time <= 2.5
    assert solution.solver.search == "iterated_local_search"
    assert seen and all(b[1] < a[1] for a, b in zip(seen, seen[1:], strict=False))
    assert seen[-1][1] == solution.solver.objective
    # each incumbent is decoded as it was found: the last one is the returned solution
    assert seen[-1][2] == solution.summary.distance
    assert [s[:2] for s in seen] == [tuple(i) for i in solution.solver.improvements]


def test_stop_request_ends_the_search_within_a_second():
    problem = parse_problem(random_problem(300))
    flag = threading.Event()
    threading.Timer(1.0, flag.set).start()
    started = time.monotonic()
    solution = engine("ortools").solve(problem, time_limit=30, stop=flag.is_set)
    elapsed = time.monotonic() - started
    assert elapsed < 2.0
    assert solution.solver.stopped_by == "stop_request"
    assert solution.routes  # the best solution so far is kept


def test_locks_that_cannot_hold_give_no_solution():
    data = depot_problem([0, 10, 20], [("a", 1, {"time_windows": [[0, 5]]})],
                         locked=[{"vehicle_id": "v1", "steps": ["a"]}])
    solution = engine("ortools").solve(parse_problem(data), time_limit=1)
    assert solution.status == "no_solution"
    assert "locked" in solution.solver.message


def test_routes_finish_as_early_as_possible_and_leave_without_needless_waiting(solved):
    # a opens at 100: the route serves it right then (not at the window's end) and leaves
    # its depot just in time to arrive without waiting
    data = depot_problem([0, 10, 20], [("a", 1, {"time_windows": [[100, 200]]}), ("b", 2, {})])
    steps = solved(data).routes[0].steps
    a = next(s for s in steps if s.id == "a")
    assert a.arrival + a.waiting == 100
    assert all(s.waiting == 0 for s in steps)
