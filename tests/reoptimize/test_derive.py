"""derive(): the re-optimization problem, checked by solving it with the independent checker."""

import copy

import pytest
from reopt_helpers import base_problem, route, routed, solve_checked, solved_base, steps

from optimizer import MAX_ISSUES, parse_problem
from optimizer.model import MAX_TIME
from routefarm.contract.reoptimize import ReoptimizeBody, parse_request
from routefarm.errors import InvalidInput
from routefarm.reoptimize.derive import derive


def errors(base, solution, request) -> dict[str, str]:
    with pytest.raises(InvalidInput) as caught:
        derive(base, solution, request)
    return {issue.pointer: issue.message for issue in caught.value.issues}


def test_completed_stops_are_never_routed_again():
    base, solution, east, west = solved_base()
    done_east, done_west = steps(solution, east)[:2], steps(solution, west)[:3]
    request = {"at": 60, "vehicles": [{"id": east, "completed": done_east},
                                      {"id": west, "completed": done_west}]}
    derived = derive(base, solution, request)
    ids = {s["id"] for s in derived["stops"]}
    for step in done_east + done_west:
        assert step.split(":")[0] not in ids or step.startswith("s1:")
    again = solve_checked(derived)
    assert again.status == "feasible"
    assert not {s for s in done_east + done_west if ":" not in s} & routed(again)
    assert {u.id for u in again.unassigned} == set()


def test_in_progress_and_dispatched_steps_are_locked_first_in_order():
    base, solution, east, _ = solved_base()
    plan = [s for s in steps(solution, east) if ":" not in s]
    dispatched = plan[2:][::-1]  # against the plan's (optimal) order
    request = {"at": 20, "vehicles": [{"id": east, "completed": plan[:1], "in_progress": plan[1],
                                       "dispatched": dispatched}]}
    derived = derive(base, solution, request)
    lock = next(spec["steps"] for spec in derived["locked"] if spec["vehicle_id"] == east)
    assert lock == [plan[1], *dispatched]
    again = solve_checked(derived)  # the checker verifies every lock
    assert steps(again, east)[: len(lock)] == lock


def test_vehicle_starts_at_its_position_and_time():
    base, solution, east, west = solved_base()
    request = {"at": 100, "vehicles": [{"id": east, "position": 3, "available_from": 130}]}
    derived = derive(base, solution, request)
    vehicles = {v["id"]: v for v in derived["vehicles"]}
    assert vehicles[east]["start_index"] == 3 and vehicles[east]["time_window"] == [130, 10_000]
    assert vehicles[west]["start_index"] == 0 and vehicles[west]["time_window"] == [100, 10_000]
    again = solve_checked(derived)
    for vid, ready in ((east, 130), (west, 100)):
        if steps(again, vid):  # no time windows ahead: each leaves as soon as it is ready
            assert route(again, vid)["steps"][0]["departure"] == ready


def test_position_defaults_to_the_step_in_progress_which_is_served_on_the_spot():
    base, solution, east, _ = solved_base()
    first = steps(solution, east)[0]
    base["stops"][0]["time_windows"] = [[0, 15]]  # e1's window closes before the re-plan
    request = {"at": 50, "vehicles": [{"id": east, "in_progress": "e1"}]}
    derived = derive(base, solution, request)
    vehicle = next(v for v in derived["vehicles"] if v["id"] == east)
    e1 = next(s for s in derived["stops"] if s["id"] == "e1")
    assert vehicle["start_index"] == e1["location_index"] == 1
    assert "time_windows" not in e1 and "service" not in e1
    again = solve_checked(derived)
    assert steps(again, east)[0] == "e1" and first  # locked first, served at 50 despite its window
    assert route(again, east)["steps"][1]["arrival"] == 50


