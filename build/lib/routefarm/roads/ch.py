"""Contraction hierarchies: node order and shortcuts, built in numba.

Nodes are contracted one at a time, cheapest first (edge difference, contracted
neighbours, level; lazily re-evaluated when popped). Contracting ``v`` adds a shortcut
``u -> x`` for each pair of remaining neighbours unless a witness search (a Dijkstra
bounded by ``settle_limit`` settled nodes that avoids ``v``) finds a path no slower.
Every edge and shortcut carries its duration and its length, so a query adds up the
length of the fastest path exactly as it adds up its duration (as OSRM does).

The result is two upward graphs in CSR form (``Hierarchy``): ``up`` holds ``v -> x`` for
``rank[x] > rank[v]``, ``down`` holds ``u -> v`` stored at ``v`` for ``rank[u] > rank[v]``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from .heap import pop, push

SETTLE_LIMIT = 400
WITNESS_HEAP = 1 << 16


@dataclass(frozen=True, eq=False)
class Hierarchy:
    rank: np.ndarray  # int32, contraction order of each node
    up_first: np.ndarray  # int64, n + 1
    up_to: np.ndarray  # int32
    up_w: np.ndarray  # float64 seconds
    up_d: np.ndarray  # float64 metres
    down_first: np.ndarray
    down_from: np.ndarray
    down_w: np.ndarray
    down_d: np.ndarray

    FIELDS = ("rank", "up_first", "up_to", "up_w", "up_d",
              "down_first", "down_from", "down_w", "down_d")

    def arrays(self) -> dict[str, np.ndarray]:
        return {f"ch_{name}": getattr(self, name) for name in self.FIELDS}

    @classmethod
    def from_arrays(cls, arrays) -> Hierarchy:
        return cls(**{name: arrays[f"ch_{name}"] for name in cls.FIELDS})


def build_hierarchy(n: int, tail: np.ndarray, head: np.ndarray, duration: np.ndarray,
                    length: np.ndarray, settle_limit: int = SETTLE_LIMIT) -> Hierarchy:
    """Contract the graph of ``n`` nodes and directed edges (tail, head, seconds, metres)."""
    tail = np.ascontiguousarray(tail, dtype=np.int64)
    head = np.ascontiguousarray(head, dtype=np.int64)
    w = np.ascontiguousarray(duration, dtype=np.float64)
    d = np.ascontiguousarray(length, dtype=np.float64)
    pool = max(64, 8 * len(tail))
    while True:
        result = _contract(n, tail, head, w, d, pool, settle_limit)
        if result[0][0] >= 0:
            break
        pool *= 2
    rank, e_from, e_to, e_w, e_d, e_up = result
    up, down = e_up, ~e_up
    up_first, up_order = _csr(n, e_from[up])
    down_first, down_order = _csr(n, e_to[down])
    return Hierarchy(
        rank=rank.astype(np.int32),
        up_first=up_first, up_to=e_to[up][up_order].astype(np.int32),
        up_w=e_w[up][up_order], up_d=e_d[up][up_order],
        down_first=down_first, down_from=e_from[down][down_order].astype(np.int32),
        down_w=e_w[down][down_order], down_d=e_d[down][down_order])


def _csr(n: int, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(keys, kind="stable")
    first = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(keys, minlength=n), out=first[1:])
    return first, order


@njit(cache=True)
def _append(start, length, cap, to, w, d, top, node, x, ww, dd):
    """Append x to node's list in a pool of blocks; False when the pool is full."""
    if length[node] == cap[node]:
        new_cap = max(4, 2 * cap[node])
        if top[0] + new_cap > len(to):
            return False
        s, t = start[node], top[0]
        for k in range(length[node]):
            to[t + k] = to[s + k]
            w[t + k] = w[s + k]
            d[t + k] = d[s + k]
        start[node] = t
        cap[node] = new_cap
        top[0] += new_cap
    k = start[node] + length[node]
    to[k] = x
    w[k] = ww
    d[k] = dd
    length[node] += 1
    return True


@njit(cache=True)
def _upsert(start, length, cap, to, w, d, top, node, x, ww, dd):
    """Set node -> x to (ww, dd) unless an edge as fast is there; False when the pool is full."""
    for k in range(start[node], start[node] + length[node]):
        if to[k] == x:
            if ww < w[k]:
                w[k] = ww
                d[k] = dd
            return True
    return _append(start, length, cap, to, w, d, top, node, x, ww, dd)


@njit(cache=True)
def _live(start, length, to, w, d, done, node):
    """Drop contracted neighbours from node's list (swap-remove); returns its length."""
    k = start[node]
    end = k + length[node]
    while k < end:
        if done[to[k]]:
            end -= 1
            to[k], w[k], d[k] = to[end], w[end], d[end]
        else:
            k += 1
    length[node] = end - start[node]
    return length[node]


@njit(cache=True)
def _witness(src, avoid, limit, settle_limit, o_start, o_len, o_to, o_w, done,
             dist, touched, hkeys, hvals):
    """Bounded Dijkstra from src avoiding one node; distances stay in dist (touched lists them)."""
    n_touched = 0
    dist[src] = 0.0
    touched[n_touched] = src
    n_touched += 1
    size = push(hkeys, hvals, 0, 0.0, src)
    settled = 0
    while size > 0:
        key, u, size = pop(hkeys, hvals, size)
        if key > dist[u]:
            continue
        if key > limit or settled >= settle_limit:
            break
        settled += 1
        for k in range(o_start[u], o_start[u] + o_len[u]):
            x = o_to[k]
            if x == avoid or done[x]:
                continue
            nd = key + o_w[k]
            if nd < dist[x] and nd <= limit:
                if dist[x] == np.inf:
                    if n_touched == len(touched):
                        continue
                    touched[n_touched] = x
                    n_touched += 1
                dist[x] = nd
                if size < len(hkeys):
                    size = push(hkeys, hvals, size, nd, x)
    return n_touched


