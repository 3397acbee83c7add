"""Properties of the engines over random small problems (real OR-Tools, PyVRP and VROOM).

Whatever mix of features a problem draws: an engine that accepts it (``unsupported`` empty)
returns a solution the checker finds no fault with, whose reported objective is what the
checker's recomputation gives, and whose internal objective is that same value in the
engine's exact integer units; an engine never accepts a problem using a feature its column
of the feature table marks "no".
"""

from __future__ import annotations

import pytest
from engine_problems import problems
from hypothesis import HealthCheck, Phase, given, note, settings
from hypothesis import strategies as st

from optimizer import check, parse_problem
from optimizer.engines import engine, objective_value
from optimizer.engines.units import arcs, units
from optimizer.features import ENGINES, present, unsupported_by
from optimizer.layout import lay_out
from optimizer.timeline import Visit, slack, walk
from optimizer.travel import Travel

SECONDS = 0.25
PROPERTY = settings(max_examples=30, derandomize=True, phases=[Phase.explicit, Phase.reuse, Phase.generate], database=None, deadline=None,
                    suppress_health_check=list(HealthCheck))
ENGINE = {name: engine(name) for name in ENGINES}


def recomputed(problem, solution) -> float:
    """The objective of the checker's own walk of every route, plus unserved penalties."""
    travel = Travel.of(problem)
    index = {v.id: i for i, v in enumerate(problem.vehicles)}
    total = 0.0
    for route in solution.routes:
        v = index[route.vehicle_id]
        vehicle = problem.vehicles[v]
        found = walk(problem, travel, v, [_visit(problem, vehicle, step) for step in route.steps])
        duration = found.end - found.start
        total += {"distance": found.distance, "duration": duration,
                  "cost": vehicle.fixed_cost + vehicle.cost_per_km * found.distance / 1000
                  + vehicle.cost_per_hour * duration / 3600}[problem.objective]
    return total + objective_value(problem, solution) - getattr(solution.summary, problem.objective)


def _visit(problem, vehicle, step) -> Visit:
    reported = step.model_dump(mode="json", exclude_none=True)
    if step.type in ("start", "end"):
        return Visit(step.type, None, step.type, reported)
    if step.type == "stop":
        return Visit("stop", [s.id for s in problem.stops].index(step.id), step.id, reported)
    if step.type == "break":
        return Visit("break", [b.id for b in vehicle.breaks].index(step.id), f"break:{step.id}", reported)
    return Visit(step.type, [s.id for s in problem.shipments].index(step.id), f"{step.id}:{step.type}", reported)


def internal(name: str, problem, solution) -> float | None:
    """The engine's internal objective in our units (fee of ``min_vehicles`` taken out)."""
    if name == "ortools" or solution.solver.objective is None:
        return None
    layout = lay_out(problem)
    u = units(layout)
    value = solution.solver.objective
    if problem.min_vehicles:
        value -= u.bound(arcs(layout)) * solution.summary.vehicles_used
    return value / u.scale


def solve_and_audit(name: str, problem) -> None:
    solution = ENGINE[name].solve(problem, time_limit=SECONDS, seed=1)
    assert solution.solver.engine.startswith({"ortools": "or-tools"}.get(name, name))
    if solution.status == "no_solution":
        # PyVRP hands infeasible problems back; OR-Tools cannot serve some locked steps
        assert name == "pyvrp" or (name == "ortools" and problem.locked), f"{name}: no solution"
        return
    violations = check(problem, solution)
    assert violations == [], f"{name}: " + "\n".join(map(str, violations))
    reported = objective_value(problem, solution)
    again = recomputed(problem, solution)
    assert abs(reported - again) <= slack(again) * 10, (name, reported, again)
    exact = internal(name, problem, solution)
    if exact is not None:
        assert abs(exact - again) <= slack(again) * 10, (name, exact, again)


@PROPERTY
@given(problems())
def test_any_mix_of_features(data):
    """Every engine refuses the features it lacks, and solves exactly what it accepts."""
    note(repr(data))
    problem = parse_problem(data)  # a shared matrix: places by index
    for name, chosen in ENGINE.items():
        lacking = present(problem) & unsupported_by(name)
        refused = chosen.unsupported(problem)
        assert bool(lacking) <= bool(refused), f"{name} accepts a problem using {lacking}"
        if not refused:
            solve_and_audit(name, problem)


@pytest.mark.parametrize("name", ["pyvrp", "vroom"])
@PROPERTY
@given(data=st.data())
def test_the_features_an_engine_has(name, data):
    """Problems drawn from the engine's own features: accepted, solved exactly."""
    drawn = data.draw(problems(without=unsupported_by(name)))
    note(repr(drawn))
    problem = parse_problem(drawn)
    assert ENGINE[name].unsupported(problem) == []
    solve_and_audit(name, problem)
