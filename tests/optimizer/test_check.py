"""The solution checker: hand-written solutions, then one injected defect at a time."""

from __future__ import annotations

import copy

import pytest

from optimizer.check import Violation, check
from optimizer.solution import Solution
from optimizer.validate import parse_problem

# -- a matrix problem ---------------------------------------------------------------
#
# Places lie on a line at x = 0 (depot), 10 (c1), 20 (c2), 30 (c3), 5 (s1 pickup),
# 15 (s1 delivery), 40 (c4); a unit of x is 100 m and 10 s.
X = [0, 10, 20, 30, 5, 15, 40]


def line_matrix(xs: list[float]) -> dict:
    return {
        "distances": [[100 * abs(a - b) for b in xs] for a in xs],
        "durations": [[10 * abs(a - b) for b in xs] for a in xs],
    }


def matrix_problem() -> dict:
    return {
        "matrix": line_matrix(X),
        "vehicles": [
            {
                "id": "v1", "start_index": 0, "end_index": 0, "capacity": [10],
                "time_window": [0, 1000], "skills": ["fridge"],
                "breaks": [{"id": "lunch", "time_windows": [[200, 320]], "duration": 30}],
            },
            {"id": "v2", "start_index": 0, "end_index": 0, "capacity": [5], "time_window": [0, 1000]},
        ],
        "stops": [
            {"id": "c1", "location_index": 1, "demand": [3], "service": 5, "time_windows": [[0, 500]]},
            {"id": "c2", "location_index": 2, "demand": [4], "service": 5, "time_windows": [[300, 400]]},
            {"id": "c3", "location_index": 3, "demand": [2], "service": 10, "skills": ["fridge"]},
            {"id": "c4", "location_index": 6, "demand": [1], "drop_penalty": 100},
        ],
        "shipments": [
            {
                "id": "s1", "amount": [2],
                "pickup": {"location_index": 4},
                "delivery": {"location_index": 5, "time_windows": [[200, 300]]},
            }
        ],
        "locked": [{"vehicle_id": "v1", "steps": ["c1"]}],
    }


def step(type_: str, id_: str | None, arrival: float, departure: float | None,
         load: list[int], distance: float, waiting: float = 0.0) -> dict:
    out = {"type": type_, "arrival": arrival, "load": load, "distance": distance, "waiting": waiting}
    if id_ is not None:
        out["id"] = id_
    if departure is not None:
        out["departure"] = departure
    return out


SOLVER = {"engine": "hand", "wall_time": 0.0, "objective": None, "improvements": [],
          "stopped_by": "finished"}


def matrix_solution() -> dict:
    """The correct solution of ``matrix_problem``, timeline worked out by hand."""
    v1 = [
        step("start", None, 0, 0, [0], 0),
        step("stop", "c1", 100, 105, [3], 1000),
        step("break", "lunch", 200, 230, [3], 1000),  # earliest start 200; leg ends 205 + 30
        step("stop", "c2", 235, 305, [7], 2000, waiting=65),
        step("stop", "c3", 405, 415, [9], 3000),
        step("end", None, 715, None, [9], 6000),
    ]
    v2 = [
        step("start", None, 0, 0, [0], 0),
        step("pickup", "s1", 50, 50, [2], 500),
        step("delivery", "s1", 150, 200, [0], 1500, waiting=50),
        step("end", None, 350, None, [0], 3000),
    ]
    return {
        "status": "feasible",
        "summary": {"distance": 9000, "duration": 1065, "cost": 9.0, "vehicles_used": 2,
                    "unassigned": 1},
        "routes": [
            {"vehicle_id": "v1", "distance": 6000, "duration": 715, "cost": 6.0, "steps": v1},
            {"vehicle_id": "v2", "distance": 3000, "duration": 350, "cost": 3.0, "steps": v2},
        ],
        "unassigned": [{"id": "c4", "type": "stop", "reason": "dropped"}],
        "solver": SOLVER,
    }


def bare(solution: dict) -> dict:
    """Only what a route's order says: vehicle ids, step types and ids, no numbers."""
    return {
        "status": solution["status"],
        "routes": [
            {"vehicle_id": r["vehicle_id"],
             "steps": [{k: s[k] for k in ("type", "id") if k in s} for s in r["steps"]]}
            for r in solution["routes"]
        ],
        "unassigned": copy.deepcopy(solution["unassigned"]),
    }


def kinds(violations: list[Violation]) -> set[str]:
    return {v.kind for v in violations}


def audit(problem: dict, solution: dict) -> list[Violation]:
    return check(parse_problem(problem), solution)


