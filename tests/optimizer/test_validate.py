import math

import pytest
from pydantic import ValidationError

from optimizer import InvalidProblem, Limits, parse_problem


def base(**extra):
    problem = {
        "vehicles": [{"id": "v1", "start_index": 0, "end_index": 0, "capacity": [10]}],
        "stops": [
            {"id": "a", "location_index": 1, "demand": [1]},
            {"id": "b", "location_index": 2, "demand": [2]},
        ],
        "matrix": {"distances": [[0, 5, 7], [5, 0, 3], [7, 3, 0]]},
    }
    problem.update(extra)
    return problem


def errors(data, limits=None) -> dict[str, str]:
    with pytest.raises(InvalidProblem) as info:
        parse_problem(data, limits)
    return {issue.pointer: issue.message for issue in info.value.issues}


def test_valid_problem_parses_into_immutable_objects():
    problem = parse_problem(base())
    assert [s.id for s in problem.stops] == ["a", "b"]
    assert problem.dimensions == 1
    with pytest.raises(ValidationError):
        problem.stops[0].demand = [5]  # frozen


def test_reports_every_error_at_once_with_pointers():
    data = base()
    data["stops"][0]["time_windows"] = [[500, 400]]
    data["stops"][1]["colour"] = "red"
    data["stops"].append({"id": "a", "location_index": 9, "demand": [1, 2]})
    found = errors(data)
    assert found["/stops/0/time_windows/0"] == "start 500 is after end 400"
    assert found["/stops/1/colour"] == "unknown field"
    assert "duplicate id 'a'" in found["/stops/2/id"]
    assert "outside the 3x3 matrix" in found["/stops/2/location_index"]
    assert "2 dimensions" in found["/stops/2/demand"]


def test_capacity_dimension_mismatch_between_vehicles():
    data = base()
    data["vehicles"].append({"id": "v2", "start_index": 0, "capacity": [10, 5]})
    found = errors(data)
    assert "capacity has 1 dimensions but other vehicles have 2" in found["/vehicles/0/capacity"]


@pytest.mark.parametrize("value", [-1, math.inf, math.nan])
def test_negative_and_non_finite_numbers(value):
    data = base()
    data["stops"][0]["service"] = value
    data["matrix"]["distances"][1][2] = value
    found = errors(data)
    assert "/stops/0/service" in found
    assert "/matrix/distances/1/2" in found


def test_matrix_must_be_square_and_agree():
    data = base()
    data["matrix"]["distances"][1] = [5, 0]
    data["matrix"]["durations"] = [[0, 1], [1, 0]]
    found = errors(data)
    assert "a 3x3 matrix needs 3" in found["/matrix/distances/1"]
    assert "durations are 2x2 but distances are 3x3" in found["/matrix/durations"]


def test_coordinates_out_of_range_and_mixed_modes():
    data = {
        "vehicles": [{"id": "v1", "start": [13.4, 52.5], "start_index": 0}],
        "stops": [{"id": "a", "location": [200.0, 95.0]}, {"id": "b", "location_index": 1}],
    }
    found = errors(data)
    assert "longitude 200 is outside [-180, 180]" in found["/stops/0/location"]
    assert "latitude 95 is outside [-90, 90]" in found["/stops/0/location"]
    assert "not both" in found["/vehicles/0"]
    assert "needs a matrix" in found["/stops/1/location_index"]


def test_missing_location_and_no_vehicles():
    data = base(vehicles=[])
    data["stops"].append({"id": "c", "location_index": 2})  # 3 places: the 3x3 matrix fits
    data["stops"][0].pop("location_index")
    found = errors(data)
    assert found["/vehicles"] == "at least one vehicle is required"
    assert "a location is required" in found["/stops/0"]


def test_routes_naming_unknown_vehicles_and_steps():
    data = base(
        shipments=[{"id": "s1", "pickup": {"location_index": 1}, "delivery": {"location_index": 2}}],
        locked=[{"vehicle_id": "v9", "steps": ["zz", "s1:delivery", "s1:pickup"]}],
        initial_routes=[{"vehicle_id": "v1", "steps": ["a", "a"]}],
    )
    found = errors(data)
    assert "unknown vehicle 'v9'" in found["/locked/0/vehicle_id"]
    assert "unknown step 'zz'" in found["/locked/0/steps/0"]
    assert "locked before its pickup" in found["/locked/0/steps/1"]
    assert "appears twice" in found["/initial_routes/0/steps/1"]


def test_size_limits_are_configurable():
    data = base()
    data["vehicles"].append({"id": "v2", "start_index": 0, "capacity": [10]})
    found = errors(data, Limits(max_stops=1, max_vehicles=1))
    assert "2 vehicles exceed the limit of 1" in found["/vehicles"]
    assert "exceed the limit of 1" in found["/stops"]
    parse_problem(data)  # within the defaults


def test_wrong_types_and_missing_required_fields():
    found = errors({"vehicles": [{"start_index": "zero"}], "stops": "none", "objective": "speed"})
    assert found["/vehicles/0/id"] == "required field is missing"
    assert "/vehicles/0/start_index" in found
    assert "/stops" in found
    assert "/objective" in found


def test_not_an_object():
    found = errors([1, 2])
    assert "" in found
