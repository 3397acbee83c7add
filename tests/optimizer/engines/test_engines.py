"""The engine interface on hand-made problems: the feature table holds, a faulty solution is
rejected with the engine and the problem's hash, ``optimizer.solve`` plans, runs the plan and
falls back."""

from __future__ import annotations

import time

import pytest

import optimizer.engines
from optimizer import Incumbent, check, parse_problem, solve
from optimizer.engines import engine, plan, problem_hash, rejections, run_checked
from optimizer.engines.plan import STRATEGIES, Step
from optimizer.engines.portfolio import run
from optimizer.engines.vroom_engine import VroomEngine
from optimizer.features import ENGINES, TABLE, markdown, present, unsupported_by

LINE = [[abs(a - b) * 10.0 for b in range(6)] for a in range(6)]


def base(**extra) -> dict:
    problem = {"matrix": {"distances": LINE, "durations": LINE},
               "vehicles": [{"id": "v0", "start_index": 0, "end_index": 0, "capacity": [10]},
                            {"id": "v1", "start_index": 0, "end_index": 0, "capacity": [10]}],
               "stops": [{"id": f"c{i}", "location_index": i, "demand": [3], "service": 5}
                         for i in range(1, 6)]}
    problem.update(extra)
    return problem


def with_stop(**fields) -> dict:
    problem = base()
    problem["stops"][0].update(fields)
    return problem


def with_vehicle(**fields) -> dict:
    problem = base()
    problem["vehicles"][0].update(fields)
    return problem


USES = {
    "objective_duration": base(objective="duration"),
    "cost_per_hour": base(objective="cost", vehicles=[{"id": "v0", "start_index": 0, "capacity": [20], "cost_per_hour": 5}]),
    "multiple_time_windows": with_stop(time_windows=[[0, 10], [50, 60]]),
    "no_start_no_end": base(vehicles=[{"id": "v0", "capacity": [20]}]),
    "max_duration": with_vehicle(max_duration=500),
    "max_stops_with_shipments": base(
        vehicles=[{"id": "v0", "start_index": 0, "capacity": [20], "max_stops": 4}],
        shipments=[{"id": "s0", "pickup": {"location_index": 1}, "delivery": {"location_index": 2}}]),
    "breaks": with_vehicle(breaks=[{"id": "b", "time_windows": [[0, 100]], "duration": 10}]),
    "drop_penalty": with_stop(drop_penalty=100),
    "initial_routes": base(initial_routes=[{"vehicle_id": "v0", "steps": ["c1", "c2"]}]),
    "locked": base(locked=[{"vehicle_id": "v0", "steps": ["c1"]}]),
    "reassign_penalty": base(reassign_penalty=5, initial_routes=[{"vehicle_id": "v0", "steps": ["c1"]}]),
}


@pytest.mark.parametrize("feature", sorted(USES))
def test_a_feature_marked_no_is_refused(feature):
    problem = parse_problem(USES[feature])
    assert feature in present(problem)
    for name in ENGINES:
        refused = engine(name).unsupported(problem)
        assert bool(refused) == (feature in unsupported_by(name)), (name, refused)


def test_the_table_names_every_engine_and_each_unsupported_feature_has_an_example():
    assert all(len(row) == 4 for row in TABLE.values())
    statics = {f for name in ENGINES for f in unsupported_by(name)} - {"infeasible", "incumbents"}
    assert statics <= USES.keys()
    assert markdown().count("\n") == len(TABLE) + 1
    assert markdown() in optimizer.engines.__doc__  # the written table is the table


class _Careless(VroomEngine):
    """A real engine whose answer loses its first stop: what the checker exists for."""

    def solve(self, problem, **kwargs):
        solution = super().solve(problem, **kwargs)
        route = solution.routes[0]
        steps = [s for s in route.steps if s.id != route.steps[1].id]
        return solution.model_copy(update={"routes": [route.model_copy(update={"steps": steps}),
                                                      *solution.routes[1:]]})


def test_a_faulty_solution_is_rejected_with_engine_and_problem_hash():
    problem = parse_problem(base())
    checked = run_checked(_Careless(), problem, time_limit=0.3)
    assert checked.solution is None
    assert checked.rejection.engine == "vroom"
    assert checked.rejection.problem == problem_hash(problem) and len(problem_hash(problem)) == 12
    assert "missing" in {v.kind for v in checked.rejection.violations}
    assert str(checked.rejection).startswith(f"vroom on problem {problem_hash(problem)}: ")


def test_a_refused_problem_is_rejected_before_solving():
    problem = parse_problem(USES["locked"])
    checked = run_checked(engine("pyvrp"), problem, time_limit=0.3)
    assert checked.solution is None and "locked" in checked.rejection.reason


def test_plan_is_pure_and_fills_the_time_limit():
    problem = parse_problem(base())
    steps = plan(problem, 10.0)
    assert steps == plan(problem, 10.0)
    assert sum(s.seconds for s in steps) == pytest.approx(10.0)
    assert [s.engine for s in steps] == ["pyvrp"]
    # without PyVRP: VROOM when there are no time windows, OR-Tools when there are
    assert [s.engine for s in plan(parse_problem(USES["breaks"]), 10.0)] == ["vroom"]
    assert [s.engine for s in plan(parse_problem(USES["multiple_time_windows"]), 10.0)] == ["ortools"]
    assert [s.engine for s in plan(parse_problem(USES["locked"]), 10.0)] == ["ortools"]
    for name, strategy in STRATEGIES.items():
        assert sum(s.seconds for s in strategy(5.0)) == pytest.approx(5.0), name


