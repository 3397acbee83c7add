"""Problems at the contract's bounds solve with every engine that takes them, and check clean.

Small problems with every number at its maximum together (and a millisecond part, so each
engine counts in thousandths); ``bench/bounds.py`` runs larger ones, up to the default limits.
"""

import pytest

from optimizer import check, parse_problem, solve
from optimizer import model as m
from optimizer.engines import engine

MS = 0.001
SECONDS = 0.3
LATE = m.MAX_TIME - MS


def _problem(stops: int, vehicle: dict, stop: dict, **extra) -> dict:
    """Vehicles from place 0 to place 1, a stop at each other place, every arc at its longest."""
    n = stops + 2
    arcs = {"distances": [[0 if i == j else m.MAX_DISTANCE - MS for j in range(n)] for i in range(n)],
            "durations": [[0 if i == j else m.MAX_DURATION - MS for j in range(n)] for i in range(n)]}
    return {"vehicles": [{"id": f"v{k}", "start_index": 0, "end_index": 1, **vehicle} for k in range(2)],
            "stops": [{"id": f"s{i}", "location_index": 2 + i, **stop} for i in range(stops)],
            "matrix": arcs, **extra}


def at_the_end_of_time() -> dict:
    windows = [[LATE - (k + 1) * 1e7, LATE - k * 1e7] for k in range(m.MAX_WINDOWS)][::-1]
    breaks = [{"id": f"b{k}", "duration": m.MAX_DURATION / 1000, "time_windows": windows[-10:]} for k in range(3)]
    return _problem(6, {"time_window": [0, m.MAX_TIME], "breaks": breaks},
                    {"service": m.MAX_DURATION - MS, "time_windows": windows})


def one_window_each() -> dict:
    return _problem(6, {"time_window": [0, m.MAX_TIME], "max_distance": m.MAX_ROUTE_DISTANCE,
                        "max_duration": m.MAX_TIME},
                    {"service": m.MAX_DURATION - MS, "time_windows": [[LATE - 1e9, LATE]]}, objective="duration")


def the_highest_costs() -> dict:
    data = _problem(8, {"fixed_cost": m.MAX_FIXED_COST, "cost_per_km": m.MAX_RATE, "cost_per_hour": m.MAX_RATE,
                        "time_window": [0, m.MAX_TIME]},
                    {"service": m.MAX_DURATION - MS, "drop_penalty": m.MAX_PENALTY},
                    objective="cost", min_vehicles=True, reassign_penalty=m.MAX_PENALTY)
    data["initial_routes"] = [{"vehicle_id": "v1", "steps": ["s0", "s1"]}]
    return data


def full_loads() -> dict:
    dims = m.MAX_DIMENSIONS
    data = _problem(4, {"capacity": [m.MAX_AMOUNT] * dims, "skills": [f"k{i}" for i in range(m.MAX_SKILLS)],
                        "max_stops": m.MAX_COUNT},
                    {"demand": [m.MAX_AMOUNT // 2] * dims, "skills": ["k0", f"k{m.MAX_SKILLS - 1}"]},
                    options={"seed": m.MAX_SEED})
    return data


CASES = [at_the_end_of_time, one_window_each, the_highest_costs, full_loads]


@pytest.mark.parametrize("build", CASES, ids=lambda f: f.__name__)
@pytest.mark.parametrize("name", ["auto", "ortools", "pyvrp", "vroom"])
def test_problems_at_the_bounds_solve_and_check_clean(build, name):
    problem = parse_problem(build())
    if name == "auto":
        solution = solve(problem, time_limit=SECONDS, seed=1)
    else:
        chosen = engine(name)
        if chosen.unsupported(problem):
            return  # auto takes another engine
        solution = chosen.solve(problem, time_limit=SECONDS, seed=1)
        if solution.status == "no_solution":
            assert name == "pyvrp", solution.solver.message  # PyVRP hands back what it cannot serve
            return
    assert check(problem, solution) == []
    assert solution.summary.unassigned == 0  # every stop can be served: none is dropped


def test_each_engine_takes_one_of_these_problems():
    takes = {name: [b.__name__ for b in CASES if not engine(name).unsupported(parse_problem(b()))]
             for name in ("ortools", "pyvrp", "vroom")}
    assert all(takes.values()), takes
