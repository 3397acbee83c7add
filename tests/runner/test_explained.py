"""After its search, the solver child explains the unassigned work, within the runner's bounds."""

from __future__ import annotations

from optimizer import check, parse_problem
from routefarm.runner import Runner
from routefarm.runner.memory import default_limit

LINE = [[abs(a - b) * 100.0 for b in range(4)] for a in range(4)]
PROBLEM = {  # c3 fits the vehicle only with 2 more units of capacity
    "vehicles": [{"id": "v", "start_index": 0, "end_index": 0, "capacity": [10]}],
    "stops": [{"id": "c1", "location_index": 1, "demand": [4]}, {"id": "c2", "location_index": 2, "demand": [4]},
              {"id": "c3", "location_index": 3, "demand": [4]}],
    "matrix": {"distances": LINE},
}


def test_the_solution_says_what_would_let_each_unassigned_task_in():
    result = Runner(default_limit(), method="fork").solve(PROBLEM, time_limit=0.5)
    solution = result.solution
    assert result.failure is None and check(parse_problem(PROBLEM), solution) == []
    [entry] = solution["unassigned"]
    assert entry["reason"] == "dropped"  # it fits the vehicle alone, not beside the rest
    [fix] = entry["fixes"]
    assert fix["kind"] == "capacity" and fix["vehicle_id"] == "v" and fix["capacity"] == [2]
    assert solution["summary"]["costs"]["total"] == solution["summary"]["distance"]


def test_no_explanation_past_the_runners_bounds():
    result = Runner(default_limit(), method="fork", explain=(0, 0.0)).solve(PROBLEM, time_limit=0.5)
    [entry] = result.solution["unassigned"]
    assert "fixes" not in entry
