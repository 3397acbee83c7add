"""Imported by the solve forkserver, and only there: the solver, warmed up.

Python's forkserver runs nothing but the imports it is given, so this module is the one
place where importing does work: the engines' libraries (PyVRP takes about 0.13 s to
import, VROOM about 1 s: once here instead of in every child) and one tiny solve, which
makes OR-Tools initialise what it initialises once per process (about 20 ms). Every child
forked afterwards starts warm, and a small job's first incumbent comes that much sooner.
Nothing else imports it.
"""

import contextlib

from optimizer import parse_problem, solve

from . import child  # noqa: F401 - the child's code, imported once for every fork

_TINY = {
    "vehicles": [{"id": "v", "start_index": 0, "end_index": 0, "capacity": [2], "time_window": [0, 100]}],
    "stops": [{"id": "a", "location_index": 1, "demand": [1], "time_windows": [[0, 50]]}],
    "matrix": {"distances": [[0, 1], [1, 0]]},
}
solve(parse_problem({**_TINY, "options": {"engine": "ortools"}}), time_limit=0.01)
for _engine in ("pyvrp", "vroom"):
    with contextlib.suppress(ImportError):  # an engine without its library refuses its problems
        __import__(_engine)
        solve(parse_problem({**_TINY, "options": {"engine": _engine}}), time_limit=0.02)
