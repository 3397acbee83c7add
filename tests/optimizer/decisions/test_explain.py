"""Why unassigned work fits nowhere: each fix, applied to the problem, lets the checker accept
the task where the fix says, and no smaller relaxation of its kind fits it anywhere."""

from __future__ import annotations

import pytest
from random_plans import solved

from optimizer import check, parse_problem
from optimizer.decisions import Plan, Quoter, explain
from optimizer.engines import engine, objective_value
from optimizer.travel import Travel

SIZED = ("time_window", "shift_end", "max_duration", "max_distance", "max_stops")


def relaxed(problem, unassigned, fix, size: float | None = None, added=None):
    """``problem`` with ``fix`` made (its size replaced by ``size``, its additions by ``added``)."""
    size = fix.by if size is None else size
    data = problem.model_dump(mode="json", exclude_none=True)
    if fix.kind == "time_window":
        key = "stops" if unassigned.type == "stop" else "shipments"
        [item] = [x for x in data[key] if x["id"] == unassigned.id]
        for task in [item] if key == "stops" else [item["pickup"], item["delivery"]]:
            task["time_windows"] = [[max(0.0, lo - size), hi + size] for lo, hi in task.get("time_windows", [])]
        return parse_problem(data)
    [vehicle] = [v for v in data["vehicles"] if v["id"] == fix.vehicle_id]
    if fix.kind == "shift_end":
        vehicle["time_window"][1] += size
    elif fix.kind == "capacity":
        vehicle["capacity"] = [c + a for c, a in zip(vehicle["capacity"], added or fix.capacity, strict=True)]
    elif fix.kind == "skills":
        vehicle["skills"] = [*vehicle.get("skills", []), *(fix.skills if added is None else added)]
    else:
        vehicle[fix.kind] += size
    return parse_problem(data)


def placed(problem, solution, unassigned, vehicle_id: str, after: str, delivery_after=None):
    """The plan with the unassigned task served where given, checked: the checker's findings."""
    travel = Travel.of(problem)
    quoter = Quoter(Plan(problem, travel, solution))
    items = problem.stops if unassigned.type == "stop" else problem.shipments
    item = next(x for x in items if x.id == unassigned.id)
    [task] = quoter.new_tasks([item], []) if unassigned.type == "stop" else quoter.new_tasks([], [item])
    try:
        slot, run = quoter.chosen(task, vehicle_id, after, delivery_after)
    except Exception as exc:  # noqa: BLE001 - the place refused: it does not fit there
        return [str(exc)]
    return check(problem, quoter.plan.with_route(slot.v, run.route, problem))


@pytest.mark.parametrize("seed", range(0, 40, 3))
def test_every_fix_lets_the_checker_accept_the_task_where_it_says(seed):
    problem, solution = solved(seed)
    explained = explain(problem, Travel.of(problem), solution, budget_s=60)
    assert [u.id for u in explained.unassigned] == [u.id for u in solution.unassigned]
    for entry in explained.unassigned:
        assert entry.fixes is not None
        for fix in entry.fixes:
            changed = problem if fix.kind in ("fits", "drop_penalty") else relaxed(problem, entry, fix)
            assert placed(changed, solution, entry, fix.vehicle_id, fix.after, fix.delivery_after) == []


# one unassigned stop each, for one reason; the vehicle starts and ends at place 0
LINE = [[abs(a - b) * 100.0 for b in range(5)] for a in range(5)]
CASES = {
    "capacity": ({"capacity": [10]}, [{"demand": [4]}, {"demand": [4]}, {"demand": [5]}]),
    "time_window": ({}, [{"service": 600}, {"time_windows": [[0, 100]]}, {}]),
    "shift_end": ({"time_window": [0, 1400]}, [{"service": 300}, {"service": 300}, {"service": 300}]),
    "max_duration": ({"max_duration": 1400}, [{"service": 300}, {"service": 300}, {"service": 300}]),
    "max_distance": ({"max_distance": 500}, [{}, {}, {}]),
    "max_stops": ({"max_stops": 2}, [{}, {}, {}]),
    "skills": ({"skills": ["cold"]}, [{}, {}, {"skills": ["cold", "frozen"]}]),
}


def one_unassigned(kind: str):
    vehicle, stops = CASES[kind]
    data = {"vehicles": [{"id": "v", "start_index": 0, "end_index": 0, **vehicle}],
            "stops": [{"id": f"c{i}", "location_index": i + 1, **stop} for i, stop in enumerate(stops)],
            "matrix": {"distances": LINE, "durations": LINE}, "options": {"time_limit": 0.3}}
    problem = parse_problem(data)
    solution = engine("ortools").solve(problem, time_limit=0.3, seed=1)
    assert check(problem, solution) == [] and len(solution.unassigned) == 1
    return problem, solution


def fits_anywhere(problem, solution, entry) -> bool:
    route = next((r for r in solution.routes if r.vehicle_id == "v"), None)
    labels = ["start", *(s.id for s in route.steps if s.type == "stop")] if route else ["start"]
    return any(placed(problem, solution, entry, "v", after) == [] for after in labels)


@pytest.mark.parametrize("kind", list(CASES))
def test_no_fix_is_larger_than_what_fitting_the_task_anywhere_needs(kind):
    problem, solution = one_unassigned(kind)
    [entry] = explain(problem, Travel.of(problem), solution).unassigned
    [fix] = [f for f in entry.fixes if f.kind == kind]
    assert fits_anywhere(relaxed(problem, entry, fix), solution, entry)
    if kind in SIZED:  # a little less fits nowhere
        less = fix.by - max(1.0 if kind == "max_stops" else 0.01, 0.0)
        assert not fits_anywhere(relaxed(problem, entry, fix, size=less), solution, entry)
    elif kind == "capacity":
        assert fix.capacity == [3]
        assert not fits_anywhere(relaxed(problem, entry, fix, added=[2]), solution, entry)
    else:
        assert fix.skills == ["frozen"]
        assert fix.message == "give v the skills ['frozen']: it fits after " + fix.after


def test_an_optional_task_that_fits_is_told_the_penalty_that_would_have_it_served():
    data = {"vehicles": [{"id": "v", "start_index": 0, "end_index": 0}],
            "stops": [{"id": "near", "location_index": 1}, {"id": "far", "location_index": 4, "drop_penalty": 5}],
            "matrix": {"distances": LINE}, "options": {"time_limit": 0.3}}
    problem = parse_problem(data)
    solution = engine("ortools").solve(problem, time_limit=0.3, seed=1)
    [entry] = explain(problem, Travel.of(problem), solution).unassigned
    assert entry.id == "far" and entry.reason == "dropped"
    [fix] = entry.fixes
    assert fix.kind == "drop_penalty" and fix.by == 600  # 0 -> 1 -> 4 -> 0 instead of 0 -> 1 -> 0
    assert placed(problem, solution, entry, fix.vehicle_id, fix.after) == []
    served = engine("ortools").solve(problem.model_copy(update={"stops": [problem.stops[0], problem.stops[1].model_copy(
        update={"drop_penalty": 601})]}), time_limit=0.3, seed=1)
    assert served.unassigned == [] and objective_value(problem, served) == 800


def test_explanations_are_bounded_in_tasks_and_time():
    problem, solution = solved(3)
    assert len(solution.unassigned) >= 2
    first = explain(problem, Travel.of(problem), solution, max_tasks=1).unassigned
    assert first[0].fixes is not None and all(u.fixes is None for u in first[1:])
    none = explain(problem, Travel.of(problem), solution, budget_s=0).unassigned
    assert all(u.fixes is None for u in none)
