"""A problem with coordinates priced on given travel matrices (road travel times).

``on_roads(problem, durations, distances)`` returns the same problem over a matrix: every
coordinate becomes the index of its place in ``travel.places(problem)``, and the matrices
(seconds and metres between those places; ``inf`` where no road leads) become the problem's
``matrix`` with ``null`` cells. Every engine then solves it as any matrix problem, and the
checker audits the solution against the same numbers. Pure: the matrices come from the
caller (a road source).
"""

from __future__ import annotations

import math

import numpy as np

from .model import Matrix, Problem
from .travel import places


def on_roads(problem: Problem, durations: np.ndarray, distances: np.ndarray) -> Problem:
    points = places(problem)
    n = len(points)
    if np.shape(durations) != (n, n) or np.shape(distances) != (n, n):
        raise ValueError(f"travel matrices of {np.shape(durations)} and {np.shape(distances)} for {n} places")
    index = {point: k for k, point in enumerate(points)}

    def at(point):
        return None if point is None else index[tuple(point)]

    stops = [s.model_copy(update={"location": None, "location_index": at(s.location)}) for s in problem.stops]
    shipments = [s.model_copy(update={
        "pickup": s.pickup.model_copy(update={"location": None, "location_index": at(s.pickup.location)}),
        "delivery": s.delivery.model_copy(update={"location": None, "location_index": at(s.delivery.location)}),
    }) for s in problem.shipments]
    vehicles = [v.model_copy(update={"start": None, "end": None, "start_index": at(v.start),
                                     "end_index": at(v.end)}) for v in problem.vehicles]
    matrix = Matrix.model_construct(distances=_cells(distances), durations=_cells(durations))
    return problem.model_copy(update={"stops": stops, "shipments": shipments, "vehicles": vehicles,
                                      "matrix": matrix, "travel": None})


def _cells(values: np.ndarray) -> list[list[float | None]]:
    return [[x if math.isfinite(x) else None for x in row] for row in np.asarray(values, dtype=np.float64).tolist()]
