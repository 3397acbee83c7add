"""When a search must end: one rule for every engine.

A solve of ``time_limit`` seconds counted from ``started`` (a ``time.monotonic()`` instant)
keeps a reserve for reading its result back (the solution document assembled, checked):
``RESERVE_S`` plus ``RESERVE_SHARE`` of the time limit, at most ``MAX_RESERVE_S``. The search
gets the rest, and never less than ``MIN_SEARCH_S``.
"""

from __future__ import annotations

import time

MIN_SEARCH_S = 0.05  # seconds: a search always gets at least this long
RESERVE_S = 0.05  # seconds kept back for reading the result ...
RESERVE_SHARE = 0.02  # ... plus this share of the time limit ...
MAX_RESERVE_S = 0.5  # ... but never more than this many seconds


def search_end(time_limit: float, started: float) -> float:
    """The ``time.monotonic()`` instant the search of a ``time_limit``-second solve that began
    at ``started`` must end."""
    reserve = min(MAX_RESERVE_S, RESERVE_S + RESERVE_SHARE * time_limit)
    return started + max(MIN_SEARCH_S, time_limit - reserve)


def seconds_left(end: float, least: float = MIN_SEARCH_S) -> float:
    """Seconds from now until ``end``, and at least ``least``."""
    return max(least, end - time.monotonic())
