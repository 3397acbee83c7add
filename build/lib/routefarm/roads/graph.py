"""The road graph of one profile: nodes with locations, directed edges with metres and seconds.

``road_graph(ways, profile)`` turns each consecutive pair of way nodes into one edge per
direction the profile may drive, keeps the fastest of parallel edges, and (by default)
only the largest strongly connected component, so that every node can reach and be
reached from every other one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .osm import OsmWays
from .profiles import Profile, speeds

EARTH_RADIUS_M = 6_371_008.8


@dataclass(frozen=True, eq=False)
class RoadGraph:
    lon: np.ndarray  # float64 degrees, per node
    lat: np.ndarray
    tail: np.ndarray  # int32, per edge
    head: np.ndarray
    length_m: np.ndarray  # float64
    duration_s: np.ndarray  # float64

    FIELDS = ("lon", "lat", "tail", "head", "length_m", "duration_s")

    @property
    def nodes(self) -> int:
        return len(self.lon)

    @property
    def edges(self) -> int:
        return len(self.tail)

    def arrays(self) -> dict[str, np.ndarray]:
        return {f"graph_{name}": getattr(self, name) for name in self.FIELDS}

    @classmethod
    def from_arrays(cls, arrays) -> RoadGraph:
        return cls(**{name: arrays[f"graph_{name}"] for name in cls.FIELDS})


def haversine_m(lon1, lat1, lon2, lat2) -> np.ndarray:
    lon1, lat1, lon2, lat2 = (np.radians(np.asarray(x, dtype=np.float64)) for x in (lon1, lat1, lon2, lat2))
    h = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def road_graph(ways: OsmWays, profile: Profile, largest_component: bool = True) -> RoadGraph:
    """The profile's graph of the ways; ValueError when no road of the file suits it."""
    cache: dict[tuple, tuple[float, float]] = {}
    way_speeds = np.zeros((len(ways.tags), 2))
    for k, tags in enumerate(ways.tags):
        key = tuple(sorted(tags.items()))
        if key not in cache:
            cache[key] = speeds(tags, profile)
        way_speeds[k] = cache[key]
    counts = np.diff(ways.offsets)
    way_of_node = np.repeat(np.arange(len(counts)), counts)
    a = np.arange(len(ways.node_ids) - 1)
    same_way = way_of_node[a] == way_of_node[a + 1]
    located = ~(np.isnan(ways.lon[a]) | np.isnan(ways.lon[a + 1]))
    distinct = ways.node_ids[a] != ways.node_ids[a + 1]
    a = a[same_way & located & distinct]
    b = a + 1
    fwd = way_speeds[way_of_node[a], 0]
    bwd = way_speeds[way_of_node[a], 1]
    length = haversine_m(ways.lon[a], ways.lat[a], ways.lon[b], ways.lat[b])
    tail = np.concatenate((a[fwd > 0], b[bwd > 0]))
    head = np.concatenate((b[fwd > 0], a[bwd > 0]))
    kmh = np.concatenate((fwd[fwd > 0], bwd[bwd > 0]))
    metres = np.concatenate((length[fwd > 0], length[bwd > 0]))
    if len(tail) == 0:
        raise ValueError(f"no road in the file can be used by the {profile.name} profile")
    node_ids, inverse = np.unique(ways.node_ids[np.concatenate((tail, head))], return_inverse=True)
    first = np.zeros(len(node_ids), dtype=np.int64)
    first[inverse] = np.concatenate((tail, head))
    graph = _simple(RoadGraph(
        lon=ways.lon[first], lat=ways.lat[first],
        tail=inverse[: len(tail)].astype(np.int32), head=inverse[len(tail):].astype(np.int32),
        length_m=metres, duration_s=metres / (kmh / 3.6)))
    return strongly_connected(graph) if largest_component else graph


def _simple(graph: RoadGraph) -> RoadGraph:
    """Without self-loops, and with only the fastest of parallel edges."""
    keep = graph.tail != graph.head
    order = np.lexsort((graph.duration_s[keep], graph.head[keep], graph.tail[keep]))
    tail, head = graph.tail[keep][order], graph.head[keep][order]
    first = np.ones(len(tail), dtype=bool)
    first[1:] = (tail[1:] != tail[:-1]) | (head[1:] != head[:-1])
    pick = np.flatnonzero(keep)[order][first]
    return RoadGraph(graph.lon, graph.lat, graph.tail[pick], graph.head[pick],
                     graph.length_m[pick], graph.duration_s[pick])


def strongly_connected(graph: RoadGraph) -> RoadGraph:
    """The largest strongly connected component, nodes renumbered in their old order."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    matrix = csr_matrix((np.ones(graph.edges), (graph.tail, graph.head)), shape=(graph.nodes,) * 2)
    _, labels = connected_components(matrix, directed=True, connection="strong")
    keep = labels == np.bincount(labels).argmax()
    new_index = np.cumsum(keep) - 1
    edges = np.flatnonzero(keep[graph.tail] & keep[graph.head])
    return RoadGraph(graph.lon[keep], graph.lat[keep],
                     new_index[graph.tail[edges]].astype(np.int32),
                     new_index[graph.head[edges]].astype(np.int32),
                     graph.length_m[edges], graph.duration_s[edges])
