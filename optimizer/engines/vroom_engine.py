"""The VROOM engine: its local search on an exact translation (``vroom_model``), one thread.

VROOM returns only its final solution, handed to ``on_incumbent`` once; its search cannot
be interrupted, so a ``stop`` is asked once, before it starts. It serves as much
work as it can: mandatory work it leaves out is reported unassigned with a reason (status
``infeasible``). Optional work with drop penalties has no exact VROOM counterpart.
"""

from __future__ import annotations

import time
from datetime import timedelta

import numpy as np

from ..deadline import seconds_left
from ..incumbent import Incumbent, OnIncumbent
from ..layout import Layout
from ..outcome import Outcome
from ..stop import Stop
from .base import PackageEngine, finish
from .vroom_model import Translation, limits, translate

EXPLORATION = 5  # VROOM's exploration level, 1 to 5
SEARCH = f"vroom local search (exploration {EXPLORATION})"


class VroomEngine(PackageEngine):
    name = "vroom"
    package = "pyvroom"

    search = SEARCH
    limits = staticmethod(limits)
    exploration = EXPLORATION

    def run(self, layout: Layout, started: float, end: float, seed: int, stop: Stop | None,
            on_incumbent: OnIncumbent | None) -> Outcome:
        # VROOM's search is deterministic: ``seed`` changes nothing; nor can it be interrupted:
        # ``stop`` was asked before it began
        model = translate(layout)
        budget = seconds_left(end, least=0.01)
        result = model.input.solve(exploration_level=self.exploration, nb_threads=1,
                                   timeout=timedelta(seconds=budget))
        elapsed = round(time.monotonic() - started, 3)
        outcome = _outcome(model, result, elapsed)
        if on_incumbent is not None:
            on_incumbent(Incumbent(outcome.objective, elapsed,
                                   lambda: finish(layout, outcome, started, self.label), self.name))
        return outcome


def _outcome(model: Translation, result, elapsed: float) -> Outcome:
    vehicles = len(model.layout.problem.vehicles)
    routes: list[list[int]] = [[] for _ in range(vehicles)]
    starts: list[list[int]] = [[] for _ in range(vehicles)]
    breaks: list[list[tuple[str, int, int]]] = [[] for _ in range(vehicles)]
    rows = np.asarray(result._routes_numpy())
    for row in rows:
        v, kind = int(row["vehicle_id"]), row["type"].decode()
        begins = int(row["arrival"]) + int(row["waiting_time"])
        if kind in ("job", "pickup", "delivery"):
            routes[v].append(int(row["id"]))
            starts[v].append(begins)
        elif kind == "break":
            owner, brk = model.breaks[int(row["id"])]
            breaks[owner].append((brk, begins, int(row["service"])))
        elif kind == "start":
            starts[v].insert(0, int(row["arrival"]))
        else:
            starts[v].append(int(row["arrival"]))
    cost = int(result.summary.cost)
    return Outcome(routes, starts, breaks, cost, [(elapsed, cost)], "time_limit", search=SEARCH)
