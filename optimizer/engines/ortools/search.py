"""Run the routing search: which search, warm start, time limit, stop requests, incumbents.

Which search a problem gets (``plan``):

- **Iterated local search** (ruin and recreate, accepted by simulated annealing) whenever
  the metaheuristic is ``automatic`` and nobody needs to stop the search from this process.
  OR-Tools' iterated search ignores ``CancelSearch``, so a caller that must be able to stop
  early either runs the search in a process it can end (what the farm and ``routefarm
  solve`` do) or passes ``stop``, which selects guided local search instead.
- A warm start (``initial_routes``, ``locked``) or the seed construction of large problems
  gives the first solution as a hint to local cheapest insertion, the construction that
  reads hints; the iterated search then starts from it.
- An explicit ``metaheuristic`` is obeyed; the classic ones start from the warm start
  through ``SolveFromAssignmentWithParameters``.

The best solution is kept by the search itself: at each improvement its variables are
stored into one preallocated assignment (microseconds, whatever the size), and decoded
into routes only when somebody asks (``Best.outcome``). The iterated search's return value
is not always its best solution, so the result is always read from that store.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from ortools.constraint_solver import pywrapcp, routing_enums_pb2
from ortools.constraint_solver import routing_ils_pb2 as ils_pb2

from ...outcome import Outcome
from ...stop import Stop
from . import seed as seeding
from .model import Model

_FIRST = routing_enums_pb2.FirstSolutionStrategy
_META = routing_enums_pb2.LocalSearchMetaheuristic
LARGE = 1_200  # tasks above which the search restricts neighbourhoods
POLL_EVERY = 256  # neighbour evaluations between two stop checks


@dataclass(frozen=True)
class Plan:
    """The search a problem gets."""

    metaheuristic: str  # "iterated_local_search", "guided_local_search", ...
    first_solution: int  # an OR-Tools FirstSolutionStrategy value
    warm: str | None  # "initial_routes", "seed" or None


def plan(model: Model, stoppable: bool) -> Plan:
    layout = model.layout
    problem = layout.problem
    options = problem.options
    warm = None
    if problem.initial_routes or problem.locked:
        warm = "initial_routes"
    elif layout.task_count > LARGE and model.matrices is not None and seeding.applicable(layout):
        warm = "seed"
    meta = options.metaheuristic
    if meta == "automatic":
        meta = "guided_local_search" if stoppable else "iterated_local_search"
    if options.first_solution != "automatic":
        first = getattr(_FIRST, options.first_solution.upper())
        if meta == "iterated_local_search" and first != _FIRST.LOCAL_CHEAPEST_INSERTION:
            warm = None  # the chosen construction reads no hint
    elif warm and meta == "iterated_local_search":
        first = _FIRST.LOCAL_CHEAPEST_INSERTION
    elif layout.task_count > LARGE:
        first = _FIRST.PATH_CHEAPEST_ARC
    elif model.time is None and not problem.shipments:
        first = _FIRST.SAVINGS
    else:
        first = _FIRST.PARALLEL_CHEAPEST_INSERTION
    return Plan(meta, first, warm)


def parameters(model: Model, chosen: Plan, time_limit: float, seed: int):
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = chosen.first_solution
    if chosen.metaheuristic == "iterated_local_search":
        _ruin_and_recreate(params)
    else:
        params.local_search_metaheuristic = getattr(_META, chosen.metaheuristic.upper())
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


class Best:
    """The best solution of a running search: stored at each improvement, decoded on demand."""

    def __init__(self, model: Model, started: float, search: str | None = None):
        self.model = model
        self.started = started
        self.search = search  # the metaheuristic that runs
        self.improvements: list[tuple[float, int]] = []
        solver, routing = model.routing.solver(), model.routing
        # created before the search: objects the solver makes during it die on backtrack
        self._store = solver.Assignment()
        self._store.Add([routing.NextVar(i) for i in range(routing.Size())])
        if model.time is not None:
            self._store.Add([model.time.CumulVar(i) for i in range(routing.Size() + routing.vehicles())])
        for intervals in model.breaks.values():
            for _, iv in intervals:
                self._store.Add(iv)
        self._decoded: Outcome | None = None

    @property
    def found(self) -> bool:
        return bool(self.improvements)

    @property
    def objective(self) -> int | None:
        return self.improvements[-1][1] if self.improvements else None

    @property
    def elapsed(self) -> float | None:
        """Seconds from ``started`` to the moment the best solution was found."""
        return self.improvements[-1][0] if self.improvements else None

    def offer(self) -> bool:
        """At a solution of the search: keep it if it improves. True when it did."""
        cost = self.model.routing.CostVar()
        if not cost.Bound():  # ruin-and-recreate reports some solutions before costing them
            return False
        if not self._breaks_fixed():  # nor are their breaks always placed yet
            return False
        value = cost.Value()
        if self.improvements and value >= self.improvements[-1][1]:
            return False
        self._store.Store()
        self._decoded = None
        self.improvements.append((round(time.monotonic() - self.started, 3), value))
        return True

    def _breaks_fixed(self) -> bool:
        for intervals in self.model.breaks.values():
            for _, iv in intervals:
                if not iv.MayBePerformed():
                    continue  # a start read of an interval that is not performed aborts
                if not iv.MustBePerformed() or iv.StartMin() != iv.StartMax():
                    return False
        return True

    def outcome(self, stopped_by: str = "time_limit") -> Outcome:
        """The best solution in solver terms (decoded once per improvement)."""
        if self._decoded is None:
            self._decoded = _read(self.model, self._store, self.objective)
        found = self._decoded
        return Outcome(found.routes, found.service_starts, found.breaks, found.objective,
                       list(self.improvements), stopped_by, search=self.search)


Improvement = Callable[[Best], None]


class _Watch(pywrapcp.SearchMonitor):
    """Cancels the search when the caller's stop check says so."""

    def __init__(self, model: Model, stop: Stop):
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