def route_of(solution: dict, vehicle_id: str) -> list[dict]:
    return next(r for r in solution["routes"] if r["vehicle_id"] == vehicle_id)["steps"]


def find(steps: list[dict], id_: str, type_: str | None = None) -> dict:
    return next(s for s in steps if s.get("id") == id_ and (type_ is None or s["type"] == type_))


# -- correct solutions ---------------------------------------------------------------


def test_hand_written_solution_passes():
    assert audit(matrix_problem(), matrix_solution()) == []


def test_solution_object_passes():
    solution = Solution.model_validate(matrix_solution())
    assert check(parse_problem(matrix_problem()), solution) == []


def test_solution_without_numbers_passes():
    assert audit(matrix_problem(), bare(matrix_solution())) == []


def test_later_reported_times_are_waiting_not_violations():
    solution = matrix_solution()
    steps = route_of(solution, "v1")
    find(steps, "c3").update(arrival=450, departure=460)
    steps[-1]["arrival"] = 760
    assert audit(matrix_problem(), solution) == []


def test_violation_reads_as_one_line():
    text = str(Violation("capacity", "load [12] exceeds capacity [10]", "v1", "c3"))
    assert text == "[capacity] vehicle 'v1', step 'c3': load [12] exceeds capacity [10]"
    assert "\n" not in str(Violation("status", "wrong"))


# -- injected defects -----------------------------------------------------------------


def test_capacity_overload():
    problem = matrix_problem()
    problem["vehicles"][0]["capacity"] = [8]
    found = audit(problem, matrix_solution())
    assert kinds(found) == {"capacity"}
    assert found[0].vehicle_id == "v1" and found[0].step == "c3"


def test_time_window_missed():
    problem = matrix_problem()
    problem["stops"][1]["time_windows"] = [[100, 150]]  # c2 is reached at 235
    found = audit(problem, bare(matrix_solution()))
    assert kinds(found) == {"time_window"}
    assert found[0].step == "c2"


def test_reported_service_start_outside_window():
    solution = matrix_solution()
    find(route_of(solution, "v1"), "c2")["departure"] = 500  # service would start at 495
    found = audit(matrix_problem(), solution)
    assert kinds(found) == {"time_window"}


def test_skill_missing():
    problem = matrix_problem()
    problem["stops"][2]["skills"] = ["hazmat"]
    found = audit(problem, matrix_solution())
    assert kinds(found) == {"skills"}
    assert found[0].step == "c3"


def test_delivery_before_pickup():
    solution = bare(matrix_solution())
    steps = route_of(solution, "v2")
    steps[1], steps[2] = steps[2], steps[1]
    found = audit(matrix_problem(), solution)
    assert "precedence" in kinds(found)
    assert "capacity" in kinds(found)  # the load goes negative at the early delivery


def test_pickup_and_delivery_on_different_vehicles():
    solution = bare(matrix_solution())
    delivery = route_of(solution, "v2").pop(2)
    route_of(solution, "v1").insert(-1, delivery)
    assert "precedence" in kinds(audit(matrix_problem(), solution))


def test_pickup_without_delivery():
    solution = bare(matrix_solution())
    route_of(solution, "v2").pop(2)
    found = audit(matrix_problem(), solution)
    assert "precedence" in kinds(found)
    assert "missing" not in kinds(found)


def test_lock_broken():
    problem = matrix_problem()
    problem["locked"] = [{"vehicle_id": "v1", "steps": ["c2", "c1"]}]
    assert kinds(audit(problem, bare(matrix_solution()))) == {"locked"}


def test_lock_with_shipment_steps_and_break_between():
    problem = matrix_problem()
    problem["locked"] = [
        {"vehicle_id": "v1", "steps": ["c1", "c2"]},  # the lunch break lies between them
        {"vehicle_id": "v2", "steps": ["s1:pickup", "s1:delivery"]},
    ]
    assert audit(problem, bare(matrix_solution())) == []


def test_lock_on_unused_vehicle():
    problem = matrix_problem()
    problem["vehicles"].append({"id": "v3", "start_index": 0, "capacity": [5]})
    problem["locked"].append({"vehicle_id": "v3", "steps": ["c4"]})
    assert kinds(audit(problem, bare(matrix_solution()))) == {"locked"}


def test_stop_served_twice():
    solution = bare(matrix_solution())
    route_of(solution, "v2").insert(1, {"type": "stop", "id": "c1"})
    found = audit(matrix_problem(), solution)
    assert "served_twice" in kinds(found)
    assert any(v.step == "c1" for v in found if v.kind == "served_twice")