def test_solve_streams_checked_incumbents_and_keeps_the_best():
    problem = parse_problem(base(initial_routes=[{"vehicle_id": "v1", "steps": ["c5", "c4"]}]))
    seen = []
    solution = solve(problem, time_limit=1.0, seed=1, on_incumbent=seen.append)
    assert check(problem, solution) == []
    assert solution.solver.engine.startswith("auto (")
    assert seen and all(check(problem, s.solution()) == [] for s in seen)
    assert solution.changes is not None  # against the problem's own initial routes


def test_a_plan_falls_back_to_ortools_when_every_step_is_rejected():
    problem = parse_problem(with_stop(drop_penalty=100))  # VROOM refuses drop penalties
    solution = run(problem, (Step("vroom", 0.5),), time_limit=0.5, seed=0)
    assert check(problem, solution) == []
    assert "or-tools" in solution.solver.engine
    rejected = rejections(problem, solution)
    assert [r.engine for r in rejected] == ["vroom"]
    assert str(rejected[0]) == f"vroom on problem {problem_hash(problem)}: unsupported: drop_penalty"


def test_pyvrp_streams_improving_incumbents_and_keeps_warm_started_vehicles():
    problem = parse_problem(base(
        stops=[{"id": f"c{i}", "location_index": i, "demand": [3]} for i in range(1, 6)],
        initial_routes=[{"vehicle_id": "v1", "steps": ["c1", "c2"]},
                        {"vehicle_id": "v0", "steps": ["c3", "c4", "c5"]}]))
    seen = []
    solution = engine("pyvrp").solve(problem, time_limit=0.3, seed=1, on_incumbent=seen.append)
    assert check(problem, solution) == []
    objectives = [s.objective for s in seen]
    assert objectives and objectives == sorted(objectives, reverse=True)
    assert all(check(problem, s.solution()) == [] for s in seen)
    # the initial split is the only optimum (three stops a vehicle): it stays with its vehicles
    assert solution.summary.distance == 140.0
    assert solution.changes.reassigned == []


def test_pyvrp_gives_up_early_on_mandatory_work_it_cannot_serve_and_auto_falls_back():
    problem = parse_problem(with_stop(time_windows=[[0, 1]]))  # c1 cannot be reached in time
    started = time.monotonic()
    checked = run_checked(engine("pyvrp"), problem, time_limit=2.0)
    assert checked.solution is None and "no solution" in checked.rejection.reason
    assert time.monotonic() - started < 1.2  # gave up at 30 % of the time limit
    solution = solve(problem, time_limit=2.0)
    assert check(problem, solution) == [] and solution.status == "infeasible"
    assert [u.id for u in solution.unassigned] == ["c1"]


@pytest.mark.parametrize("engine", ["auto", "ortools", "pyvrp"])
def test_a_problem_with_no_place_at_all_is_an_empty_plan(engine):
    """Found by the fuzzer through the API: a vehicle without start or end and nothing to
    visit has no place for a matrix; every engine that takes it answers an empty, feasible
    plan (VROOM refuses vehicles without start and end at validation)."""
    problem = parse_problem({"vehicles": [{"id": "0"}], "options": {"engine": engine}})
    solution = solve(problem, time_limit=0.5, seed=0)
    assert solution.status == "feasible" and solution.routes == [] and check(problem, solution) == []


def test_a_stop_asked_before_the_search_gives_no_solution_from_every_engine():
    problem = parse_problem(base())
    for name in ENGINES:
        solution = engine(name).solve(problem, time_limit=5, seed=1, stop=lambda: True)
        assert (solution.status, solution.solver.stopped_by) == ("no_solution", "stop_request"), name
    solution = solve(problem, time_limit=5, seed=1, stop=lambda: True)
    assert (solution.status, solution.solver.stopped_by) == ("no_solution", "stop_request")
    # the plan's one step, then the fallback, which stops at once too
    assert [r.engine for r in solution.solver.runs] == ["pyvrp", "ortools"]


def test_a_stop_between_steps_skips_the_steps_left():
    problem = parse_problem(base())
    answers = iter([False])  # VROOM asks once, before it starts; the plan asks before the next step
    solution = run(problem, (Step("vroom", 0.3), Step("pyvrp", 0.3)), time_limit=0.6, seed=1,
                   stop=lambda: next(answers, True))
    assert check(problem, solution) == []
    assert [r.engine.split()[0] for r in solution.solver.runs] == ["vroom"]


def test_pyvrp_ends_at_a_stop_with_its_best_solution():
    problem = parse_problem(base())
    seen = []
    solution = engine("pyvrp").solve(problem, time_limit=30, seed=1, on_incumbent=seen.append,
                                      stop=lambda: bool(seen))
    assert seen and solution.solver.stopped_by == "stop_request"
    assert check(problem, solution) == [] and solution.solver.objective == seen[-1].objective


def test_an_incumbent_decodes_its_solution_once():
    problem = parse_problem(base())
    solution = engine("vroom").solve(problem, time_limit=0.3, seed=1)
    calls = []

    def decode():
        calls.append(1)
        return solution

    found = Incumbent(7, 0.25, decode, "vroom")
    assert (found.objective, found.elapsed, found.engine, calls) == (7, 0.25, "vroom", [])
    assert found.solution() is solution and found.solution() is solution and calls == [1]
