"""Large problems, improved region by region.

OR-Tools' local search over thousands of stops spends seconds to tens of seconds on one
descent, so a plan of 2,000 stops or more barely improves after its first solution (and one
of 1,000 improves more slowly than its regions would: measured with ``bench/scale.py``). Here the plan is
improved in regions (``regions``): a few hundred stops of neighbouring routes, each solved
for a moment with iterated local search warm-started from its current routes; a region's
result is kept when the plan's objective decreases (the objective is a sum over vehicles
plus the penalties of unserved work, so the region's gain is the plan's gain). The full
OR-Tools model is never built: a region needs only the problem's travel matrices.

1. A start: the seed construction's routes (``seed``), or the warm start (``locked`` and
   ``initial_routes``), or nothing (every item unserved, regions build the routes).
2. A first pass covers every item once with short regions; the first incumbent is the plan
   after it (every route then has the solver's schedule).
3. Until the time limit: regions around random items, each ``REGION_S`` seconds.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

import numpy as np

from ...changes import plan_changes
from ...decisions.costs import priced
from ...layout import Layout
from ...reasons import reason
from ...solution import Route, Solution, SolverInfo, Summary, Unassigned
from . import seed as seeding
from .regions import Items, around, problem_of
from .routing import COST_UNITS

DECOMPOSE_ABOVE = 1_000  # task nodes from which a problem is solved in regions
REGION_NODES = 200  # task nodes per region
REGION_S = 2.0  # seconds per region after the first pass
FIRST_PASS_SHARE = 0.3  # of the time limit, at most, for the first pass
FIRST_PASS_MAX_S = 20.0  # seconds, at most, for the first pass (the first incumbent comes after it)
FIRST_REGION_S = (0.2, 1.5)  # bounds of a first-pass region's seconds
MISSING = 10**9  # objective weight of one unserved mandatory item (in objective units)
VEHICLE_FEE = 10**7  # objective weight of one used vehicle when min_vehicles is set
SEARCH = "iterated_local_search (in regions)"


def applicable(layout: Layout, stoppable: bool) -> bool:
    p = layout.problem
    return (layout.task_count >= DECOMPOSE_ABOVE and not stoppable
            and p.options.metaheuristic == "automatic" and p.options.first_solution == "automatic"
            and not (p.reassign_penalty and p.initial_routes))


class Plan:
    """The current plan: task nodes per vehicle, each route's solved ``Route``, unserved items."""

    def __init__(self, layout: Layout, routes: list[list[int]], started: float, engine: str):
        self.layout, self.started, self.engine = layout, started, engine
        self.items = Items(layout)
        self.routes = routes
        self.solved: list[Route | None] = [None] * len(routes)
        self.vehicle_of = np.full(self.items.count, -1, dtype=np.int64)
        for v, route in enumerate(routes):
            for node in route:
                self.vehicle_of[self.items.node_item[node]] = v
        self.improvements: list[tuple[float, int]] = []
        self._reasons: dict[int, str] = {}
        p = layout.problem
        self.scale = {"distance": layout.distance_scale, "duration": layout.time_scale}.get(
            p.objective, COST_UNITS * layout.time_scale)

    # -- the objective, in the units the progress timeline reports -------------------------

    def route_value(self, route: Route | None) -> float:
        if route is None:
            return 0.0
        p = self.layout.problem
        value = {"distance": route.distance, "duration": route.duration}.get(p.objective, route.cost)
        return value + (VEHICLE_FEE / self.scale if p.min_vehicles else 0.0)

    def item_value(self, item: int) -> float:
        if self.items.optional(item):
            return self.items.penalty(item)
        return MISSING / self.scale

    def part(self, vehicles: list[int], routes: dict[int, Route | None], unserved: list[int]) -> float:
        return sum(self.route_value(routes.get(v)) for v in vehicles) + sum(self.item_value(i) for i in unserved)

    def objective(self) -> int:
        unserved = np.flatnonzero(self.vehicle_of < 0).tolist()
        total = sum(self.route_value(r) for r in self.solved) + sum(self.item_value(i) for i in unserved)
        return int(round(total * self.scale))

    # -- changes ----------------------------------------------------------------------------

    def apply(self, vehicles: list[int], solution: Solution) -> None:
        by_id = {r.vehicle_id: r for r in solution.routes}
        p = self.layout.problem
        for v in vehicles:  # first every old route, then every new one: work may change vehicle
            for node in self.routes[v]:
                self.vehicle_of[self.items.node_item[node]] = -1
        for v in vehicles:
            route = by_id.get(p.vehicles[v].id)
            self.solved[v] = route
            self.routes[v] = [self.layout.step_node[_step(s)] for s in route.steps
                              if s.type in ("stop", "pickup", "delivery")] if route else []
            for node in self.routes[v]:
                self.vehicle_of[self.items.node_item[node]] = v

    def record(self) -> bool:
        """Note the plan's objective in the timeline; true when it improved."""
        value = self.objective()
        if self.improvements and value >= self.improvements[-1][1]:
            return False
        self.improvements.append((round(time.monotonic() - self.started, 3), value))
        return True

    def route_length(self) -> float:
        """Task nodes per used route (per vehicle while no route exists)."""
        used = [r for r in self.routes if r]
        if used:
            return sum(map(len, used)) / len(used)
        return self.layout.task_count / max(1, len(self.routes))

    # -- the solution document --------------------------------------------------------------

    def solution(self, stopped_by: str = "time_limit") -> Solution:
        layout, p = self.layout, self.layout.problem
        routes = [r for r in self.solved if r is not None and r.steps]
        # a route of the first routes that no region has scheduled yet is not in the solution:
        # its work is unserved (when the time ran out before the first pass covered it)
        kept = [route if self.solved[v] is not None else [] for v, route in enumerate(self.routes)]
        unscheduled = np.array([r is None for r in self.solved] + [False])  # [-1]: unserved already
        out = unscheduled[self.vehicle_of] | (self.vehicle_of < 0)
        unserved = np.flatnonzero(out).tolist()
        unassigned = []
        for item in unserved:
            if item not in self._reasons:
                self._reasons[item] = reason(layout, self.items.nodes(item))
            kind = "stop" if item < self.items.stops else "shipment"
            thing = p.stops[item] if kind == "stop" else p.shipments[item - self.items.stops]
            unassigned.append(Unassigned(id=thing.id, type=kind, reason=self._reasons[item]))
        mandatory = any(not self.items.optional(i) for i in unserved)
        summary = Summary(distance=round(sum(r.distance for r in routes), 6),
                          duration=round(sum(r.duration for r in routes), 6),
                          cost=round(sum(r.cost for r in routes), 6),
                          vehicles_used=len(routes), unassigned=len(unassigned))
        solver = SolverInfo(engine=self.engine, search=SEARCH,
                            wall_time=round(time.monotonic() - self.started, 3),
                            objective=self.improvements[-1][1] if self.improvements else None,
                            improvements=list(self.improvements), stopped_by=stopped_by)
        return priced(p, Solution(status="infeasible" if mandatory else "feasible", summary=summary,
                                  routes=routes, unassigned=unassigned, solver=solver,
                                  changes=plan_changes(layout, kept)))


