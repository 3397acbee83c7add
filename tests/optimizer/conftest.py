"""Helpers for solver tests: every solve is audited by the independent checker."""

import pytest

from optimizer import check, parse_problem
from optimizer.engines import engine


@pytest.fixture
def solved():
    def run(data: dict, *, time_limit: float = 1.0, **kwargs):
        problem = parse_problem(data)
        solution = engine("ortools").solve(problem, time_limit=time_limit, seed=1, **kwargs)
        violations = check(problem, solution)
        assert violations == [], "\n".join(map(str, violations))
        return solution

    return run
