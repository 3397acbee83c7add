"""Snapping coordinates onto the nearest road segment of the profile's graph (scipy KD-tree).

Every road segment (a pair of nodes joined by an edge in either direction) is sampled at
most ``spacing_m`` apart; the tree finds the samples nearest a point, and the point is
projected onto each of their segments (locally flat metres) to keep the nearest. The
snapped place lies at ``fraction`` of the way from ``a`` to ``b``, as OSRM's phantom
nodes do. A point farther than the limit raises ``RoadSnapError`` naming it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import RoadSnapError
from .graph import EARTH_RADIUS_M, RoadGraph, haversine_m

CANDIDATES = 8
AT_NODE_M = 0.01  # a place this close to a segment's end is at its node
METRES_PER_DEGREE = np.pi * EARTH_RADIUS_M / 180


@dataclass(frozen=True, eq=False)
class Snapped:
    a: np.ndarray  # int64, first node of each point's segment
    b: np.ndarray  # int64, second node
    fraction: np.ndarray  # float64 in [0, 1], from a to b
    lon: np.ndarray  # the snapped location
    lat: np.ndarray
    distances_m: np.ndarray  # from each point to its snapped location


def _unit(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    lon, lat = np.radians(lon), np.radians(lat)
    return np.column_stack((np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)))


class Snapper:
    def __init__(self, graph: RoadGraph, spacing_m: float = 25.0):
        from scipy.spatial import cKDTree

        low = np.minimum(graph.tail, graph.head).astype(np.int64)
        high = np.maximum(graph.tail, graph.head).astype(np.int64)
        pairs = np.unique(low * graph.nodes + high)
        self.a, self.b = np.divmod(pairs, graph.nodes)
        self.lon, self.lat = graph.lon, graph.lat
        length = haversine_m(self.lon[self.a], self.lat[self.a], self.lon[self.b], self.lat[self.b])
        count = np.maximum(1, np.ceil(length / spacing_m)).astype(np.int64)
        self._segment = np.repeat(np.arange(len(pairs)), count)
        starts = np.cumsum(count) - count
        t = (np.arange(len(self._segment)) - starts[self._segment] + 0.5) / count[self._segment]
        a, b = self.a[self._segment], self.b[self._segment]
        self._tree = cKDTree(_unit(self.lon[a] + t * (self.lon[b] - self.lon[a]),
                                   self.lat[a] + t * (self.lat[b] - self.lat[a])))

    def snap(self, points: np.ndarray, limit_m: float) -> Snapped:
        """The nearest segment place of each (lon, lat) row; RoadSnapError past limit_m."""
        points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        k = min(CANDIDATES, len(self._segment))
        _, samples = self._tree.query(_unit(points[:, 0], points[:, 1]), k=k)
        segments = self._segment[np.asarray(samples).reshape(len(points), k)]
        a, b = self.a[segments], self.b[segments]
        scale = np.cos(np.radians(points[:, 1]))[:, None] * METRES_PER_DEGREE
        ax = (self.lon[a] - points[:, :1]) * scale
        ay = (self.lat[a] - points[:, 1:]) * METRES_PER_DEGREE
        bx = (self.lon[b] - points[:, :1]) * scale
        by = (self.lat[b] - points[:, 1:]) * METRES_PER_DEGREE
        dx, dy = bx - ax, by - ay
        span = dx * dx + dy * dy
        t = np.clip(-(ax * dx + ay * dy) / np.where(span > 0, span, 1.0), 0.0, 1.0)
        length = np.sqrt(span)
        t = np.where(t * length < AT_NODE_M, 0.0, np.where((1 - t) * length < AT_NODE_M, 1.0, t))
        gap = np.hypot(ax + t * dx, ay + t * dy)
        best = gap.argmin(axis=1)
        rows = np.arange(len(points))
        a, b, t = a[rows, best], b[rows, best], t[rows, best]
        lon = self.lon[a] + t * (self.lon[b] - self.lon[a])
        lat = self.lat[a] + t * (self.lat[b] - self.lat[a])
        metres = haversine_m(points[:, 0], points[:, 1], lon, lat)
        far = np.flatnonzero(metres > limit_m)
        if len(far):
            i = int(far[0])
            raise RoadSnapError(i, float(metres[i]), limit_m)
        return Snapped(a, b, t, lon, lat, metres)
