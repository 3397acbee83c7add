"""``Incumbent``: an improving solution, handed to ``on_incumbent`` while a search runs.

Every engine (and OR-Tools' region search) hands its improvements over in this one shape:
``objective``, ``elapsed`` and ``engine`` are read at once, the solution document is decoded
only when asked, so a caller that receives many improvements can decode only some of them.
"""

from __future__ import annotations

from collections.abc import Callable

from .solution import Solution


class Incumbent:
    """An improving solution: ``objective`` (in the engine's own integer units), ``elapsed``
    (seconds from the solve's start to the moment it was found) and ``engine`` (its name:
    ``ortools``, ``pyvrp``, ``vroom``) at once; ``solution()`` decodes the routes on the first
    call (a few milliseconds per thousand stops) and gives the same document afterwards."""

    def __init__(self, objective: int, elapsed: float, decode: Callable[[], Solution], engine: str):
        self.objective, self.elapsed, self.engine = objective, elapsed, engine
        self._decode = decode
        self._solution: Solution | None = None

    def solution(self) -> Solution:
        if self._solution is None:
            self._solution = self._decode()
        return self._solution


OnIncumbent = Callable[[Incumbent], None]
