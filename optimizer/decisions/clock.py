"""When a vehicle is ready to leave its last step, as a function of when it left its start.

A route is served at the earliest: each step starts at its arrival, or when its window opens.
While every step has at most one window, the time the vehicle is ready again after ``k``
steps is ``max(D + c, m)`` for a start departure ``D`` (a composition of such functions
is one), and the route stays in its windows for every ``D`` up to ``latest``. ``Clock``
carries that function with its value at one departure, so that a route read once tells, in
O(1), when a new step would start and how late the vehicle may leave its start; a step with
several windows ends the closed form (``exact`` false) and only the value is carried on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..model import Window

INF = math.inf
EPSILON = 1e-9  # seconds: what float sums may add to a time that is in its window


def earliest(t: float, windows: tuple[Window, ...]) -> float | None:
    """The earliest time at or after ``t`` inside one of ``windows`` (sorted; none: ``t``).
    Unlike the checker's, which forgives a millisecond, a window ends where it says."""
    if not windows:
        return t
    for lo, hi in windows:
        if t <= hi + EPSILON:
            return max(t, lo)
    return None


@dataclass(frozen=True, slots=True)
class Clock:
    value: float  # ready to leave, for the departure it is evaluated at
    c: float = 0.0  # ready = max(D + c, m) for a start departure D (while exact)
    m: float = -INF
    latest: float = INF  # the latest D that keeps every step so far in its window
    exact: bool = True

    def serve(self, travel: float, windows: tuple[Window, ...], service: float,
              floor: float = -INF) -> tuple[Clock | None, float]:
        """Drive ``travel`` seconds, serve in ``windows`` (never before ``floor``), for
        ``service`` seconds: (the clock after, 0), or (None, seconds past the last window)."""
        arrival = max(self.value + travel, floor)
        begin = earliest(arrival, windows)
        if begin is None:
            return None, arrival - max(hi for _, hi in windows)
        if not self.exact or len(windows) > 1:
            return Clock(begin + service, latest=self.latest, exact=False), 0.0
        c, m, latest = self.c + travel, max(self.m + travel, floor), self.latest
        if windows:
            lo, hi = windows[0]
            m, latest = max(m, lo), min(latest, hi - c)
        return Clock(begin + service, c + service, m + service, latest), 0.0

    def arrival(self, travel: float, floor: float = -INF) -> tuple[float, float, float]:
        """(arrival value, c, m) at the next place: arrival = max(D + c, m)."""
        return max(self.value + travel, floor), self.c + travel, max(self.m + travel, floor)


def single(windows: tuple[Window, ...]) -> bool:
    return len(windows) <= 1


def latest_arrival(windows: tuple[Window, ...], need: float) -> tuple[float, bool]:
    """The latest arrival from which service starts in ``windows`` by ``need`` at the latest,
    and whether a window's end (rather than ``need``) decides it; -inf when none can."""
    if not windows:
        return need, False
    best, by_window = -INF, False
    for lo, hi in windows:
        if lo <= need:
            t = min(hi, need)
            if t > best:
                best, by_window = t, hi < need
    return best, by_window
