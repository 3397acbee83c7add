"""The PyVRP engine: iterated local search on an exact translation (``pyvrp_model``).

Improving solutions are streamed from PyVRP's ``on_best`` callback; the stopping criterion
is our deadline or the caller's ``stop``. ``initial_routes`` become PyVRP's initial solution. PyVRP keeps the best
feasible solution it found; when it has found none by ``give_up`` of the time limit
(mandatory work that cannot all be served, or a problem too tight for its search) it stops
with ``no_solution``, leaving the rest of the time to the engine the caller falls back to.
"""

from __future__ import annotations

import time
import warnings

from ..incumbent import Incumbent, OnIncumbent
from ..layout import Layout
from ..outcome import Outcome
from ..stop import Stop
from .assign import Assigner
from .base import PackageEngine, finish, no_solution, stopped
from .pyvrp_model import Translation, limits, translate

SEARCH = "pyvrp iterated local search"
GIVE_UP = 0.3  # share of the time limit after which a search with no feasible solution stops


class PyVRPEngine(PackageEngine):
    name = "pyvrp"
    package = "pyvrp"

    search = SEARCH
    limits = staticmethod(limits)
    give_up = GIVE_UP

    def run(self, layout: Layout, started: float, end: float, seed: int, stop: Stop | None,
            on_incumbent: OnIncumbent | None) -> Outcome:
        import pyvrp
        from pyvrp.exceptions import PenaltyBoundWarning

        model = translate(layout)
        evaluate = pyvrp.CostEvaluator([0] * model.data.num_load_dimensions, 0, 0)
        improvements: list[tuple[float, int]] = []

        def offer(best) -> None:
            if not best.is_feasible():
                return
            cost = evaluate.cost(best)
            if improvements and cost >= improvements[-1][1]:
                return
            improvements.append((round(time.monotonic() - started, 3), cost))
            if on_incumbent is not None:
                outcome = _outcome(model, best, list(improvements))
                on_incumbent(Incumbent(cost, improvements[-1][0],
                                       lambda: finish(layout, outcome, started, self.label), self.name))

        class Callbacks(pyvrp.IteratedLocalSearchCallbacks):
            def on_start(self, ils) -> None:
                offer(ils.initial_solution)

            def on_best(self, best) -> None:
                offer(best)

        params = pyvrp.SolveParams(ils=pyvrp.IteratedLocalSearchParams(callbacks=Callbacks()))
        with warnings.catch_warnings():  # our long arcs are meant to be avoided, not a warning
            warnings.simplefilter("ignore", PenaltyBoundWarning)
            hopeless = started + self.give_up * (end - started)
            asked: list[bool] = []  # the caller's stop ended the search

            def done(_cost) -> bool:
                now = time.monotonic()
                if now >= end or (not improvements and now >= hopeless):
                    return True
                if stop is not None and stop():
                    asked.append(True)
                return bool(asked)

            result = pyvrp.solve(model.data, done, seed=seed,
                                 collect_stats=False, params=params, initial_solution=_initial(model))
        offer(result.best)
        if not result.best.is_feasible():
            return stopped(SEARCH) if asked else no_solution(
                "pyvrp found no feasible solution (mandatory work it cannot serve, or too little time)", SEARCH)
        return _outcome(model, result.best, improvements, "stop_request" if asked else "time_limit")


def _node(layout: Layout, activity) -> int | None:
    kind = activity.type.name
    if kind == "CLIENT":
        return activity.idx
    if kind in ("PICKUP", "DELIVERY"):
        pickup, delivery = layout.shipment_nodes(activity.idx)
        return pickup if kind == "PICKUP" else delivery
    return None


def _outcome(model: Translation, solution, improvements: list[tuple[float, int]],
             stopped_by: str = "time_limit") -> Outcome:
    layout = model.layout
    vehicles = len(layout.problem.vehicles)
    routes: list[list[int]] = [[] for _ in range(vehicles)]
    starts: list[list[int]] = [[] for _ in range(vehicles)]
    assigner = Assigner(layout)
    for route in solution.routes():
        nodes, times = [], []
        for activity in route.schedule():
            node = _node(layout, activity)
            if node is not None:
                nodes.append(node)
                times.append(activity.start_time)
        v = assigner.take(model.type_vehicles[route.vehicle_type()], nodes)
        routes[v] = nodes
        starts[v] = [route.start_time(), *times, route.end_time()]
    objective = improvements[-1][1] if improvements else None
    return Outcome(routes, starts, [[] for _ in range(vehicles)], objective, list(improvements),
                   stopped_by, search=SEARCH)


def _initial(model: Translation):
    """PyVRP's initial solution from ``initial_routes`` (shipments only when whole)."""
    import pyvrp

    layout = model.layout
    problem = layout.problem
    if not problem.initial_routes:
        return None
    vehicle_of = {v.id: i for i, v in enumerate(problem.vehicles)}
    stops = len(problem.stops)
    kinds = {"stop": pyvrp.ActivityType.CLIENT, "pickup": pyvrp.ActivityType.PICKUP,
             "delivery": pyvrp.ActivityType.DELIVERY}
    routes, used = [], set()
    for spec in problem.initial_routes:
        steps = [layout.step_node[s] for s in spec.steps if s in layout.step_node]
        whole = [n for n in steps if n not in used and _whole(layout, n, steps)]
        used.update(whole)
        if not whole:
            continue
        activities = []
        for n in whole:
            task = layout.tasks[n]
            activities.append(pyvrp.Activity(kinds[task.kind], n if n < stops else task.index))
        routes.append(pyvrp.Route(model.data, activities, model.vehicle_type[vehicle_of[spec.vehicle_id]]))
    try:
        return pyvrp.Solution(model.data, routes)
    except (ValueError, IndexError, RuntimeError):
        return None


def _whole(layout: Layout, node: int, steps: list[int]) -> bool:
    task = layout.tasks[node]
    if task.kind == "stop":
        return True
    pickup, delivery = layout.shipment_nodes(task.index)
    return pickup in steps and delivery in steps and steps.index(pickup) < steps.index(delivery)
