"""The fastest path between two snapped places on the plain graph (numba Dijkstra).

The search starts from the source segment's nodes with their offsets and stops once no
target seed (the target segment's nodes, plus the rest of the segment) can improve.

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

    def path(self, source, target) -> tuple[np.ndarray, float, float] | None:
        """(nodes on the way, seconds, metres) between two places given as seeds
        (nodes, seconds, metres; 2 each), or None without a route."""
        nodes, seconds, metres = _path(self.first, self.to, self.w, self.d,
                                       *(np.ascontiguousarray(x, dtype=np.float64 if k else np.int64)
                                         for seeds in (source, target) for k, x in enumerate(seeds)))
        return None if len(nodes) == 0 else (nodes, seconds, metres)


@njit(cache=True, nogil=True)
def _path(first, to, w, d, s_nodes, s_w, s_d, t_nodes, t_w, t_d):
    n = len(first) - 1
    dist = np.full(n, np.inf)
    metres = np.zeros(n)
    parent = np.full(n, -1, np.int64)
    hkeys = np.zeros(len(to) + 2)
    hvals = np.zeros(len(to) + 2, np.int64)
    size = 0
    for k in range(len(s_nodes)):
        if s_w[k] < dist[s_nodes[k]]:
            dist[s_nodes[k]] = s_w[k]
            metres[s_nodes[k]] = s_d[k]
            size = push(hkeys, hvals, size, s_w[k], s_nodes[k])
    best, best_metres, target = np.inf, np.inf, -1
    while size > 0:
        key, u, size = pop(hkeys, hvals, size)
        if key > dist[u]:
            continue
        if key >= best:
            break
        for k in range(len(t_nodes)):
            if t_nodes[k] == u and key + t_w[k] < best:
                best, best_metres, target = key + t_w[k], metres[u] + t_d[k], u
        for k in range(first[u], first[u + 1]):
            x = to[k]
            nd = key + w[k]
            if nd < dist[x]:
                dist[x] = nd
                metres[x] = metres[u] + d[k]
                parent[x] = u
                size = push(hkeys, hvals, size, nd, x)
    if target < 0:
        return np.zeros(0, np.int64), np.inf, np.inf
    count = 1
    v = target
    while parent[v] >= 0:
        v = parent[v]
        count += 1
    nodes = np.zeros(count, np.int64)
    v = target
    for k in range(count - 1, -1, -1):
        nodes[k] = v
        v = parent[v]
    return nodes, best, best_metres
