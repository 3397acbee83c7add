"""Building the engines of an OSM file, and keeping what was built for the next start.

A built profile (graph and hierarchy) is saved as ``<cache_dir>/<file stem>-<profile>-<key>.npz``
where the key hashes the file's SHA-256, the profile's fingerprint and the format, so a
changed file or profile never reads a stale graph. The file's SHA-256 is the data version
that the server reports and a job can record.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from .ch import Hierarchy, build_hierarchy
from .engine import RoadEngine
from .graph import RoadGraph, road_graph
from .osm import OsmWays, read_ways
from .profiles import PROFILES
from .settings import EngineSettings

FORMAT = 1


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cache_path(osm_path: Path, profile: str, version: str, settings: EngineSettings) -> Path | None:
    """Where the built profile of this file version is kept (None: not kept)."""
    if settings.cache_dir is None:
        return None
    key = hashlib.sha256(f"{FORMAT}|{version}|{PROFILES[profile].fingerprint()}|"
                         f"{settings.largest_component}".encode()).hexdigest()[:16]
    return Path(settings.cache_dir) / f"{osm_path.name.split('.')[0]}-{profile}-{key}.npz"


def build(ways: OsmWays, profile: str, settings: EngineSettings) -> tuple[RoadGraph, Hierarchy]:
    graph = road_graph(ways, PROFILES[profile], settings.largest_component)
    return graph, build_hierarchy(graph.nodes, graph.tail, graph.head, graph.duration_s, graph.length_m)


def save(path: Path, graph: RoadGraph, hierarchy: Hierarchy) -> None:
    """Write atomically: a concurrent start sees the whole file or none."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, suffix=".npz.part")
    try:
        with os.fdopen(fd, "wb") as handle:
            np.savez(handle, **graph.arrays(), **hierarchy.arrays())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def load_engines(osm_path: Path, profiles: Iterable[str], settings: EngineSettings
                 ) -> dict[str, RoadEngine]:
    """An engine per profile; the file is parsed only when some profile is not cached."""
    version = file_sha256(osm_path)
    ways: list[OsmWays] = []
    engines = {}
    for name in profiles:
        cached = cache_path(osm_path, name, version, settings)
        if cached is not None and cached.exists():
            with np.load(cached) as arrays:
                graph, hierarchy = RoadGraph.from_arrays(arrays), Hierarchy.from_arrays(arrays)
        else:
            if not ways:
                ways.append(read_ways(osm_path))
            graph, hierarchy = build(ways[0], name, settings)
            if cached is not None:
                save(cached, graph, hierarchy)
        engines[name] = RoadEngine(name, graph, hierarchy, version, settings.snap_limit_m)
    return engines
