"""Where every stop, shipment end and vehicle is, and what travelling between them costs.

A problem either supplies matrices (indices into them) or coordinates (great-circle
distances, durations at ``options.speed_kmh``). ``Travel`` hides the difference: every
place gets an index into float matrices of metres and seconds, ``inf`` where no road
exists. A vehicle without a start or end has the place ``None``: travel to or from it is free.
Computed great-circle travel is rounded to whole metres and seconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .model import Problem

EARTH_RADIUS_M = 6_371_008.8


BLOCK = 256  # rows computed at once: temporaries stay in cache, whatever the size


def great_circle(points: np.ndarray, first: int = 0) -> np.ndarray:
    """Haversine distances in metres from ``points[first:]`` to every one of ``points``, given
    as rows of (lon, lat) degrees (all of them: the square matrix)."""
    lon = np.radians(points[:, 0])
    lat = np.radians(points[:, 1])
    cos_lat = np.cos(lat)
    out = np.empty((len(points) - first, len(points)), dtype=np.float64)
    for a in range(first, len(points), BLOCK):
        b = min(a + BLOCK, len(points))
        h = np.sin((lat[a:b, None] - lat[None, :]) / 2) ** 2
        h += cos_lat[a:b, None] * cos_lat[None, :] * np.sin((lon[a:b, None] - lon[None, :]) / 2) ** 2
        np.clip(h, 0.0, 1.0, out=h)
        out[a - first:b - first] = np.arcsin(np.sqrt(h, out=h), out=h)
    out *= 2 * EARTH_RADIUS_M
    return out


_NOT_NUMBERS = str.maketrans("[],", "   ")


def matrix_from_json(text: str) -> np.ndarray:
    """A square JSON matrix (rows of numbers, ``null`` where no road) as a float array with
    infinity for ``null``, as ``Travel`` holds it, read from its text without a Python object
    per cell: a large matrix costs its array and a copy or two of its text, not a float and a
    list slot per cell."""
    values = np.fromstring(text.translate(_NOT_NUMBERS).replace("null", "inf"), sep=" ")
    n = math.isqrt(values.size)
    if n * n != values.size:
        raise ValueError(f"a matrix of {values.size} cells is not square")
    return values.reshape(n, n)


def _matrix(rows: list[list[float | None]] | np.ndarray) -> np.ndarray:
    if isinstance(rows, np.ndarray):  # read from its text (``matrix_from_json``): as it is
        return rows
    out = np.array([[np.inf if x is None else x for x in row] for row in rows], dtype=np.float64)
    return out.reshape(len(rows), len(rows))


@dataclass(frozen=True, eq=False)
class Travel:
    distances: np.ndarray  # metres between places
    durations: np.ndarray  # seconds between places
    stop_place: tuple[int, ...]
    pickup_place: tuple[int, ...]
    delivery_place: tuple[int, ...]
    start_place: tuple[int | None, ...]
    end_place: tuple[int | None, ...]
    whole: bool = False  # every finite value is a whole number (computed travel)

    def distance(self, a: int | None, b: int | None) -> float:
        return 0.0 if a is None or b is None else float(self.distances[a, b])

    def duration(self, a: int | None, b: int | None) -> float:
        return 0.0 if a is None or b is None else float(self.durations[a, b])

    @classmethod
    def of(cls, problem: Problem) -> Travel:
        speed = problem.options.speed_kmh / 3.6  # metres per second
        if problem.matrix is not None:
            return cls._from_matrix(problem, speed)
        return cls._from_coordinates(problem, speed)

    @classmethod
    def _from_matrix(cls, problem: Problem, speed: float) -> Travel:
        m = problem.matrix
        assert m is not None
        dist = _matrix(m.distances) if m.distances is not None else None
        dur = _matrix(m.durations) if m.durations is not None else None
        if dist is None:
            dist = dur * speed
        if dur is None:
            dur = dist / speed
        return cls(
            distances=dist,
            durations=dur,
            stop_place=tuple(s.location_index for s in problem.stops),
            pickup_place=tuple(s.pickup.location_index for s in problem.shipments),
            delivery_place=tuple(s.delivery.location_index for s in problem.shipments),
            start_place=tuple(v.start_index for v in problem.vehicles),
            end_place=tuple(v.end_index for v in problem.vehicles),
        )

    @classmethod
    def _from_coordinates(cls, problem: Problem, speed: float) -> Travel:
        points, index = _places(problem)
        array = np.array(points, dtype=np.float64).reshape(len(points), 2)
        # computed travel is kept to whole metres and seconds: finer would be false precision
        dist = np.rint(great_circle(array), out=None)
        durations = np.rint(dist / speed)
        return cls(dist, durations, *index, whole=True)


def places(problem: Problem) -> list[tuple[float, float]]:
    """The distinct (lon, lat) places of a problem with coordinates, in the order its travel
    matrices follow: stops, pickups, deliveries, vehicle starts, vehicle ends."""
    return _places(problem)[0]


def placed(problem: Problem):
    """``places(problem)``, and the index of each stop's, pickup's, delivery's, vehicle start's
    and vehicle end's place among them (``None``: a vehicle without a start or an end)."""
    return _places(problem)


def _places(problem: Problem):
    index: dict[tuple[float, float], int] = {}

    def place(point):
        if point is None:
            return None
        return index.setdefault(tuple(point), len(index))

    where = (
        tuple(place(s.location) for s in problem.stops),
        tuple(place(s.pickup.location) for s in problem.shipments),
        tuple(place(s.delivery.location) for s in problem.shipments),
        tuple(place(v.start) for v in problem.vehicles),
        tuple(place(v.end) for v in problem.vehicles),
    )
    return list(index), where