@njit(cache=True)
def _contract(n, tail, head, w0, d0, pool, settle_limit):
    fail = (np.full(1, -1, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64),
            np.zeros(0), np.zeros(0), np.zeros(0, np.bool_))
    lists = []
    for _ in range(2):  # out lists, then in lists
        lists.append((np.zeros(n, np.int64), np.zeros(n, np.int64), np.zeros(n, np.int64),
                      np.zeros(pool, np.int64), np.zeros(pool), np.zeros(pool), np.zeros(1, np.int64)))
    os_, ol, oc, ot, ow, od, otop = lists[0]
    is_, il, ic, it, iw, idd, itop = lists[1]
    for e in range(len(tail)):
        if not _upsert(os_, ol, oc, ot, ow, od, otop, tail[e], head[e], w0[e], d0[e]):
            return fail
        if not _upsert(is_, il, ic, it, iw, idd, itop, head[e], tail[e], w0[e], d0[e]):
            return fail
    done = np.zeros(n, np.bool_)
    rank = np.full(n, -1, np.int64)
    level = np.zeros(n, np.int64)
    deleted = np.zeros(n, np.int64)
    dist = np.full(n, np.inf)
    touched = np.zeros(4 * settle_limit + 64, np.int64)
    hkeys = np.zeros(WITNESS_HEAP)
    hvals = np.zeros(WITNESS_HEAP, np.int64)
    cap = 2 * len(tail) + 16
    e_from = np.zeros(cap, np.int64)
    e_to = np.zeros(cap, np.int64)
    e_w = np.zeros(cap)
    e_d = np.zeros(cap)
    e_up = np.zeros(cap, np.bool_)
    n_edges = 0
    qkeys = np.zeros(2 * n + 1)
    qvals = np.zeros(2 * n + 1, np.int64)
    qsize = 0
    for v in range(n):
        qsize = push(qkeys, qvals, qsize, 0.0, v)
    next_rank = 0
    while qsize > 0:
        key, v, qsize = pop(qkeys, qvals, qsize)
        if done[v]:
            continue
        n_in = _live(is_, il, it, iw, idd, done, v)
        n_out = _live(os_, ol, ot, ow, od, done, v)
        for phase in range(2):  # 0: count the shortcuts, 1: add them
            shortcuts = 0
            for a in range(is_[v], is_[v] + n_in):
                u = it[a]
                limit = -1.0
                for b in range(os_[v], os_[v] + n_out):
                    if ot[b] != u:
                        limit = max(limit, iw[a] + ow[b])
                if limit < 0.0:
                    continue
                n_touched = _witness(u, v, limit, settle_limit, os_, ol, ot, ow, done,
                                     dist, touched, hkeys, hvals)
                for b in range(os_[v], os_[v] + n_out):
                    x = ot[b]
                    if x != u and dist[x] > iw[a] + ow[b]:
                        shortcuts += 1
                        if phase == 1:
                            ok = _upsert(os_, ol, oc, ot, ow, od, otop, u, x, iw[a] + ow[b], idd[a] + od[b])
                            ok = ok and _upsert(is_, il, ic, it, iw, idd, itop, x, u, iw[a] + ow[b], idd[a] + od[b])
                            if not ok:
                                return fail
                for k in range(n_touched):
                    dist[touched[k]] = np.inf
            if phase == 0:
                priority = 4.0 * (shortcuts - n_in - n_out) + 2.0 * deleted[v] + level[v]
                if qsize > 0 and priority > qkeys[0]:
                    qsize = push(qkeys, qvals, qsize, priority, v)
                    break
                if n_edges + n_in + n_out > cap:
                    grow = cap + n_in + n_out
                    e_from = np.concatenate((e_from, np.zeros(grow, np.int64)))
                    e_to = np.concatenate((e_to, np.zeros(grow, np.int64)))
                    e_w = np.concatenate((e_w, np.zeros(grow)))
                    e_d = np.concatenate((e_d, np.zeros(grow)))
                    e_up = np.concatenate((e_up, np.zeros(grow, np.bool_)))
                    cap += grow
                for b in range(os_[v], os_[v] + n_out):  # v -> x, upward
                    e_from[n_edges], e_to[n_edges], e_w[n_edges], e_d[n_edges] = v, ot[b], ow[b], od[b]
                    e_up[n_edges] = True
                    n_edges += 1
                for a in range(is_[v], is_[v] + n_in):  # u -> v, stored at v
                    e_from[n_edges], e_to[n_edges], e_w[n_edges], e_d[n_edges] = it[a], v, iw[a], idd[a]
                    e_up[n_edges] = False
                    n_edges += 1
        else:
            done[v] = True
            rank[v] = next_rank
            next_rank += 1
            for a in range(is_[v], is_[v] + n_in):
                deleted[it[a]] += 1
                level[it[a]] = max(level[it[a]], level[v] + 1)
            for b in range(os_[v], os_[v] + n_out):
                deleted[ot[b]] += 1
                level[ot[b]] = max(level[ot[b]], level[v] + 1)
    return rank, e_from[:n_edges], e_to[:n_edges], e_w[:n_edges], e_d[:n_edges], e_up[:n_edges]
