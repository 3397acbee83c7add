"""Reading the ways of an .osm.pbf (or .osm) with pyosmium: node ids, locations and tags.

Only ways with a ``highway`` tag are kept, with the tags the profiles read. A way node
whose location the file lacks (a way cut at an extract's edge) gets NaN coordinates;
the segments that touch it are dropped when the graph is built.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

KEPT_TAGS = frozenset({
    "highway", "area", "oneway", "junction", "maxspeed", "maxspeed:forward", "maxspeed:backward",
    "access", "vehicle", "motor_vehicle", "motorcar", "hgv", "goods",
    "maxweight", "maxweight:hgv", "maxheight", "maxlength", "maxwidth",
})


@dataclass(frozen=True, eq=False)
class OsmWays:
    node_ids: np.ndarray  # int64, the nodes of every way one after another
    lon: np.ndarray  # float64 degrees, NaN where the file has no location
    lat: np.ndarray
    offsets: np.ndarray  # int64, way k is node_ids[offsets[k]:offsets[k + 1]]
    tags: list[dict[str, str]]


def read_ways(path: str | Path) -> OsmWays:
    import osmium

    ids: list[int] = []
    lon: list[float] = []
    lat: list[float] = []
    offsets = [0]
    tags: list[dict[str, str]] = []
    processor = osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY).with_locations()
    for obj in processor:
        if not obj.is_way() or "highway" not in obj.tags:
            continue
        for node in obj.nodes:
            location = node.location
            ids.append(node.ref)
            if location.valid():
                lon.append(location.lon)
                lat.append(location.lat)
            else:
                lon.append(np.nan)
                lat.append(np.nan)
        offsets.append(len(ids))
        tags.append({tag.k: tag.v for tag in obj.tags if tag.k in KEPT_TAGS})
    return OsmWays(np.array(ids, dtype=np.int64), np.array(lon, dtype=np.float64),
                   np.array(lat, dtype=np.float64), np.array(offsets, dtype=np.int64), tags)
