"""One profile's road engine: snap coordinates, tables of the fastest paths, route legs."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .ch import Hierarchy
from .graph import RoadGraph
from .route import PathFinder
from .snap import Snapper
from .table import many_to_many


@dataclass(frozen=True, eq=False)
class Snapped:
    nodes: np.ndarray  # int64 node index per point
    distances_m: np.ndarray  # metres from each point to its node

    def locations(self, graph: RoadGraph) -> np.ndarray:
        return np.column_stack((graph.lon[self.nodes], graph.lat[self.nodes]))


@dataclass(frozen=True, eq=False)
class Leg:
    duration_s: float
    distance_m: float
    coordinates: np.ndarray  # rows of (lon, lat) along the road, first and last snapped


class RoadEngine:
    def __init__(self, profile: str, graph: RoadGraph, hierarchy: Hierarchy,
                 data_version: str, snap_limit_m: float):
        self.profile = profile
        self.graph = graph
        self.hierarchy = hierarchy
        self.data_version = data_version
        self.snap_limit_m = snap_limit_m
        self._snapper = Snapper(graph.lon, graph.lat)
        self._paths = PathFinder(graph)

    def snap(self, points: np.ndarray) -> Snapped:
        """RoadSnapError names the first point farther than the limit from every road."""
        return Snapped(*self._snapper.snap(points, self.snap_limit_m))

    def table(self, snapped: Snapped, sources: np.ndarray, destinations: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray]:
        """(seconds, metres) between the snapped points at these indices; inf: no route."""
        return many_to_many(self.hierarchy, snapped.nodes[sources], snapped.nodes[destinations])

    def legs(self, snapped: Snapped) -> list[Leg | None]:
        """The fastest path between each consecutive pair of snapped points (None: no route)."""
        out: list[Leg | None] = []
        for a, b in zip(snapped.nodes[:-1], snapped.nodes[1:], strict=True):
            found = self._paths.path(int(a), int(b))
            if found is None:
                out.append(None)
                continue
            nodes, seconds, metres = found
            coordinates = np.column_stack((self.graph.lon[nodes], self.graph.lat[nodes]))
            if len(coordinates) == 1:
                coordinates = np.vstack((coordinates, coordinates))
            out.append(Leg(float(seconds), float(metres), coordinates))
        return out
