"""Plan stability: ``reassign_penalty`` and the solution's ``changes`` section."""

from reopt_helpers import solve_checked, steps

from optimizer import parse_problem
from optimizer.changes import _longest_increasing
from optimizer.engines.ortools.routing import build
from optimizer.engines.ortools.stability import DIMENSION
from optimizer.layout import lay_out

# v1 lives at 0, v2 at 100; a, b and the shipment s sit near v1, c and d near v2.
PLACES = [0, 100, 10, 20, 80, 90, 15, 5]


def two_depots(initial_routes, open_routes: bool = False, **extra) -> dict:
    rows = [[abs(a - b) for b in PLACES] for a in PLACES]
    vehicles = [{"id": "v1", "start_index": 0, "end_index": 0}, {"id": "v2", "start_index": 1, "end_index": 1}]
    for vehicle in vehicles if open_routes else []:
        del vehicle["end_index"]  # open routes: the order of the stops matters
    return {
        "vehicles": vehicles,
        "stops": [{"id": "a", "location_index": 2}, {"id": "b", "location_index": 3},
                  {"id": "c", "location_index": 4}, {"id": "d", "location_index": 5}],
        "shipments": [{"id": "s", "pickup": {"location_index": 6}, "delivery": {"location_index": 7}}],
        "matrix": {"distances": rows},
        "initial_routes": initial_routes,
        "options": {"time_limit": 0.5},
        **extra,
    }


# the previous plan had every stop on the far vehicle (as if the depots had been swapped)
SWAPPED = [{"vehicle_id": "v1", "steps": ["c", "d"]}, {"vehicle_id": "v2", "steps": ["a", "b", "s:pickup", "s:delivery"]}]


def test_a_high_penalty_keeps_every_stop_on_its_previous_vehicle():
    solution = solve_checked(two_depots(SWAPPED, reassign_penalty=1_000))
    assert set(steps(solution, "v1")) == {"c", "d"}
    assert set(steps(solution, "v2")) == {"a", "b", "s:pickup", "s:delivery"}
    changes = solution.changes
    assert changes.reassigned == [] and changes.unchanged + len(changes.reordered) == 6


def test_without_a_penalty_stops_move_and_changes_say_which():
    solution = solve_checked(two_depots(SWAPPED))
    assert set(steps(solution, "v1")) == {"a", "b", "s:pickup", "s:delivery"}
    moved = {(c.step, c.from_vehicle, c.to_vehicle) for c in solution.changes.reassigned}
    assert moved == {("c", "v1", "v2"), ("d", "v1", "v2"), ("a", "v2", "v1"), ("b", "v2", "v1"),
                     ("s:pickup", "v2", "v1"), ("s:delivery", "v2", "v1")}
    assert solution.changes.unchanged == 0
    change = next(c for c in solution.changes.reassigned if c.step == "c")
    assert change.from_position == 0 and change.to_position in (0, 1)


def test_the_penalty_is_weighed_against_distance():
    # swapping everything back saves 290 m (370 -> 80) and moves five stops and shipments:
    # worth it at 10 m per move, not at 100 m
    cheap = solve_checked(two_depots(SWAPPED, reassign_penalty=10))
    assert set(steps(cheap, "v1")) == {"a", "b", "s:pickup", "s:delivery"}
    assert len(cheap.changes.reassigned) == 6  # the shipment's two steps are both listed
    dear = solve_checked(two_depots(SWAPPED, reassign_penalty=100))
    assert set(steps(dear, "v1")) == {"c", "d"}


def test_reordered_steps_are_the_fewest_that_explain_the_new_order():
    initial = [{"vehicle_id": "v1", "steps": ["b", "a"]}, {"vehicle_id": "v2", "steps": ["c", "d"]}]
    data = two_depots(initial, open_routes=True, reassign_penalty=1_000)
    del data["shipments"]
    solution = solve_checked(data)
    assert steps(solution, "v1") == ["a", "b"] and steps(solution, "v2") == ["d", "c"]
    reordered = {c.step for c in solution.changes.reordered}
    assert len(reordered & {"a", "b"}) == 1 and len(reordered & {"c", "d"}) == 1
    assert all(c.from_vehicle == c.to_vehicle for c in solution.changes.reordered)
    assert solution.changes.unchanged == 2 and solution.changes.reassigned == []


def test_inserting_new_work_reorders_nothing():
    initial = [{"vehicle_id": "v1", "steps": ["a", "b"]}, {"vehicle_id": "v2", "steps": ["d", "c"]}]
    solution = solve_checked(two_depots(initial, open_routes=True, reassign_penalty=1_000))  # s is new
    assert steps(solution, "v1") == ["a", "s:pickup", "b", "s:delivery"]
    assert solution.changes.reordered == [] and solution.changes.reassigned == []


def test_no_stability_cost_without_the_option_and_no_changes_without_initial_routes():
    plain = two_depots([])
    del plain["initial_routes"]
    assert solve_checked(plain).changes is None
    for data, expected in ((plain, False), (two_depots(SWAPPED), False),
                           (two_depots(SWAPPED, reassign_penalty=5), True)):
        names = build(lay_out(parse_problem(data))).routing.GetAllDimensionNames()
        assert (DIMENSION in names) is expected
    assert "changes" not in solve_checked(plain).to_json_dict()


def test_longest_increasing_subsequence():
    assert _longest_increasing([]) == set()
    assert _longest_increasing([0, 1, 2]) == {0, 1, 2}
    assert len(_longest_increasing([3, 0, 1, 2])) == 3 and 0 not in _longest_increasing([3, 0, 1, 2])
    assert len(_longest_increasing([1, 0])) == 1