def run(model: Model, *, time_limit: float, seed: int, stop: Stop | None,
        on_improvement: Improvement | None, started: float) -> Outcome:
    routing = model.routing
    chosen = plan(model, stoppable=stop is not None)
    iterated = chosen.metaheuristic == "iterated_local_search"
    params = parameters(model, chosen, time_limit, seed)
    best = Best(model, started, chosen.metaheuristic)

    def on_solution() -> None:
        if best.offer() and on_improvement is not None:
            on_improvement(best)

    routing.AddAtSolutionCallback(on_solution)
    watch = _Watch(model, stop) if stop is not None else None
    if watch is not None:
        routing.AddSearchMonitor(watch)
    routing.CloseModelWithParameters(params)
    if watch is not None and stop():
        return Outcome(None, None, None, None, stopped_by="stop_request", search=chosen.metaheuristic)

    hint = None
    if chosen.warm == "seed":
        hint = _seed(model)
    elif chosen.warm == "initial_routes":
        hint = _hint(model)
    model.matrices = None  # not needed any more: free the memory during the search
    assignment = None
    if iterated:
        if hint is not None:
            routing.SetFirstSolutionHint(hint)
        assignment = routing.SolveWithIteratedLocalSearch(params)
    else:
        if hint is not None:
            assignment = routing.SolveFromAssignmentWithParameters(hint, params)
        if assignment is None and not (watch is not None and watch.stopped):
            assignment = routing.SolveWithParameters(params)
    if not best.found and assignment is not None:
        # every solution the search reported came before it was costed (ruin and recreate
        # does that): the one it returns is the solution
        found = _read(model, assignment, assignment.ObjectiveValue(), chosen.metaheuristic)
        found.improvements = [(round(time.monotonic() - started, 3), found.objective)]
        return found

    stopped_by = "stop_request" if watch is not None and watch.stopped else "time_limit"
    if routing.status() == routing_enums_pb2.RoutingSearchStatus.ROUTING_OPTIMAL:
        stopped_by = "finished"
    if not best.found:
        if stopped_by == "stop_request":
            message = "stopped before a first solution was found"
        else:
            stopped_by = "no_solution"
            message = (
                "the locked steps cannot be served as locked (time windows, capacity or skills)"
                if model.layout.problem.locked else "the search found no solution in the time limit"
            )
        return Outcome(None, None, None, None, [], stopped_by, message, chosen.metaheuristic)
    return best.outcome(stopped_by)


def _seed(model: Model):
    time_matrix, distance = model.matrices
    routes = seeding.greedy_routes(model.layout, time_matrix, distance)
    return model.routing.ReadAssignmentFromRoutes([[model.index(n) for n in r] for r in routes], True)


def _hint(model: Model):
    """The warm start: locked prefixes followed by the initial routes' remaining steps."""
    problem, layout = model.layout.problem, model.layout
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


def _read(model: Model, assignment, objective: int | None, search: str | None = None) -> Outcome:
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
            # the Min reads: a *Value read of an unfixed interval aborts the process, and an
            # engine's result is checked before it is used
            if assignment.PerformedMin(iv):
                breaks[v].append((brk.id, assignment.StartMin(iv), assignment.DurationMin(iv)))
    return Outcome(routes, starts if dim is not None else None, breaks, objective, search=search)
