"""Helpers for solver tests: every solve is audited by the independent checker."""

import pytest

from optimizer import check, parse_problem, solve


def line_matrix(positions: list[float]) -> list[list[float]]:
    """Distances between points on a line (a matrix whose optimum is easy to see)."""
    return [[abs(a - b) for b in positions] for a in positions]


@pytest.fixture
def solved():
    def run(data: dict, *, time_limit: float = 1.0, **kwargs):
        problem = parse_problem(data)
        solution = solve(problem, time_limit=time_limit, seed=1, **kwargs)
        violations = check(problem, solution)
        assert violations == [], "\n".join(map(str, violations))
        return solution

    return run


def route_steps(solution, vehicle_id: str) -> list[str]:
    for route in solution.routes:
        if route.vehicle_id == vehicle_id:
            return [s.id if s.type in ("stop", "break") else f"{s.id}:{s.type}"
                    for s in route.steps if s.type not in ("start", "end")]
    return []


def reasons(solution) -> dict[str, str]:
    return {u.id: u.reason for u in solution.unassigned}
