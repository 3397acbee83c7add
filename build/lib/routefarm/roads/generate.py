"""A generated city as an .osm.pbf: streets on a jittered grid, arterials, one-way
residential streets, and a meandering river crossed only by a few bridges.

Every ``arterial_every``-th row and column is a primary road (maxspeed 60, the bridges
too), every ``oneway_every``-th other row and column is one-way (directions alternate),
the rest are residential streets without maxspeed. Used by the bench and the tests to
reach city sizes that no shipped extract has; the output is an ordinary OSM file.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

METRES_PER_DEGREE = 111_195.0


@dataclass(frozen=True)
class CityPlan:
    rows: int = 707
    columns: int = 707
    block_m: float = 90.0
    arterial_every: int = 10
    oneway_every: int = 4
    bridges: int = 8
    origin: tuple[float, float] = (24.60, 60.05)  # lon, lat of the south-west corner
    seed: int = 7

    @property
    def nodes(self) -> int:
        return self.rows * self.columns


def write_city(plan: CityPlan, path: str | Path) -> Path:
    """Write the city as an OSM file (format from the suffix, e.g. .osm.pbf); returns path."""
    import osmium

    path = Path(path)
    if path.exists():
        path.unlink()
    lon, lat = _locations(plan)
    side = _river_side(plan)
    bridge_rows = set(np.linspace(0, plan.rows - 1, plan.bridges + 2)[1:-1].astype(int).tolist())
    writer = osmium.SimpleWriter(str(path))
    try:
        for node in range(plan.nodes):
            writer.add_node(osmium.osm.mutable.Node(
                id=node + 1, location=(float(lon[node]), float(lat[node]))))
        way_id = 1
        for ids, tags in _ways(plan, side, bridge_rows):
            writer.add_way(osmium.osm.mutable.Way(id=way_id, nodes=ids, tags=tags))
            way_id += 1
    finally:
        writer.close()
    return path


def _locations(plan: CityPlan) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(plan.seed)
    lon0, lat0 = plan.origin
    row, col = np.divmod(np.arange(plan.nodes), plan.columns)
    jitter = rng.uniform(-0.15, 0.15, size=(2, plan.nodes)) * plan.block_m
    north = row * plan.block_m + jitter[0]
    east = col * plan.block_m + jitter[1]
    lat = lat0 + north / METRES_PER_DEGREE
    lon = lon0 + east / (METRES_PER_DEGREE * math.cos(math.radians(lat0)))
    return lon, lat


def _river_side(plan: CityPlan) -> np.ndarray:
    """For each node, whether it lies east of the river (a sine wave across the columns)."""
    row, col = np.divmod(np.arange(plan.nodes), plan.columns)
    x = plan.columns / 2 + 0.5 + plan.columns / 12 * np.sin(row / max(plan.rows, 1) * 3 * math.pi)
    return col > x


def _street_tags(index: int, plan: CityPlan) -> dict[str, str]:
    if index % plan.arterial_every == 0:
        return {"highway": "primary", "maxspeed": "60", "name": f"Arterial {index}"}
    tags = {"highway": "residential"}
    if index % plan.oneway_every == 1:
        tags["oneway"] = "yes" if (index // plan.oneway_every) % 2 else "-1"
    return tags


def _ways(plan: CityPlan, side: np.ndarray, bridge_rows: set[int]):
    """(node ids, tags) of every street piece: rows, then columns, cut at the river."""
    grid = np.arange(plan.nodes).reshape(plan.rows, plan.columns)
    lines = [(grid[r], r, r in bridge_rows) for r in range(plan.rows)]
    lines += [(grid[:, c], c, False) for c in range(plan.columns)]
    for nodes, index, bridge in lines:
        tags = {"highway": "primary", "maxspeed": "60", "bridge": "yes"} if bridge else _street_tags(index, plan)
        cuts = np.flatnonzero(side[nodes[1:]] != side[nodes[:-1]]) + 1
        pieces = [nodes] if bridge else np.split(nodes, cuts)
        for piece in pieces:
            if len(piece) >= 2:
                yield (piece + 1).tolist(), tags
