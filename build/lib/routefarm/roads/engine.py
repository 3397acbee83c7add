"""One profile's road engine: snap coordinates, tables of the fastest paths, route legs.

A snapped place sits at ``fraction`` of its segment from ``a`` to ``b``. Leaving it, a
vehicle drives the rest of the segment to ``b`` (if ``a -> b`` is an edge) or back to
``a`` (if ``b -> a`` is); arriving, it comes from ``a`` or ``b`` the same way. Two places
on one segment may also be joined along it directly. A place at a node (fraction 0 or 1)
leaves and arrives through that node by any of its edges.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .ch import Hierarchy
from .graph import RoadGraph
from .route import PathFinder
from .snap import Snapped, Snapper
from .table import Seeds, many_to_many


@dataclass(frozen=True, eq=False)
class Leg:
    duration_s: float
    distance_m: float
    coordinates: np.ndarray  # rows of (lon, lat) along the road, from snapped place to place


class RoadEngine:
    def __init__(self, profile: str, graph: RoadGraph, hierarchy: Hierarchy,
                 data_version: str, snap_limit_m: float):
        self.profile = profile
        self.graph = graph
        self.hierarchy = hierarchy
        self.data_version = data_version
        self.snap_limit_m = snap_limit_m
        self._snapper = Snapper(graph)
        self._paths = PathFinder(graph)
        keys = graph.tail.astype(np.int64) * graph.nodes + graph.head
        order = np.argsort(keys)
        self._keys, self._w, self._d = keys[order], graph.duration_s[order], graph.length_m[order]

    def snap(self, points: np.ndarray) -> Snapped:
        """RoadSnapError names the first point farther than the limit from every road."""
        return self._snapper.snap(points, self.snap_limit_m)

    def table(self, snapped: Snapped, sources: np.ndarray, destinations: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray]:
        """(seconds, metres) between the snapped places at these indices; inf: no route."""
        durations, distances = many_to_many(self.hierarchy, self._seeds(snapped, sources, True),
                                            self._seeds(snapped, destinations, False))
        rows, columns, seconds, metres = self._along(snapped, sources, destinations)
        better = seconds < durations[rows, columns]
        durations[rows[better], columns[better]] = seconds[better]
        distances[rows[better], columns[better]] = metres[better]
        return durations, distances

    def legs(self, snapped: Snapped) -> list[Leg | None]:
        """The fastest path between each consecutive pair of snapped places (None: no route)."""
        out: list[Leg | None] = []
        places = np.column_stack((snapped.lon, snapped.lat))
        for k in range(len(places) - 1):
            i, j = np.array([k]), np.array([k + 1])
            found = self._paths.path(*(tuple(x[0] for x in seeds) for seeds in
                                       (self._seeds(snapped, i, True), self._seeds(snapped, j, False))))
            _, _, along_s, along_m = self._along(snapped, i, j)
            direct_s, direct_m = (x[0] if len(x) else np.inf for x in (along_s, along_m))
            if found is None or direct_s <= found[1]:
                if not np.isfinite(direct_s):
                    out.append(None)
                    continue
                nodes, seconds, metres = np.zeros(0, dtype=np.int64), direct_s, direct_m
            else:
                nodes, seconds, metres = found
            inner = np.column_stack((self.graph.lon[nodes], self.graph.lat[nodes]))
            out.append(Leg(float(seconds), float(metres), np.vstack((places[k], inner, places[k + 1]))))
        return out

    def _edge(self, u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(seconds, metres) of the edges u -> v; inf where there is none."""
        keys = u * self.graph.nodes + v
        at = np.minimum(np.searchsorted(self._keys, keys), len(self._keys) - 1)
        found = self._keys[at] == keys
        return np.where(found, self._w[at], np.inf), np.where(found, self._d[at], np.inf)

    def _seeds(self, snapped: Snapped, which: np.ndarray, leaving: bool) -> Seeds:
        a, b, f = snapped.a[which], snapped.b[which], snapped.fraction[which]
        ab_s, ab_m = self._edge(a, b)
        ba_s, ba_m = self._edge(b, a)
        if leaving:  # drive on to b, or back to a
            parts = ((b, 1 - f, ab_s, ab_m), (a, f, ba_s, ba_m))
        else:  # arrive from a, or from b
            parts = ((a, f, ab_s, ab_m), (b, 1 - f, ba_s, ba_m))
        nodes = np.column_stack([p[0] for p in parts])
        seconds = np.column_stack([_part(share, s) for _, share, s, _ in parts])
        metres = np.column_stack([_part(share, m) for _, share, _, m in parts])
        return nodes, seconds, metres

    def _along(self, snapped: Snapped, sources: np.ndarray, destinations: np.ndarray):
        """(rows, columns, seconds, metres) of the pairs on one segment, joined along it."""
        n = self.graph.nodes
        source_keys = snapped.a[sources] * n + snapped.b[sources]
        target_keys = snapped.a[destinations] * n + snapped.b[destinations]
        order = np.argsort(target_keys, kind="stable")
        low = np.searchsorted(target_keys[order], source_keys, "left")
        counts = np.searchsorted(target_keys[order], source_keys, "right") - low
        rows = np.repeat(np.arange(len(sources)), counts)
        columns = order[np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
                        + np.repeat(low, counts)]
        i, j = sources[rows], destinations[columns]
        a, b = snapped.a[i], snapped.b[i]
        ahead = snapped.fraction[j] - snapped.fraction[i]  # > 0: towards b
        seconds = np.full(len(rows), np.inf)
        metres = np.full(len(rows), np.inf)
        for (s, m), share in ((self._edge(a, b), ahead), (self._edge(b, a), -ahead)):
            cost = np.where(share >= 0, _part(np.maximum(share, 0), s), np.inf)
            take = cost < seconds
            seconds = np.where(take, cost, seconds)
            metres = np.where(take, _part(np.maximum(share, 0), m), metres)
        return rows, columns, seconds, metres


def _part(share: np.ndarray, value: np.ndarray) -> np.ndarray:
    """share * value; 0 at the node itself (share 0), else inf where the edge is missing."""
    finite = np.isfinite(value)
    return np.where(share == 0, 0.0, np.where(finite, share * np.where(finite, value, 0.0), np.inf))
