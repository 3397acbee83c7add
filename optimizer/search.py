"""Run the routing search: parameters, warm start, time limit, stop requests, progress.

The search holds the GIL for long stretches, so a stop request cannot come from another
Python thread on its own: a search monitor polls the caller's ``stop`` callable from
inside the search (cheaply, every few hundred neighbour evaluations and at every decision)
and cancels it. ``progress`` is called on every improving solution.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ortools.constraint_solver import pywrapcp, routing_enums_pb2
from ortools.constraint_solver import routing_ils_pb2 as ils_pb2

from . import seed as seeding
from .routing import Model

StopCheck = Callable[[], bool]
Progress = Callable[[float, int], None]

_FIRST = routing_enums_pb2.FirstSolutionStrategy
_META = routing_enums_pb2.LocalSearchMetaheuristic
LARGE = 1_200  # tasks above which the search restricts neighbourhoods
POLL_EVERY = 256  # neighbour evaluations between two stop checks


@dataclass
class Outcome:
    """What the search found, in solver terms (read back by ``solve``)."""

    routes: list[list[int]] | None  # node sequence per vehicle, tasks only
    service_starts: list[list[int]] | None  # time cumul per route position (start, tasks, end)
    breaks: list[list[tuple[str, int, int]]] | None  # (break id, start, duration) per vehicle
    objective: int | None
    improvements: list[tuple[float, int]] = field(default_factory=list)
    stopped_by: str = "time_limit"
    message: str | None = None


class _Watch(pywrapcp.SearchMonitor):
    """Cancels the search when the caller's stop check says so."""

    def __init__(self, model: Model, stop: StopCheck):
        super().__init__(model.routing.solver())
        self._routing = model.routing
        self._stop = stop
        self._calls = 0
        self.stopped = False

    def _poll(self) -> None:
        if not self.stopped and self._stop():
            self.stopped = True
            self._routing.CancelSearch()

    def AcceptDelta(self, delta, deltadelta):  # noqa: N802 (OR-Tools name)
        self._calls += 1
        if self._calls % POLL_EVERY == 0:
            self._poll()
        return True

    def BeginNextDecision(self, builder):  # noqa: N802
        self._poll()


def _iterated(model: Model, interruptible: bool) -> bool:
    """Iterated local search (ruin and recreate), or a classic metaheuristic?

    OR-Tools' iterated local search runs to its time limit whatever the caller asks (it
    ignores ``CancelSearch``), so ``automatic`` uses it only when nobody may need to stop
    the search early; otherwise guided local search, which stops within milliseconds.
    A warm start also needs the classic path (the iterated search cannot start from a
    given assignment).
    """
    choice = model.layout.problem.options.metaheuristic
    if choice == "iterated_local_search":
        return True
    problem = model.layout.problem
    warm = bool(problem.initial_routes or problem.locked)
    return choice == "automatic" and not interruptible and not warm


def parameters(model: Model, time_limit: float, seed: int, iterated: bool):
    options = model.layout.problem.options
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = _first_solution(model, options.first_solution)
    if iterated:
        _ruin_and_recreate(params)
    else:
        name = "guided_local_search" if options.metaheuristic in ("automatic", "iterated_local_search") else options.metaheuristic
        params.local_search_metaheuristic = getattr(_META, name.upper())
    params.time_limit.FromMilliseconds(max(1, int(time_limit * 1000)))
    params.sat_parameters.random_seed = seed
    tasks = model.layout.task_count
    if tasks > LARGE:
        # consider only the nearest nodes in local search moves: linear instead of quadratic
        params.ls_operator_neighbors_ratio = min(1.0, 50 / tasks)
        params.ls_operator_min_neighbors = 20
    return params


def _ruin_and_recreate(params) -> None:
    """Iterated local search: remove strings of nearby visits (SISR), reinsert them, improve,
    and accept the result by simulated annealing. On the Solomon and CVRPLIB instances this
    roughly halves the gap left by guided local search at the same time limit."""
    ils = params.iterated_local_search_parameters
    ils.perturbation_strategy = ils_pb2.PerturbationStrategy.RUIN_AND_RECREATE
    ils.improve_perturbed_solution = True
    ruin = ils.ruin_recreate_parameters
    del ruin.ruin_strategies[:]
    sisr = ruin.ruin_strategies.add().sisr
    sisr.max_removed_sequence_size = 10
    sisr.avg_num_removed_visits = 10
    sisr.bypass_factor = 0.01
    ruin.ruin_composition_strategy = ils_pb2.RuinCompositionStrategy.RUN_ONE_RANDOMLY
    ils.reference_solution_acceptance_strategy.simulated_annealing.automatic_temperatures = True
    params.local_search_metaheuristic = _META.GREEDY_DESCENT