def test_coordinates_problem_takes_a_coordinate_position():
    base = {
        "vehicles": [{"id": "v1", "start": [2.35, 48.85], "end": [2.35, 48.85]}],
        "stops": [{"id": "a", "location": [2.36, 48.86]}, {"id": "b", "location": [2.30, 48.80]}],
        "options": {"time_limit": 0.3},
    }
    solution = solve_checked(base).to_json_dict()
    derived = derive(base, solution, {"at": 600, "vehicles": [{"id": "v1", "position": [2.33, 48.84],
                                                               "completed": ["a"]}]})
    vehicle = derived["vehicles"][0]
    assert vehicle["start"] == [2.33, 48.84] and "start_index" not in vehicle
    assert vehicle["time_window"][0] == 600
    assert [s["id"] for s in derived["stops"]] == ["b"]
    assert steps(solve_checked(derived), "v1") == ["b"]
    problems = errors(base, solution, {"at": 0, "vehicles": [{"id": "v1", "position": 3}]})
    assert problems == {"/vehicles/0/position": "the base problem has coordinates: give [lon, lat]"}


def test_goods_on_board_stay_on_the_vehicle_and_use_its_capacity():
    base, solution, east, west = solved_base()
    request = {"at": 40, "vehicles": [{"id": east, "position": 9, "completed": ["s1:pickup"]}],
               # four units of new work near the east vehicle: with s1 on board it has room for 4
               "add_stops": [{"id": f"n{i}", "location_index": 11, "demand": [1]} for i in range(5)]}
    derived = derive(base, solution, request)
    shipment = derived["shipments"][0]
    assert shipment["pickup"] == {"location_index": 9}
    assert next(s["steps"] for s in derived["locked"] if s["vehicle_id"] == east)[0] == "s1:pickup"
    again = solve_checked(derived, time_limit=1.0)
    plan = steps(again, east)
    assert plan[0] == "s1:pickup" and "s1:delivery" in plan
    assert route(again, east)["steps"][1]["load"] == [1]
    assert max(step["load"][0] for step in route(again, east)["steps"]) <= 5


def test_completed_stops_keep_their_demand_and_limits_shrink():
    base, solution, east, _ = solved_base()
    vehicle = next(v for v in base["vehicles"] if v["id"] == east)
    vehicle.update(max_stops=8, max_duration=5000, max_distance=1000)
    plan = [s for s in steps(solution, east) if ":" not in s]
    started = route(solution, east)["steps"][0]["departure"]
    reached = next(s["distance"] for s in route(solution, east)["steps"] if s.get("id") == plan[1])
    derived = derive(base, solution, {"at": started + 100, "vehicles": [{"id": east, "completed": plan[:2]}]})
    new = next(v for v in derived["vehicles"] if v["id"] == east)
    assert new["capacity"] == [3] and new["max_stops"] == 6
    assert new["max_duration"] == pytest.approx(4900)
    assert new["max_distance"] == pytest.approx(1000 - reached)


def test_add_cancel_and_update_stops():
    base, solution, east, west = solved_base()
    request = {"at": 0, "cancel_stops": ["w2", "s1"],
               "update_stops": [{"id": "e3", "time_windows": [[300, 400]], "service": None},
                                {"id": "w1", "location_index": 12}],
               "add_stops": [{"id": "x1", "location_index": 11, "demand": [1]}]}
    derived = derive(base, solution, request)
    stops = {s["id"]: s for s in derived["stops"]}
    assert "w2" not in stops and "shipments" not in derived
    assert stops["e3"]["time_windows"] == [[300, 400]] and "service" not in stops["e3"]
    assert stops["w1"]["location_index"] == 12 and stops["x1"]["location_index"] == 11
    assert all("s1:" not in s for spec in derived["initial_routes"] for s in spec["steps"])
    again = solve_checked(derived)
    assert again.status == "feasible" and "x1" in routed(again) and "w2" not in routed(again)
    e3 = next(s for r in again.routes for s in r.steps if s.id == "e3")
    assert 300 <= e3.arrival + e3.waiting <= 400


def test_added_shipments_and_added_work_the_base_plan_already_serves():
    base, doc, east, west = solved_base()
    plan = steps(doc, east)
    served = route(doc, east)  # a base plan that serves new work already (an applied insertion)
    served["steps"].insert(1, {"type": "stop", "id": "x1", "arrival": 0, "load": [0], "distance": 0})
    request = {"at": 0, "add_stops": [{"id": "x1", "location_index": 11, "demand": [1]}],
               "add_shipments": [{"id": "s9", "amount": [1], "pickup": {"location_index": 12},
                                  "delivery": {"location_index": 8}}]}
    derived = derive(base, doc, request)
    initial = {spec["vehicle_id"]: spec["steps"] for spec in derived["initial_routes"]}
    assert initial[east] == ["x1", *plan]
    assert [s["id"] for s in derived["shipments"]] == ["s1", "s9"]
    again = solve_checked(derived)
    assert {"x1", "s9"} <= routed(again) and again.unassigned == []
    taken = errors(base, doc, {**request, "add_shipments": [{**request["add_shipments"][0], "id": "s1"}]})
    assert taken == {"/add_shipments/0/id": "shipment 's1' is in the base problem"}


