"""Helpers for solver tests."""


def line_matrix(positions: list[float]) -> list[list[float]]:
    """Distances between points on a line (a matrix whose optimum is easy to see)."""
    return [[abs(a - b) for b in positions] for a in positions]


def route_steps(solution, vehicle_id: str) -> list[str]:
    for route in solution.routes:
        if route.vehicle_id == vehicle_id:
            return [s.id if s.type in ("stop", "break") else f"{s.id}:{s.type}"
                    for s in route.steps if s.type not in ("start", "end")]
    return []


def reasons(solution) -> dict[str, str]:
    return {u.id: u.reason for u in solution.unassigned}
