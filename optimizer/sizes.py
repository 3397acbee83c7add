"""Sizes before cells: how big a problem is, checked before any of its items is looked at.

``size_issues`` reads only list lengths: vehicles and tasks (a task is a stop or one end of
a shipment) against ``Limits``, routes against the vehicles, and the matrix against the
places a problem within the limits can reference (``Limits.max_places``) and against itself
(square, both matrices alike). When a
size is wrong nothing else is validated, so the work done on a problem is bounded by the
limits, whatever its body holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import Issues
from .issues import pointer

DEFAULT_MAX_STOPS = 5_000
DEFAULT_MAX_VEHICLES = 500
MATRICES = ("distances", "durations")


@dataclass(frozen=True, slots=True)
class Limits:
    """Size limits; a task is a stop or one end of a shipment. A matrix may have at most
    ``max_places`` places: what the largest problem within these limits can reference (a
    matrix shared by several problems may have more places than one of them uses)."""

    max_stops: int = DEFAULT_MAX_STOPS
    max_vehicles: int = DEFAULT_MAX_VEHICLES

    @property
    def max_places(self) -> int:
        return self.max_stops + 2 * self.max_vehicles


def _length(value: Any) -> int:
    return len(value) if isinstance(value, list) else 0


def size_issues(data: Mapping, limits: Limits) -> Issues:
    """What is too big (or not square) in a problem, from list lengths only."""
    issues = Issues()
    vehicles = _length(data.get("vehicles"))
    if vehicles > limits.max_vehicles:
        issues.add("/vehicles", f"{vehicles} vehicles exceed the limit of {limits.max_vehicles}")
    tasks = _length(data.get("stops")) + 2 * _length(data.get("shipments"))
    if tasks > limits.max_stops:
        issues.add("/stops", f"{tasks} stops (a shipment counts twice) exceed the limit of {limits.max_stops}")
    for key in ("initial_routes", "locked"):
        routes = _length(data.get(key))
        if routes > limits.max_vehicles:
            issues.add(f"/{key}", f"{routes} routes exceed the limit of {limits.max_vehicles} vehicles")
    matrix = data.get("matrix")
    if isinstance(matrix, Mapping):
        _matrix_sizes(matrix, limits.max_places, issues)
    return issues


def _matrix_sizes(matrix: Mapping, places: int, issues: Issues) -> None:
    sizes = {}
    for key in MATRICES:
        rows = matrix.get(key)
        if not isinstance(rows, list):
            continue
        n = sizes[key] = len(rows)
        if n > places:
            issues.add(pointer("matrix", key), f"a {n}x{n} matrix has more places than the {places} a problem "
                                               "can reference here (the stop limit plus 2 per vehicle of the "
                                               "vehicle limit)")
            continue
        for r, row in enumerate(rows):
            if isinstance(row, list) and len(row) != n:
                issues.add(pointer("matrix", key, r), f"row has {len(row)} entries; a {n}x{n} matrix needs {n}")
    if len(set(sizes.values())) > 1:
        d, t = sizes["distances"], sizes["durations"]
        issues.add("/matrix/durations", f"durations are {t}x{t} but distances are {d}x{d}")
