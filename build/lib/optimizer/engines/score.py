"""One yardstick for solutions of different engines: our objective, recomputed from our numbers.

Engines count their objectives in their own integers; ``score`` ranks solutions of one
problem by what the contract optimises: first no solution at all, then unserved mandatory
work, then (``min_vehicles``) vehicles used, then the objective with the drop penalties of
unserved optional work.
"""

from __future__ import annotations

from ..model import Problem
from ..solution import Solution


def objective_value(problem: Problem, solution: Solution) -> float:
    """The contract's objective of ``solution``: its routes' total plus unserved penalties."""
    routes = getattr(solution.summary, problem.objective)
    penalty = {("stop", s.id): s.drop_penalty for s in problem.stops}
    penalty.update({("shipment", s.id): s.drop_penalty for s in problem.shipments})
    return routes + sum(penalty[(u.type, u.id)] or 0.0 for u in solution.unassigned)


def score(problem: Problem, solution: Solution) -> tuple[int, int, int, float]:
    """Smaller is better."""
    if solution.status == "no_solution":
        return (1, 0, 0, 0.0)
    mandatory = {("stop", s.id) for s in problem.stops if s.drop_penalty is None}
    mandatory |= {("shipment", s.id) for s in problem.shipments if s.drop_penalty is None}
    unserved = sum((u.type, u.id) in mandatory for u in solution.unassigned)
    vehicles = solution.summary.vehicles_used if problem.min_vehicles else 0
    return (0, unserved, vehicles, objective_value(problem, solution))
