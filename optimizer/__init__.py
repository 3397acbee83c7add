"""routefarm's routing engine: a pure library (no I/O) over OR-Tools, PyVRP and VROOM.

    problem = parse_problem(data)          # raises InvalidProblem listing every error
    solution = solve(problem)               # a Solution; never raises for a hard problem
    violations = check(problem, solution)   # an independent audit of any solution

``solve`` is the one entry point: it runs the engine portfolio (``optimizer.engines``: the
engines ``plan`` chooses, each result checked, OR-Tools as the fallback), hands improving
solutions to ``on_incumbent`` as ``Incumbent`` objects, and ends early when ``stop`` (a
``Stop``) says so. The contract's field types (``optimizer.model``), the SVG renderer
(``optimizer.render``) and the benchmark converters (``optimizer.convert``) are public too;
the rest is internal.
"""

from .check import Violation, check
from .errors import MAX_ISSUES, InvalidProblem, Issue, Issues, OptimizerError
from .incumbent import Incumbent
from .model import Problem
from .priced import on_roads
from .solution import Solution
from .solve import solve
from .stop import Stop
from .travel import places
from .validate import Limits, parse_problem, pointer, pydantic_issues

__all__ = [
    "MAX_ISSUES",
    "Incumbent",
    "InvalidProblem",
    "Issue",
    "Issues",
    "Limits",
    "OptimizerError",
    "Problem",
    "Solution",
    "Stop",
    "Violation",
    "check",
    "on_roads",
    "parse_problem",
    "places",
    "pointer",
    "pydantic_issues",
    "solve",
]
