"""Snapping coordinates to the nearest node of the profile's graph (a KD-tree, scipy.spatial).

Points and nodes are placed on the unit sphere, so the tree's chord distance orders
them as the great circle does; the reported distance is the great-circle metres.
A point farther than the limit from every road raises ``RoadSnapError`` naming it.
"""

from __future__ import annotations

import numpy as np

from ..errors import RoadSnapError
from .graph import haversine_m


def _unit(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    lon, lat = np.radians(lon), np.radians(lat)
    return np.column_stack((np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)))


class Snapper:
    def __init__(self, lon: np.ndarray, lat: np.ndarray):
        from scipy.spatial import cKDTree

        self.lon = lon
        self.lat = lat
        self._tree = cKDTree(_unit(lon, lat))

    def snap(self, points: np.ndarray, limit_m: float) -> tuple[np.ndarray, np.ndarray]:
        """(node index, metres to it) for rows of (lon, lat); RoadSnapError past limit_m."""
        points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        if len(points) == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        _, nodes = self._tree.query(_unit(points[:, 0], points[:, 1]))
        metres = haversine_m(points[:, 0], points[:, 1], self.lon[nodes], self.lat[nodes])
        far = np.flatnonzero(metres > limit_m)
        if len(far):
            i = int(far[0])
            raise RoadSnapError(i, float(metres[i]), limit_m)
        return nodes.astype(np.int64), metres