def test_stop_routed_and_listed_unassigned():
    solution = bare(matrix_solution())
    solution["unassigned"].append({"id": "c1", "type": "stop", "reason": "dropped"})
    assert kinds(audit(matrix_problem(), solution)) == {"served_twice"}


def test_stop_missing():
    solution = matrix_solution()
    solution["unassigned"] = []
    found = audit(matrix_problem(), solution)
    assert kinds(found) == {"missing"}
    assert found[0].step == "c4"


def test_shipment_missing():
    solution = bare(matrix_solution())
    solution["routes"] = [r for r in solution["routes"] if r["vehicle_id"] != "v2"]
    solution["status"] = "infeasible"  # s1 is mandatory
    assert kinds(audit(matrix_problem(), solution)) == {"missing"}


@pytest.mark.parametrize(
    ("field", "value", "kind"),
    [("max_distance", 5000, "max_distance"), ("max_duration", 600, "max_duration"),
     ("max_stops", 2, "max_stops")],
)
def test_route_limits(field, value, kind):
    problem = matrix_problem()
    problem["vehicles"][0][field] = value
    assert kinds(audit(problem, matrix_solution())) == {kind}
    problem["vehicles"][0][field] = {"max_distance": 6000, "max_duration": 715, "max_stops": 3}[field]
    assert audit(problem, matrix_solution()) == []  # exactly at the limit is fine


def test_shift_end_exceeded():
    problem = matrix_problem()
    problem["vehicles"][0]["time_window"] = [0, 700]  # v1 returns at 715
    found = audit(problem, bare(matrix_solution()))
    assert kinds(found) == {"shift"}
    assert found[0].vehicle_id == "v1"


def test_later_start_is_honoured():
    solution = bare(matrix_solution())
    route_of(solution, "v2")[0]["departure"] = 300  # s1 is then delivered at 450 > 300
    found = audit(matrix_problem(), solution)
    assert kinds(found) == {"time_window"}
    assert found[0].step == "s1:delivery"


def test_start_after_shift_end():
    solution = bare(matrix_solution())
    route_of(solution, "v2")[0]["departure"] = 1200
    assert "shift" in kinds(audit(matrix_problem(), solution))


def test_start_before_shift_opens_is_misreported():
    problem = matrix_problem()
    problem["vehicles"][1]["time_window"] = [10, 1000]
    solution = bare(matrix_solution())
    route_of(solution, "v2")[0]["departure"] = 0
    assert kinds(audit(problem, solution)) == {"reported"}


def test_wrong_route_distance():
    solution = matrix_solution()
    solution["routes"][0]["distance"] = 5000
    found = audit(matrix_problem(), solution)
    assert kinds(found) == {"reported"}
    assert "5000" in found[0].message and "6000" in found[0].message


def test_wrong_step_distance_and_load():
    solution = matrix_solution()
    steps = route_of(solution, "v1")
    find(steps, "c2")["distance"] = 1999
    find(steps, "c3")["load"] = [8]
    found = audit(matrix_problem(), solution)
    assert kinds(found) == {"reported"}
    assert {v.step for v in found} == {"c2", "c3"}


def test_arrival_earlier_than_possible():
    solution = matrix_solution()
    find(route_of(solution, "v1"), "c3")["arrival"] = 300
    found = audit(matrix_problem(), solution)
    assert kinds(found) == {"reported"}
    assert found[0].step == "c3"


def test_departure_earlier_than_service_end():
    solution = matrix_solution()
    find(route_of(solution, "v1"), "c3")["departure"] = 410  # arrives 405, serves 10
    assert kinds(audit(matrix_problem(), solution)) == {"reported"}


def test_wrong_summary():
    solution = matrix_solution()
    solution["summary"].update(distance=8000, vehicles_used=3, unassigned=0)
    found = audit(matrix_problem(), solution)
    assert kinds(found) == {"reported"}
    assert len(found) == 3


def test_tolerance_absorbs_rounding():
    solution = matrix_solution()
    solution["routes"][0]["distance"] = 6000.0004
    find(route_of(solution, "v1"), "c3")["arrival"] = 404.9995
    assert audit(matrix_problem(), solution) == []


def test_status_infeasible_while_all_mandatory_served():
    solution = matrix_solution()
    solution["status"] = "infeasible"
    assert kinds(audit(matrix_problem(), solution)) == {"status"}


def test_status_with_mandatory_stop_unassigned():
    solution = bare(matrix_solution())
    steps = route_of(solution, "v1")
    steps.remove(find(steps, "c3"))
    solution["unassigned"].append({"id": "c3", "type": "stop", "reason": "skills"})
    solution["status"] = "infeasible"
    assert audit(matrix_problem(), solution) == []  # mandatory but unassigned: allowed
    solution["status"] = "feasible"
    assert kinds(audit(matrix_problem(), solution)) == {"status"}


