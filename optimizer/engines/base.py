"""The engine interface: immutable inputs, a result (in the style of PyVRP's ``solve``).

An engine takes our ``Problem`` and returns our ``Solution``; vendor objects stay inside
its module. ``time_limit`` and ``seed`` default to the problem's options; ``stop`` (an
``optimizer.stop.Stop``) may end the search early. ``unsupported(problem)`` names what the
engine cannot model exactly in this problem (empty: it may take it). Improving solutions are
handed to ``on_incumbent`` as ``optimizer.incumbent.Incumbent`` objects, decoded only when
asked.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from importlib.metadata import version as package_version
from typing import Protocol

from ..assemble import assemble
from ..deadline import search_end
from ..features import present, unsupported_by
from ..incumbent import OnIncumbent
from ..layout import Layout, lay_out
from ..model import Problem
from ..outcome import Outcome
from ..solution import Solution
from ..stop import Stop


class Engine(Protocol):
    name: str

    @property
    def version(self) -> str: ...

    def unsupported(self, problem: Problem) -> list[str]: ...

    def solve(self, problem: Problem, *, time_limit: float | None = None, seed: int | None = None,
              stop: Stop | None = None, on_incumbent: OnIncumbent | None = None,
              started: float | None = None) -> Solution: ...


class PackageEngine(ABC):
    """An engine over a vendor package: its version, its label, what it refuses."""

    name = ""
    package = ""
    search = ""  # what ``solver.search`` says
    limits = staticmethod(lambda layout: [])  # why its integers cannot hold a laid-out problem

    @property
    def version(self) -> str:
        return package_version(self.package)

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}"

    def unsupported(self, problem: Problem) -> list[str]:
        return missing_features(self.name, problem) or self.limits(lay_out(problem))

    def solve(self, problem: Problem, *, time_limit: float | None = None, seed: int | None = None,
              stop: Stop | None = None, on_incumbent: OnIncumbent | None = None,
              started: float | None = None) -> Solution:
        started = time.monotonic() if started is None else started
        end = search_end(problem.options.time_limit if time_limit is None else time_limit, started)
        seed = problem.options.seed if seed is None else seed
        layout = lay_out(problem)
        if layout.task_count == 0:
            return finish(layout, empty_outcome(layout, self.search), started, self.label)
        if stop is not None and stop():
            return finish(layout, stopped(self.search), started, self.label)
        return finish(layout, self.run(layout, started, end, seed, stop, on_incumbent), started, self.label)

    @abstractmethod
    def run(self, layout: Layout, started: float, end: float, seed: int, stop: Stop | None,
            on_incumbent: OnIncumbent | None) -> Outcome:
        """Search until the monotonic instant ``end`` (or ``stop``); the result in solver terms."""


def missing_features(engine: str, problem: Problem) -> list[str]:
    """The features of ``problem`` that ``engine``'s column of the table marks "no"."""
    return sorted(present(problem) & unsupported_by(engine))


def finish(layout: Layout, outcome: Outcome, started: float, engine: str) -> Solution:
    return assemble(layout, outcome, time.monotonic() - started, engine)


def empty_outcome(layout: Layout, search: str) -> Outcome:
    """Nothing to route: every vehicle stays home."""
    vehicles = len(layout.problem.vehicles)
    return Outcome([[] for _ in range(vehicles)], None, [[] for _ in range(vehicles)], 0,
                   stopped_by="finished", search=search)


def no_solution(message: str, search: str, improvements=None) -> Outcome:
    return Outcome(None, None, None, None, list(improvements or []), "no_solution", message, search)


def stopped(search: str) -> Outcome:
    """Asked to stop before the search began: no solution."""
    return Outcome(None, None, None, None, [], "stop_request", "stopped before a first solution was found",
                   search)
