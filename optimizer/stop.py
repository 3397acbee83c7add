"""``Stop``: how a caller asks a running search to end before its time limit.

In the style of PyVRP's stopping criteria (``pyvrp.stop``), with one difference: ``Stop`` is
called without the best cost. Our engines count costs in units of their own, and what stops
a search from outside (a cancel, a worker's shutdown) does not depend on the cost. The time
limit is not a ``Stop``: every solve has one, and each engine keeps to it
(``optimizer.deadline``).

How each engine honours it: OR-Tools asks every few hundred moves (and searches by guided
local search when it may be stopped: its iterated search cannot be interrupted in-process);
PyVRP asks at every iteration; VROOM's search cannot be interrupted, so it asks once, before
it starts; ``optimizer.solve`` asks before each step of its plan.
"""

from __future__ import annotations

from typing import Protocol


class Stop(Protocol):
    """Asked while a search runs: true means "stop now". The search then ends with the best
    solution it has (``solver.stopped_by`` is ``stop_request``), or with none when it has not
    found one yet."""

    def __call__(self) -> bool: ...