def test_unknown_status():
    solution = matrix_solution()
    solution["status"] = "great"
    assert kinds(audit(matrix_problem(), solution)) == {"status"}


def test_break_missing():
    solution = bare(matrix_solution())
    steps = route_of(solution, "v1")
    steps.remove(find(steps, "lunch"))
    found = audit(matrix_problem(), solution)
    assert kinds(found) == {"break"}
    assert "lunch" in found[0].message


def test_break_outside_window():
    problem = matrix_problem()
    problem["vehicles"][0]["breaks"][0]["time_windows"] = [[0, 50]]  # ready only at 105
    found = audit(problem, bare(matrix_solution()))
    assert kinds(found) == {"break"}
    assert found[0].step == "break:lunch"


def test_break_not_needed_outside_working_time():
    problem = matrix_problem()
    problem["vehicles"][0]["breaks"][0]["time_windows"] = [[900, 950]]  # v1 is back at 715
    solution = bare(matrix_solution())
    steps = route_of(solution, "v1")
    steps.remove(find(steps, "lunch"))
    assert audit(problem, solution) == []


def test_break_reported_start_outside_window():
    solution = matrix_solution()
    find(route_of(solution, "v1"), "lunch").update(arrival=340, departure=370)
    assert "break" in kinds(audit(matrix_problem(), solution))


def test_break_taken_twice_and_unknown_break():
    solution = bare(matrix_solution())
    steps = route_of(solution, "v1")
    steps.insert(4, {"type": "break", "id": "lunch"})
    assert "break" in kinds(audit(matrix_problem(), solution))
    steps[4]["id"] = "nap"
    found = audit(matrix_problem(), solution)
    assert kinds(found) == {"break"}
    assert "nap" in found[0].message


def test_chained_breaks():
    problem = {
        "matrix": {"durations": [[0, 100], [100, 0]]},
        "vehicles": [{
            "id": "v", "start_index": 0,
            "breaks": [{"id": "b1", "time_windows": [[10, 20]], "duration": 30},
                       {"id": "b2", "time_windows": [[0, 1000]], "duration": 20}],
        }],
        "stops": [{"id": "c", "location_index": 1, "time_windows": [[0, 150]]}],
    }
    # b1 at 10..40, b2 at 40..60; 100 s of driving around them: arrival 150
    steps = [{"type": "start"}, {"type": "break", "id": "b1"}, {"type": "break", "id": "b2"},
             {"type": "stop", "id": "c", "arrival": 150}, {"type": "end"}]
    solution = {"status": "feasible", "routes": [{"vehicle_id": "v", "steps": steps}],
                "unassigned": []}
    assert audit(problem, solution) == []
    steps[3]["arrival"] = 149
    assert kinds(audit(problem, solution)) == {"reported"}
    problem["stops"][0]["time_windows"] = [[0, 140]]
    steps[3]["arrival"] = 150
    assert kinds(audit(problem, solution)) == {"time_window"}


def test_unknown_vehicle_stop_and_second_route():
    solution = bare(matrix_solution())
    solution["routes"][1]["vehicle_id"] = "v9"
    assert "unknown" in kinds(audit(matrix_problem(), solution))
    solution["routes"][1]["vehicle_id"] = "v1"  # v1 now has two routes
    found = audit(matrix_problem(), solution)
    assert any(v.kind == "unknown" and "more than one route" in v.message for v in found)
    solution = bare(matrix_solution())
    route_of(solution, "v2").insert(1, {"type": "stop", "id": "nowhere"})
    found = audit(matrix_problem(), solution)
    assert kinds(found) == {"unknown"}
    assert found[0].step == "nowhere"


def test_unreachable_arc():
    problem = matrix_problem()
    for key in ("distances", "durations"):
        problem["matrix"][key][0][4] = None  # no road from the depot to s1's pickup
    found = audit(problem, bare(matrix_solution()))
    assert kinds(found) == {"unreachable"}
    assert found[0].step == "s1:pickup"


def test_malformed_documents_do_not_raise():
    problem = parse_problem(matrix_problem())
    assert kinds(check(problem, [])) == {"unknown"}  # type: ignore[arg-type]
    found = check(problem, {"status": "feasible", "routes": [7], "unassigned": "none"})
    assert "unknown" in kinds(found) and "missing" in kinds(found)
    solution = matrix_solution()
    solution["routes"][0]["distance"] = "far"
    assert kinds(check(problem, solution)) == {"reported"}