def test_previous_routes_are_the_warm_start():
    base, solution, east, west = solved_base()
    plan_east, plan_west = steps(solution, east), steps(solution, west)
    derived = derive(base, solution, {"at": 30, "vehicles": [{"id": west, "completed": plan_west[:1]}]})
    initial = {spec["vehicle_id"]: spec["steps"] for spec in derived["initial_routes"]}
    assert initial == {east: plan_east, west: plan_west[1:]}
    parse_problem(derived)


def test_a_chain_of_re_optimizations_carries_goods_and_progress():
    base, solution, east, _ = solved_base()
    plan = steps(solution, east)
    at_pickup = plan.index("s1:pickup")
    first = derive(base, solution, {"at": 30, "vehicles": [{"id": east, "completed": plan[:at_pickup],
                                                            "in_progress": "s1:pickup"}]})
    middle = solve_checked(first).to_json_dict()
    rest = [s for s in steps(middle, east) if s != "s1:pickup"]
    # the next event lists only what happened since: the pickup left its place with the vehicle
    second = derive(first, middle, {"at": 60, "vehicles": [{"id": east, "completed": rest[:1]}]})
    shipment = second["shipments"][0]
    position = next(v for v in second["vehicles"] if v["id"] == east)["start_index"]
    assert shipment["pickup"] == {"location_index": position}
    assert next(s["steps"] for s in second["locked"] if s["vehicle_id"] == east) == ["s1:pickup"]
    done = set(plan[:at_pickup]) | set(rest[:1])
    assert not done & {s["id"] for s in second["stops"]}
    final = solve_checked(second)
    assert not done & routed(final) and steps(final, east)[0] == "s1:pickup"


def test_breaks_taken_or_past_are_removed():
    base, solution, east, west = solved_base()
    for vehicle in base["vehicles"]:
        vehicle["breaks"] = [{"id": "early", "time_windows": [[0, 50]], "duration": 10},
                             {"id": "lunch", "time_windows": [[100, 200]], "duration": 30},
                             {"id": "tea", "time_windows": [[300, 400]], "duration": 10}]
    solution = solve_checked(base).to_json_dict()
    derived = derive(base, solution, {"at": 120, "vehicles": [{"id": east, "completed": ["break:lunch"]}]})
    breaks = {v["id"]: [b["id"] for b in v.get("breaks", [])] for v in derived["vehicles"]}
    assert breaks == {east: ["tea"], west: ["lunch", "tea"]}  # "early" closed before 120
    solve_checked(derived)


def test_derive_passes_the_penalty_and_the_new_plan_keeps_vehicles():
    base, solution, east, west = solved_base()
    request = {"at": 0, "reassign_penalty": 10_000, "time_limit": 0.5,
               # the west vehicle now starts far east: without stability it would swap sides
               "vehicles": [{"id": west, "position": 11}, {"id": east, "position": 12}]}
    derived = derive(base, solution, request)
    assert derived["reassign_penalty"] == 10_000 and derived["options"]["time_limit"] == 0.5
    kept = solve_checked(derived)
    assert set(steps(kept, east)) == set(steps(solution, east))
    assert kept.changes.reassigned == []
    derived.pop("reassign_penalty")
    moved = solve_checked(derived)
    assert moved.changes.reassigned  # swapping sides is shorter now