def _nearest(items: Items, item: int, among: set[int]) -> int:
    travel = items.layout.travel
    candidates = np.fromiter(among, dtype=np.int64)
    here = items.place[item]
    reach = travel.distances[here, items.place[candidates]]
    return int(candidates[int(np.argmin(np.where(np.isfinite(reach), reach, np.inf)))])


def _step(step) -> str:
    return step.id if step.type == "stop" else f"{step.id}:{step.type}"


def start(layout: Layout) -> list[list[int]]:
    """The first routes: the warm start, else the seed construction, else none."""
    p = layout.problem
    routes: list[list[int]] = [[] for _ in p.vehicles]
    vehicle_of = {v.id: i for i, v in enumerate(p.vehicles)}
    if p.locked or p.initial_routes:
        placed: set[int] = set()
        for specs in (p.locked, p.initial_routes):
            for spec in specs:
                for step in spec.steps:
                    node = layout.step_node[step]
                    if node not in placed:
                        placed.add(node)
                        routes[vehicle_of[spec.vehicle_id]].append(node)
        return routes
    if seeding.applicable(layout):
        distance = layout.place_matrix(layout.travel.distances, layout.distance_scale)
        if (distance >= 0).all():
            time_matrix = layout.place_matrix(layout.travel.durations, layout.time_scale, extra=layout.service)
            if (time_matrix >= 0).all():
                return seeding.greedy_routes(layout, time_matrix, distance)
    return routes


def solve(layout: Layout, *, time_limit: float, seed: int, started: float, engine: str,
          on_improvement: Callable[[Plan], None] | None, region_solver) -> Solution:
    """Solve in regions until ``started + time_limit``; ``region_solver(problem)`` solves one
    region problem (OR-Tools' own search, in-process); ``on_improvement(plan)`` is called each
    time the plan's objective drops after the first pass."""
    deadline = started + time_limit
    plan = Plan(layout, start(layout), started, engine)
    rng = random.Random(seed)
    items = plan.items
    uncovered = set(range(items.count))
    covered: set[int] = set()  # vehicles whose route a first-pass region has solved
    first_end = started + min(FIRST_PASS_SHARE * time_limit, FIRST_PASS_MAX_S)
    seed_item = 0
    k = 0
    while time.monotonic() < deadline:
        first_pass = bool(uncovered)
        if first_pass:  # sweep: the uncovered item nearest to the last region's seed
            seed_item = _nearest(items, seed_item, uncovered)
            left = sum(len(items.nodes(i)) for i in uncovered) / REGION_NODES
            share = (first_end - time.monotonic()) / max(1.0, left)
            budget = min(max(share, FIRST_REGION_S[0]), FIRST_REGION_S[1])
        else:
            seed_item = rng.randrange(items.count)
            budget = REGION_S
        region = around(items, plan.routes, plan.vehicle_of, seed_item, REGION_NODES, plan.route_length(),
                        skip=covered if first_pass else frozenset())
        budget = min(budget, deadline - time.monotonic())
        if budget <= 0.05:
            break
        k += 1
        sub = problem_of(items, region, plan.routes, time_limit=budget, seed=seed + k)
        solution = region_solver(sub)
        uncovered.difference_update(region.items)
        if first_pass:
            covered.update(v for v in region.vehicles if plan.routes[v])
        before = plan.part(region.vehicles, {v: plan.solved[v] for v in region.vehicles},
                           [i for i in region.items if plan.vehicle_of[i] < 0])
        by_id = {r.vehicle_id: r for r in solution.routes}
        after_routes = {v: by_id.get(layout.problem.vehicles[v].id) for v in region.vehicles}
        served = {layout.step_node[_step(s)] for r in solution.routes for s in r.steps
                  if s.type in ("stop", "pickup", "delivery")}
        after_unserved = [i for i in region.items if items.nodes(i)[0] not in served]
        after = plan.part(region.vehicles, after_routes, after_unserved)
        unscheduled = any(plan.solved[v] is None and plan.routes[v] for v in region.vehicles)
        if solution.status != "no_solution" and (after < before - 1e-9 or unscheduled):
            plan.apply(region.vehicles, solution)
        if not uncovered and plan.record() and on_improvement is not None:
            on_improvement(plan)
    if not plan.improvements:  # the first pass did not finish: take what it has
        plan.record()
    return plan.solution()
