"""Typed settings of the road engine and its server, filled in by the command's entry point."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class EngineSettings:
    snap_limit_m: float = 1000.0  # a point farther than this from every road is an error
    cache_dir: Path | None = None  # built graphs are kept here (None: not kept)
    largest_component: bool = True  # keep only the largest strongly connected component


@dataclass(frozen=True)
class ServerSettings:
    host: str = "127.0.0.1"
    port: int = 5000
    max_table_size: int = 1000  # coordinates in one table request (as osrm-routed's option)
    max_route_size: int = 500  # coordinates in one route request
    cache_entries: int = 256  # answers kept in the in-process LRU (0: none)
    threads: bool = True