def test_errors_point_into_the_request():
    base, solution, east, west = solved_base()
    plan = steps(solution, east)
    request = {
        "at": 50,
        "vehicles": [
            {"id": east, "completed": [plan[0], plan[1], "x"], "position": 99},
            {"id": "ghost"},
            {"id": west, "completed": [plan[0]], "position": [1.0, 2.0]},
        ],
        "cancel_stops": [plan[1] if ":" not in plan[1] else plan[0], "nope"],
        "update_stops": [{"id": "zz", "demand": [1]}],
        "add_stops": [{"id": "e1", "location_index": 1}, {"id": "n1", "location": [1.0, 2.0]}],
    }
    problems = errors(base, solution, request)
    assert problems["/vehicles/0/completed/2"].startswith("unknown step 'x'")
    assert problems["/vehicles/0/position"] == "index 99 is outside the 13x13 matrix"
    assert problems["/vehicles/1/id"] == "unknown vehicle 'ghost'"
    assert problems["/vehicles/2/completed/0"].startswith(f"step {plan[0]!r} is already reported at /vehicles/0/completed/0")
    assert problems["/vehicles/2/position"] == "the base problem has a matrix: give an index of it"
    assert "cannot be cancelled" in problems["/cancel_stops/0"]
    assert problems["/cancel_stops/1"] == "unknown stop or shipment 'nope'"
    assert problems["/update_stops/0/id"] == "unknown stop 'zz'"
    assert problems["/add_stops/0/id"] == "stop 'e1' is in the base problem (change it with update_stops)"
    # the shape of the request is checked first, on its own
    malformed = {**request, "add_stops": [{"id": "n2", "location_index": 2, "time_windows": [[5, 1]]}]}
    assert errors(base, solution, malformed) == {"/add_stops/0/time_windows/0": "start 5 is after end 1"}
    # relations are checked on the derived problem and pointed back into the request
    fixed = copy.deepcopy(request)
    fixed["vehicles"] = []
    fixed["cancel_stops"], fixed["update_stops"] = [], []
    fixed["add_stops"] = request["add_stops"][1:2]
    assert errors(base, solution, fixed) == {
        "/add_stops/0/location": "the problem has a matrix: use 'location_index' instead of 'location'"}


@pytest.mark.parametrize("request_, pointer", [
    ({"at": 9000, "vehicles": [{"id": "v1", "available_from": 20_000}]}, "/vehicles/0/available_from"),
    ({"at": 20_000, "vehicles": [{"id": "v1"}]}, "/at"),
    ({"vehicles": []}, "/at"),
    ({"at": 0, "base_job_id": "x"}, "/base_job_id"),
    ({"at": 0, "vehicles": [{"id": "v1", "position": "here"}]}, "/vehicles/0/position"),
])
def test_more_errors(request_, pointer):
    base, solution, _, _ = solved_base()
    assert pointer in errors(base, solution, request_)


def test_a_shipment_is_delivered_by_the_vehicle_that_picked_it_up():
    base, solution, east, west = solved_base()
    request = {"at": 40, "vehicles": [{"id": east, "completed": ["s1:pickup"]},
                                      {"id": west, "dispatched": ["s1:delivery"]}]}
    problems = errors(base, solution, request)
    assert problems["/vehicles/1/dispatched/0"].startswith("'s1' is picked up by vehicle")
    request = {"at": 40, "vehicles": [{"id": east, "dispatched": ["s1:delivery", "s1:pickup"]}]}
    assert "before its pickup" in errors(base, solution, request)["/vehicles/0/dispatched/0"]


def test_the_rest_body_model():
    body = parse_request({"at": 5, "event_id": "evt-1"}, ReoptimizeBody)
    assert body.event_id == "evt-1" and body.vehicles == []
    problem = base_problem()
    assert parse_problem(problem)  # the helpers' base problem is valid


def test_a_shift_opened_at_the_end_of_time_ends_within_the_contract():
    base, solution, east, _ = solved_base()
    for vehicle in base["vehicles"]:
        vehicle.pop("time_window")
    late = MAX_TIME - 100
    derived = derive(base, solution, {"at": late})
    assert all(v["time_window"] == [late, MAX_TIME] for v in derived["vehicles"])


def test_the_first_issues_of_a_request_naming_every_stop_wrong_are_listed_with_a_count():
    base, solution, _, _ = solved_base()
    with pytest.raises(InvalidInput) as caught:
        derive(base, solution, {"at": 0, "cancel_stops": [f"ghost{i}" for i in range(5000)]})
    assert len(caught.value.issues) == MAX_ISSUES and caught.value.omitted == 5000 - MAX_ISSUES
    assert caught.value.issues[0].pointer == "/cancel_stops/0"
