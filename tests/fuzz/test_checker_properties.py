"""Properties of the checker (``optimizer.check``) over random small problems.

A solution the OR-Tools engine produced has no violation; the same solution damaged in a
known way is reported, with the kind of violation the damage causes: a stop dropped from
its route (``missing``), two stops swapped across their time windows (``time_window``), a
load changed (``reported``), a stop served twice (``served_twice``), a route given to an
unknown vehicle (``unknown``). And whatever JSON a solution is made of, the checker answers
with violations, never an exception.
"""

from __future__ import annotations

import copy
import math

from fuzz_support import fuzz_settings
from hypothesis import assume, given
from hypothesis import strategies as st

from optimizer import Problem, check, parse_problem
from optimizer.engines import engine

WINDOW = 1000  # stop i may start in [i * WINDOW, i * WINDOW + WINDOW / 2]: far apart, each reachable
SOLVE_SECONDS = 0.1
PROPERTY = fuzz_settings(25)


@st.composite
def problems(draw, windows: bool | None = None, vehicles: int | None = None) -> dict:
    """A small valid matrix problem: places on a grid, vehicles with one capacity dimension,
    stops (some optional, some with disjoint time windows) and shipments."""
    places = draw(st.lists(st.tuples(st.integers(0, 100), st.integers(0, 100)), min_size=3, max_size=8))
    matrix = [[round(math.dist(a, b), 1) for b in places] for a in places]
    fleet = vehicles or draw(st.integers(1, 3))
    windows = draw(st.booleans()) if windows is None else windows
    problem: dict = {
        "matrix": {"distances": matrix, "durations": matrix},
        "vehicles": [{"id": f"v{v}", "start_index": 0, "capacity": [draw(st.integers(4, 20))],
                      **({"end_index": 0} if draw(st.booleans()) else {})} for v in range(fleet)],
        "stops": [],
        "shipments": [],
        "objective": draw(st.sampled_from(["distance", "duration"])),
    }
    for i in range(draw(st.integers(2, 6))):
        stop = {"id": f"c{i}", "location_index": draw(st.integers(1, len(places) - 1)),
                "demand": [draw(st.integers(0, 4))], "service": draw(st.integers(0, 10))}
        if windows:
            stop["time_windows"] = [[i * WINDOW, i * WINDOW + WINDOW // 2]]
        if draw(st.integers(0, 4)) == 0:
            stop["drop_penalty"] = draw(st.integers(0, 1000))
        problem["stops"].append(stop)
    for i in range(draw(st.integers(0, 2))):
        pickup, delivery = (draw(st.integers(1, len(places) - 1)) for _ in range(2))
        problem["shipments"].append({"id": f"s{i}", "amount": [draw(st.integers(0, 3))],
                                     "pickup": {"location_index": pickup},
                                     "delivery": {"location_index": delivery}})
    return problem


def solved(data: dict) -> tuple[Problem, dict]:
    problem = parse_problem(data)  # a shared matrix: places by index
    return problem, engine("ortools").solve(problem, time_limit=SOLVE_SECONDS, seed=1).to_json_dict()


def kinds(problem: Problem, solution: dict) -> set[str]:
    return {v.kind for v in check(problem, solution)}


def task_positions(solution: dict, types=("stop",)) -> list[tuple[int, int]]:
    """(route, step) of every step of these types."""
    return [(r, k) for r, route in enumerate(solution["routes"])
            for k, step in enumerate(route["steps"]) if step["type"] in types]


def some_step(pick, solution: dict, types=("stop",)) -> tuple[int, int]:
    """(route, step) of a step of these types, drawn (no such step: the example is skipped)."""
    places = task_positions(solution, types)
    assume(places)
    return pick.draw(st.sampled_from(places))


@PROPERTY
@given(problems())
def test_a_solution_of_the_solver_has_no_violation(data):
    problem, solution = solved(data)
    assert check(problem, solution) == []


@PROPERTY
@given(problems(), st.data())
def test_a_dropped_stop_is_missing(data, pick):
    problem, solution = solved(data)
    r, k = some_step(pick, solution)
    del solution["routes"][r]["steps"][k]
    assert "missing" in kinds(problem, solution)


@PROPERTY
@given(problems(windows=True, vehicles=1), st.data())
def test_two_stops_swapped_across_their_time_windows_are_late(data, pick):
    problem, solution = solved(data)
    served = task_positions(solution)
    assume(len(served) >= 2)
    (r, first), (_, second) = sorted(pick.draw(st.lists(st.sampled_from(served), min_size=2, max_size=2,
                                                        unique=True)))
    steps = solution["routes"][r]["steps"]
    steps[first], steps[second] = steps[second], steps[first]
    assert "time_window" in kinds(problem, solution)


@PROPERTY
@given(problems(), st.data())
def test_a_changed_load_is_reported(data, pick):
    problem, solution = solved(data)
    r, k = some_step(pick, solution, ("start", "stop", "pickup", "delivery", "end"))
    load = solution["routes"][r]["steps"][k]["load"]
    load[0] += pick.draw(st.sampled_from([-1, 1, 7]))
    assert "reported" in kinds(problem, solution)


@PROPERTY
@given(problems(), st.data())
def test_a_stop_served_twice_and_an_unknown_vehicle_are_reported(data, pick):
    problem, solution = solved(data)
    r, k = some_step(pick, solution)
    twice = copy.deepcopy(solution)
    steps = twice["routes"][r]["steps"]
    steps.insert(len(steps) - 1 if steps[-1]["type"] == "end" else len(steps), copy.deepcopy(steps[k]))
    assert "served_twice" in kinds(problem, twice)
    solution["routes"][r]["vehicle_id"] = "nobody"
    assert "unknown" in kinds(problem, solution)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=6)
    | st.sampled_from(["stop", "pickup", "delivery", "start", "end", "break", "c0", "s0", "v0"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["routes", "steps", "type", "id", "load", "arrival", "distance", "vehicle_id",
                         "unassigned", "summary", "status"]) | st.text(max_size=4), inner, max_size=5),
    max_leaves=20,
)


