"""Validation that stays bounded: sizes before cells, at most MAX_ISSUES issues and an exact
count of the others, a number above its bound refused with a pointer."""

import pytest

from optimizer import MAX_ISSUES, InvalidProblem, Limits, parse_problem
from optimizer import model as m


def invalid(data, limits=None) -> InvalidProblem:
    with pytest.raises(InvalidProblem) as info:
        parse_problem(data, limits)
    return info.value


def matrix_problem(n: int, cell=1.0) -> dict:
    """One vehicle leaving from place 0 and a stop at every other place of an n x n matrix."""
    return {"vehicles": [{"id": "v", "start_index": 0}],
            "stops": [{"id": f"s{i}", "location_index": i} for i in range(1, n)],
            "matrix": {"distances": [[cell] * n for _ in range(n)]}}


def test_a_matrix_of_bad_cells_lists_the_first_ones_and_counts_the_rest():
    error = invalid(matrix_problem(800, cell=-1))
    assert len(error.issues) == MAX_ISSUES
    assert error.omitted == 800 * 800 - MAX_ISSUES
    assert error.issues[0].pointer == "/matrix/distances/0/0"
    assert error.issues[0].message == "must not be negative (got -1)"
    lines = str(error).splitlines()
    assert len(lines) == MAX_ISSUES + 1
    assert lines[-1] == f"{800 * 800 - MAX_ISSUES} more error(s) not listed (at most {MAX_ISSUES} are)"


def test_a_valid_matrix_validated_apart_is_in_the_problem():
    problem = parse_problem(matrix_problem(3, cell=2))
    assert problem.matrix.distances == [[2.0] * 3] * 3
    assert problem.matrix.durations is None
    assert all(type(cell) is float for row in problem.matrix.distances for cell in row)


def test_many_bad_items_are_listed_up_to_the_cap_with_an_exact_count():
    data = matrix_problem(3)
    data["vehicles"][0]["capacity"] = [5]
    data["stops"] = [{"id": f"s{i}", "location_index": 1, "service": -1, "demand": ["x"]} for i in range(4000)]
    error = invalid(data, Limits(max_stops=5000))
    assert len(error.issues) == MAX_ISSUES
    assert error.omitted == 2 * 4000 - MAX_ISSUES  # two errors per stop
    assert error.issues[:2] == [i for i in error.issues if i.pointer.startswith("/stops/0/")]


def test_sizes_come_first_and_alone():
    data = matrix_problem(12, cell=-1)
    data["vehicles"] *= 3
    data["stops"][0]["service"] = "slow"
    error = invalid(data, Limits(max_stops=10, max_vehicles=2))
    assert {i.pointer: i.message for i in error.issues} == {
        "/vehicles": "3 vehicles exceed the limit of 2",
        "/stops": "11 stops (a shipment counts twice) exceed the limit of 10"}


def test_a_matrix_larger_than_any_problem_of_the_limits_can_serve_is_refused():
    data = matrix_problem(3)
    data["matrix"]["distances"] = [[1] * 6 for _ in range(6)]
    data["matrix"]["durations"] = [[1] * 6 for _ in range(6)]
    small = Limits(max_stops=2, max_vehicles=1)  # 4 places at most
    error = invalid(data, small)
    assert [i.pointer for i in error.issues] == ["/matrix/distances", "/matrix/durations"]
    assert "a 6x6 matrix has more places than the 4 a problem can reference here" in error.issues[0].message
    # a shared matrix of which the problem uses a few places, within the farm's
    assert parse_problem(data).matrix.distances[5] == [1.0] * 6


def test_rows_of_the_wrong_length_are_sizes():
    data = matrix_problem(3, cell=-1)
    data["matrix"]["distances"][2] = [1, 2]
    error = invalid(data)
    assert [(i.pointer, i.message) for i in error.issues] == [
        ("/matrix/distances/2", "row has 2 entries; a 3x3 matrix needs 3")]


TIME = m.MAX_TIME * 1.5


@pytest.mark.parametrize("path, value, pointer", [
    (("stops", 0, "demand"), [10**30], "/stops/0/demand/0"),
    (("stops", 0, "time_windows"), [[0, 1e300]], "/stops/0/time_windows/0/1"),
    (("stops", 0, "service"), m.MAX_DURATION + 1, "/stops/0/service"),
    (("stops", 0, "drop_penalty"), m.MAX_PENALTY * 2, "/stops/0/drop_penalty"),
    (("stops", 0, "skills"), ["s"] * (m.MAX_SKILLS + 1), "/stops/0/skills"),
    (("stops", 0, "time_windows"), [[0, 1]] * (m.MAX_WINDOWS + 1), "/stops/0/time_windows"),
    (("vehicles", 0, "capacity"), [1] * (m.MAX_DIMENSIONS + 1), "/vehicles/0/capacity"),
    (("vehicles", 0, "time_window"), [0, TIME], "/vehicles/0/time_window/1"),
    (("vehicles", 0, "max_duration"), TIME, "/vehicles/0/max_duration"),
    (("vehicles", 0, "max_distance"), m.MAX_ROUTE_DISTANCE * 2, "/vehicles/0/max_distance"),
    (("vehicles", 0, "max_stops"), m.MAX_COUNT + 1, "/vehicles/0/max_stops"),
    (("vehicles", 0, "fixed_cost"), m.MAX_FIXED_COST * 2, "/vehicles/0/fixed_cost"),
    (("vehicles", 0, "cost_per_km"), m.MAX_RATE * 2, "/vehicles/0/cost_per_km"),
    (("vehicles", 0, "cost_per_hour"), m.MAX_RATE * 2, "/vehicles/0/cost_per_hour"),
    (("vehicles", 0, "breaks"), [{"id": "b", "duration": 1, "time_windows": [[0, 1]]}] * (m.MAX_BREAKS + 1),
     "/vehicles/0/breaks"),
    (("vehicles", 0, "breaks"), [{"id": "b", "duration": m.MAX_DURATION * 2, "time_windows": [[0, 1]]}],
     "/vehicles/0/breaks/0/duration"),
    (("options",), {"seed": 2**31}, "/options/seed"),
    (("options",), {"time_limit": 1e9}, "/options/time_limit"),
    (("options",), {"speed_kmh": 0.01}, "/options/speed_kmh"),
    (("options",), {"speed_kmh": 1e5}, "/options/speed_kmh"),
    (("reassign_penalty",), 1e300, "/reassign_penalty"),
    (("matrix", "distances", 1, 2), m.MAX_DISTANCE * 2, "/matrix/distances/1/2"),
    (("matrix", "durations"), [[m.MAX_DURATION * 2] * 3] * 3, "/matrix/durations/0/0"),
])
def test_a_number_or_list_above_its_bound_is_refused_with_its_pointer(path, value, pointer):
    data = matrix_problem(3)
    data["stops"] = data["stops"][:1]
    here = data
    for part in path[:-1]:
        here = here[part]
    here[path[-1]] = value
    found = {i.pointer: i.message for i in invalid(data).issues}
    assert pointer in found, found
    assert found[pointer].startswith(("must be at most", "must have at most", "must be at least")), found


def test_the_bounds_are_in_the_schema():
    schema = m.Problem.model_json_schema()
    stop = schema["$defs"]["Stop"]["properties"]
    assert stop["demand"]["maxItems"] == m.MAX_DIMENSIONS
    assert stop["demand"]["items"]["maximum"] == m.MAX_AMOUNT
    assert stop["service"]["maximum"] == m.MAX_DURATION
    assert schema["$defs"]["RouteSpec"]["properties"]["steps"]["maxItems"] == m.MAX_STEPS
