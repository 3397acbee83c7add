"""The fastest path between two nodes on the plain graph (numba Dijkstra, stops at the target).

Used for route geometries, where a handful of searches per request is cheap enough on a
city graph and no shortcut needs unpacking.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .graph import RoadGraph
from .heap import pop, push


class PathFinder:
    def __init__(self, graph: RoadGraph):
        order = np.argsort(graph.tail, kind="stable")
        self.first = np.zeros(graph.nodes + 1, dtype=np.int64)
        np.cumsum(np.bincount(graph.tail, minlength=graph.nodes), out=self.first[1:])
        self.to = graph.head[order].astype(np.int64)
        self.w = graph.duration_s[order]
        self.d = graph.length_m[order]

    def path(self, source: int, target: int) -> tuple[np.ndarray, float, float] | None:
        """(nodes from source to target, seconds, metres), or None without a route."""
        nodes, seconds, metres = _path(self.first, self.to, self.w, self.d, source, target)
        return None if len(nodes) == 0 else (nodes, seconds, metres)


@njit(cache=True, nogil=True)
def _path(first, to, w, d, source, target):
    n = len(first) - 1
    dist = np.full(n, np.inf)
    metres = np.zeros(n)
    parent = np.full(n, -1, np.int64)
    hkeys = np.zeros(len(to) + 1)
    hvals = np.zeros(len(to) + 1, np.int64)
    dist[source] = 0.0
    size = push(hkeys, hvals, 0, 0.0, source)
    while size > 0:
        key, u, size = pop(hkeys, hvals, size)
        if key > dist[u]:
            continue
        if u == target:
            break
        for k in range(first[u], first[u + 1]):
            x = to[k]
            nd = key + w[k]
            if nd < dist[x]:
                dist[x] = nd
                metres[x] = metres[u] + d[k]
                parent[x] = u
                size = push(hkeys, hvals, size, nd, x)
    if dist[target] == np.inf:
        return np.zeros(0, np.int64), np.inf, np.inf
    count = 1
    v = target
    while v != source:
        v = parent[v]
        count += 1
    nodes = np.zeros(count, np.int64)
    v = target
    for k in range(count - 1, -1, -1):
        nodes[k] = v
        v = parent[v]
    return nodes, dist[target], metres[target]