@st.composite
def damaged(draw, solution: dict) -> dict:
    """``solution`` with a few of its values replaced by arbitrary JSON."""
    doc = copy.deepcopy(solution)
    for _ in range(draw(st.integers(1, 4))):
        node, path = doc, []
        while isinstance(node, dict | list) and node and draw(st.integers(0, 3)):
            key = draw(st.sampled_from(sorted(node) if isinstance(node, dict) else list(range(len(node)))))
            path.append((node, key))
            node = node[key]
        if path:
            parent, key = path[-1]
            parent[key] = draw(json_values)
    return doc


@PROPERTY
@given(problems(), st.data())
def test_any_solution_document_gets_violations_never_an_exception(data, pick):
    problem, solution = solved(data)
    doc = pick.draw(damaged(solution))
    violations = check(problem, doc)
    assert all(isinstance(v.message, str) for v in violations)
    assert isinstance(check(problem, pick.draw(json_values)), list)


def test_list_and_object_values_where_names_belong_are_violations():
    """Found by the property above: an unassigned entry whose type was a list crashed the checker."""
    from optimizer import parse_problem

    problem = parse_problem({"vehicles": [{"id": "v0", "start_index": 0, "end_index": 0, "capacity": [5]}],
                             "stops": [{"id": "s0", "location_index": 1, "demand": [1]}],
                             "matrix": {"distances": [[0, 1], [1, 0]]}})
    for doc in ({"unassigned": [{"type": [], "id": []}]},
                {"routes": [{"vehicle_id": "v0", "steps": [{"type": []}, {"type": {}}]}]},
                {"routes": [{"vehicle_id": "v0", "steps": [{"type": "break", "id": {}}]}]}):
        assert check(problem, doc), doc