def _first_solution(model: Model, choice: str):
    if choice != "automatic":
        return getattr(_FIRST, choice.upper())
    if model.layout.task_count > LARGE:
        return _FIRST.PATH_CHEAPEST_ARC
    if model.time is None and not model.layout.problem.shipments:
        return _FIRST.SAVINGS
    return _FIRST.PARALLEL_CHEAPEST_INSERTION


def run(model: Model, *, time_limit: float, seed: int, stop: StopCheck | None,
        progress: Progress | None, started: float) -> Outcome:
    routing = model.routing
    seeded = model.layout.task_count > LARGE and model.matrices is not None and seeding.applicable(model.layout)
    iterated = _iterated(model, interruptible=stop is not None) and not seeded
    params = parameters(model, time_limit, seed, iterated)
    improvements: list[tuple[float, int]] = []

    def on_solution() -> None:
        cost = routing.CostVar()
        if not cost.Bound():  # ruin-and-recreate reports some solutions before costing them
            return
        value = cost.Value()
        if not improvements or value < improvements[-1][1]:
            elapsed = time.monotonic() - started
            improvements.append((round(elapsed, 3), value))
            if progress is not None:
                progress(elapsed, value)

    routing.AddAtSolutionCallback(on_solution)
    watch = _Watch(model, stop) if stop is not None else None
    if watch is not None:
        routing.AddSearchMonitor(watch)
    routing.CloseModelWithParameters(params)
    if watch is not None and stop():
        return Outcome(None, None, None, None, stopped_by="stop_request")

    hint = _seed(model) if seeded else (None if iterated else _hint(model))
    model.matrices = None  # not needed any more: free the memory during the search
    assignment = None
    if hint is not None:
        assignment = routing.SolveFromAssignmentWithParameters(hint, params)
    if assignment is None and not (watch is not None and watch.stopped):
        if iterated:
            assignment = routing.SolveWithIteratedLocalSearch(params)
        else:
            assignment = routing.SolveWithParameters(params)

    stopped_by = "stop_request" if watch is not None and watch.stopped else "time_limit"
    if routing.status() == routing_enums_pb2.RoutingSearchStatus.ROUTING_OPTIMAL:
        stopped_by = "finished"
    if assignment is None:
        if stopped_by == "stop_request":
            message = "stopped before a first solution was found"
        else:
            stopped_by = "no_solution"
            message = (
                "the locked steps cannot be served as locked (time windows, capacity or skills)"
                if model.layout.problem.locked else "the search found no solution in the time limit"
            )
        return Outcome(None, None, None, None, improvements, stopped_by, message)
    return _read(model, assignment, improvements, stopped_by)


def _seed(model: Model):
    time, distance = model.matrices
    routes = seeding.greedy_routes(model.layout, time, distance)
    return model.routing.ReadAssignmentFromRoutes([[model.index(n) for n in r] for r in routes], True)


def _hint(model: Model):
    """The warm start: locked prefixes followed by the initial routes' remaining steps."""
    problem, layout = model.layout.problem, model.layout
    if not problem.initial_routes and not problem.locked:
        return None
    vehicle_of = {v.id: i for i, v in enumerate(problem.vehicles)}
    routes: list[list[int]] = [[] for _ in problem.vehicles]
    placed: set[int] = set()
    for specs in (problem.locked, problem.initial_routes):
        for spec in specs:
            route = routes[vehicle_of[spec.vehicle_id]]
            for step in spec.steps:
                node = layout.step_node[step]
                if node not in placed:
                    placed.add(node)
                    route.append(model.index(node))
    return model.routing.ReadAssignmentFromRoutes(routes, True)


def _read(model: Model, assignment, improvements, stopped_by: str) -> Outcome:
    routing, manager, dim = model.routing, model.manager, model.time
    routes, starts = [], []
    for v in range(len(model.layout.problem.vehicles)):
        nodes, cumuls = [], []
        index = routing.Start(v)
        while True:
            if dim is not None:
                cumuls.append(assignment.Min(dim.CumulVar(index)))
            if routing.IsEnd(index):
                break
            if not routing.IsStart(index):
                nodes.append(manager.IndexToNode(index))
            index = assignment.Value(routing.NextVar(index))
        routes.append(nodes)
        starts.append(cumuls)
    breaks: list[list[tuple[str, int, int]]] = [[] for _ in model.layout.problem.vehicles]
    for v, intervals in model.breaks.items():
        for brk, iv in intervals:
            if assignment.PerformedValue(iv):
                breaks[v].append((brk.id, assignment.StartValue(iv), assignment.DurationValue(iv)))
    objective = assignment.ObjectiveValue()
    if not improvements or improvements[-1][1] > objective:
        improvements.append((improvements[-1][0] if improvements else 0.0, objective))
    return Outcome(routes, starts if dim is not None else None, breaks, objective,
                   improvements, stopped_by)
