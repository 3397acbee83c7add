"""Many-to-many tables over a contraction hierarchy (numba, bucket algorithm).

Each destination runs an upward search on ``down`` (who reaches it, through nodes of
higher rank) and leaves (destination, seconds, metres) in a bucket at every node it
settles; each source runs an upward search on ``up`` and scans the buckets of the nodes
it settles. A place on a segment starts its search from the segment's two nodes with
their offsets (seeds: ``nodes``, ``seconds``, ``metres`` of shape (places, 2), ``inf``
seconds for a direction the segment cannot be driven). Both searches stall on demand (a node reached more cheaply from above is
not expanded). Durations and distances come back as float64, ``inf`` where no route.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .ch import Hierarchy
from .heap import pop, push

Seeds = tuple[np.ndarray, np.ndarray, np.ndarray]  # nodes, seconds, metres; each (places, 2)


def many_to_many(ch: Hierarchy, sources: Seeds, destinations: Seeds) -> tuple[np.ndarray, np.ndarray]:
    """(seconds, metres) from every source to every destination, through the graph."""
    def flat(seeds: Seeds):
        nodes, seconds, metres = seeds
        return (np.ascontiguousarray(nodes, dtype=np.int64).reshape(-1, 2),
                np.ascontiguousarray(seconds, dtype=np.float64).reshape(-1, 2),
                np.ascontiguousarray(metres, dtype=np.float64).reshape(-1, 2))

    return _table(ch.up_first, ch.up_to, ch.up_w, ch.up_d,
                  ch.down_first, ch.down_from, ch.down_w, ch.down_d, *flat(sources), *flat(destinations))


@njit(cache=True, nogil=True)
def _search(seed_nodes, seed_w, seed_d, first, to, w, d, other_first, other_to, other_w,
            dist, dd, order, settled, hkeys, hvals):
    """Upward Dijkstra with stall-on-demand: (nodes reached, listed in order; nodes settled,
    listed in settled). Labels stay in dist and dd until the caller resets them."""
    n_seen = 0
    size = 0
    for s in range(len(seed_nodes)):
        src = seed_nodes[s]
        if seed_w[s] < dist[src]:
            if dist[src] == np.inf:
                order[n_seen] = src
                n_seen += 1
            dist[src] = seed_w[s]
            dd[src] = seed_d[s]
            size = push(hkeys, hvals, size, seed_w[s], src)
    n_settled = 0
    while size > 0:
        key, u, size = pop(hkeys, hvals, size)
        if key > dist[u]:
            continue
        stalled = False
        for k in range(other_first[u], other_first[u + 1]):
            y = other_to[k]
            if dist[y] + other_w[k] < key:
                stalled = True
                break
        if stalled:
            continue
        settled[n_settled] = u
        n_settled += 1
        for k in range(first[u], first[u + 1]):
            x = to[k]
            nd = key + w[k]
            if nd < dist[x]:
                if dist[x] == np.inf:
                    order[n_seen] = x
                    n_seen += 1
                dist[x] = nd
                dd[x] = dd[u] + d[k]
                size = push(hkeys, hvals, size, nd, x)
    return n_seen, n_settled


@njit(cache=True, nogil=True)
def _table(up_first, up_to, up_w, up_d, down_first, down_from, down_w, down_d,
           s_nodes, s_w, s_d, t_nodes, t_w, t_d):
    n = len(up_first) - 1
    dist = np.full(n, np.inf)
    dd = np.zeros(n)
    order = np.zeros(n, np.int64)
    settled = np.zeros(n, np.int64)
    hkeys = np.zeros(len(up_to) + len(down_from) + 2)
    hvals = np.zeros(len(hkeys), np.int64)
    # destinations: backward searches fill the buckets
    b_node = np.zeros(64 * len(t_nodes) + 16, np.int64)
    b_target = np.zeros(len(b_node), np.int64)
    b_w = np.zeros(len(b_node))
    b_d = np.zeros(len(b_node))
    n_b = 0
    for j in range(len(t_nodes)):
        n_seen, n_settled = _search(t_nodes[j], t_w[j], t_d[j], down_first, down_from, down_w, down_d,
                                    up_first, up_to, up_w, dist, dd, order, settled, hkeys, hvals)
        if n_b + n_settled > len(b_node):
            grow = max(len(b_node), n_settled)
            b_node = np.concatenate((b_node, np.zeros(grow, np.int64)))
            b_target = np.concatenate((b_target, np.zeros(grow, np.int64)))
            b_w = np.concatenate((b_w, np.zeros(grow)))
            b_d = np.concatenate((b_d, np.zeros(grow)))
        for k in range(n_settled):
            v = settled[k]
            b_node[n_b], b_target[n_b], b_w[n_b], b_d[n_b] = v, j, dist[v], dd[v]
            n_b += 1
        for k in range(n_seen):
            dist[order[k]] = np.inf
    # buckets by node (counting sort)
    b_first = np.zeros(n + 1, np.int64)
    for k in range(n_b):
        b_first[b_node[k] + 1] += 1
    for v in range(n):
        b_first[v + 1] += b_first[v]
    fill = b_first[:-1].copy()
    bk_target = np.zeros(n_b, np.int64)
    bk_w = np.zeros(n_b)
    bk_d = np.zeros(n_b)
    for k in range(n_b):
        p = fill[b_node[k]]
        fill[b_node[k]] += 1
        bk_target[p], bk_w[p], bk_d[p] = b_target[k], b_w[k], b_d[k]
    # sources: forward searches scan the buckets
    durations = np.full((len(s_nodes), len(t_nodes)), np.inf)
    distances = np.full((len(s_nodes), len(t_nodes)), np.inf)
    for i in range(len(s_nodes)):
        n_seen, n_settled = _search(s_nodes[i], s_w[i], s_d[i], up_first, up_to, up_w, up_d,
                                    down_first, down_from, down_w, dist, dd, order, settled, hkeys, hvals)
        row_w = durations[i]
        row_d = distances[i]
        for k in range(n_settled):
            v = settled[k]
            dv = dist[v]
            for p in range(b_first[v], b_first[v + 1]):
                total = dv + bk_w[p]
                j = bk_target[p]
                if total < row_w[j]:
                    row_w[j] = total
                    row_d[j] = dd[v] + bk_d[p]
        for k in range(n_seen):
            dist[order[k]] = np.inf
    return durations, distances
