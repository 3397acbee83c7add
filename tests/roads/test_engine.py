"""Profiles, the generated city, unreachable cells, and the command without its libraries."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from roads_support import ROOT, RoadServer, coords, reference

from routefarm.roads.client import RoadClient
from routefarm.roads.profiles import CAR, TRUCK, speeds

ISLANDS = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6">
  <node id="1" lat="60.1700" lon="24.9400"/><node id="2" lat="60.1700" lon="24.9420"/>
  <node id="3" lat="60.1700" lon="24.9440"/><node id="4" lat="60.1730" lon="24.9400"/>
  <node id="5" lat="60.1730" lon="24.9420"/><node id="6" lat="60.1715" lon="24.9440"/>
  <way id="1"><nd ref="1"/><nd ref="2"/><nd ref="3"/><tag k="highway" v="residential"/></way>
  <way id="2"><nd ref="4"/><nd ref="5"/><tag k="highway" v="residential"/></way>
  <way id="3"><nd ref="3"/><nd ref="6"/><tag k="highway" v="residential"/><tag k="oneway" v="yes"/></way>
</osm>
"""


@pytest.mark.parametrize(("tags", "car", "truck"), [
    ({"highway": "motorway"}, (110, 0), (80, 0)),
    ({"highway": "primary", "maxspeed": "50"}, (50, 50), (50, 50)),
    ({"highway": "primary", "maxspeed": "30 mph"}, (48.28032, 48.28032), (48.28032, 48.28032)),
    ({"highway": "residential", "oneway": "-1"}, (0, 30), (0, 25)),
    ({"highway": "tertiary", "junction": "roundabout"}, (50, 0), (45, 0)),
    ({"highway": "secondary", "hgv": "no"}, (60, 60), (0, 0)),
    ({"highway": "service", "access": "no", "hgv": "yes"}, (0, 0), (10, 10)),
    ({"highway": "residential", "maxweight": "7.5"}, (30, 30), (0, 0)),
    ({"highway": "residential", "maxheight": "3.2 m"}, (30, 30), (0, 0)),
    ({"highway": "residential", "motor_vehicle": "private"}, (0, 0), (0, 0)),
    ({"highway": "footway"}, (0, 0), (0, 0)),
    ({"highway": "primary", "oneway": "reversible"}, (0, 0), (0, 0)),
])
def test_profiles(tags, car, truck):
    assert speeds(tags, CAR) == pytest.approx(car)
    assert speeds(tags, TRUCK) == pytest.approx(truck)


def test_generated_city_tables_equal_dijkstra(tmp_path):
    from routefarm.roads.generate import CityPlan, write_city
    from routefarm.roads.settings import EngineSettings
    from routefarm.roads.store import load_engines

    path = write_city(CityPlan(rows=40, columns=50, bridges=2), tmp_path / "city.osm.pbf")
    engine = load_engines(path, ["car"], EngineSettings())["car"]
    graph = engine.graph
    assert graph.nodes == 2000  # one-ways and the river leave it strongly connected
    rng = np.random.default_rng(3)
    nodes = rng.choice(graph.nodes, size=30, replace=False)
    points = np.column_stack((graph.lon[nodes], graph.lat[nodes]))
    durations, distances = engine.table(engine.snap(points), np.arange(30), np.arange(30))
    seconds, metres = reference(graph.nodes, graph.tail, graph.head, graph.duration_s, graph.length_m,
                                nodes)
    np.testing.assert_allclose(durations, seconds[:, nodes], rtol=1e-9)
    np.testing.assert_allclose(distances, metres[:, nodes], rtol=1e-9)


def test_unreachable_places_are_null(tmp_path):
    osm = tmp_path / "islands.osm"
    osm.write_text(ISLANDS)
    server = RoadServer(osm, tmp_path / "cache", "--profiles", "car", "--all-components")
    try:
        points = [(24.9400, 60.1700), (24.9400, 60.1730), (24.9440, 60.1715)]
        status, body, _ = server.get(f"/table/v1/car/{coords(points)}?annotations=duration,distance")
        assert status == 200
        assert body["durations"][0][1] is None and body["durations"][1][0] is None
        assert body["durations"][0][2] is not None and body["durations"][2][0] is None  # one-way out
        assert body["distances"][2][1] is None
        durations, distances = RoadClient(server.url, "car").table(points)
        assert np.isinf(durations[0, 1]) and np.isinf(distances[2, 0]) and np.isfinite(durations[0, 2])
        status, body, _ = server.get(f"/route/v1/car/{coords(points[:2])}")
        assert (status, body["code"]) == (400, "NoRoute")
    finally:
        server.stop()


def test_serve_without_its_libraries_says_what_to_install(tmp_path):
    script = ("import sys; sys.modules['numba'] = None; from routefarm.cli.main import main; "
              "main(['roads', 'serve', '--osm', 'x.osm.pbf'])")
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "pip install 'routefarm[roads]'" in lines[0]


def test_serve_with_a_missing_file_is_bad_input(tmp_path):
    result = subprocess.run([sys.executable, "-m", "routefarm", "roads", "serve", "--osm", str(tmp_path / "no.pbf")],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and result.stderr.strip() == f"error: {tmp_path / 'no.pbf'}: no such file"


def test_places_on_one_way_and_shared_segments(tmp_path):
    from routefarm.roads.generate import CityPlan, write_city
    from routefarm.roads.settings import EngineSettings
    from routefarm.roads.store import load_engines

    path = write_city(CityPlan(rows=20, columns=20, bridges=2), tmp_path / "city.osm.pbf")
    engine = load_engines(path, ["car"], EngineSettings())["car"]
    g = engine.graph
    edges = {(a, b): k for k, (a, b) in enumerate(zip(g.tail.tolist(), g.head.tolist(), strict=True))}
    one_way = next(k for (a, b), k in edges.items() if (b, a) not in edges)
    two_way = next(k for (a, b), k in edges.items() if (b, a) in edges)

    def at(k: int, share: float) -> tuple[float, float]:
        a, b = g.tail[k], g.head[k]
        return g.lon[a] + share * (g.lon[b] - g.lon[a]), g.lat[a] + share * (g.lat[b] - g.lat[a])

    a, b = g.tail[one_way], g.head[one_way]
    points = np.array([at(one_way, 0.5), (g.lon[b], g.lat[b]), (g.lon[a], g.lat[a])])
    durations, distances = engine.table(engine.snap(points), np.arange(3), np.arange(3))
    assert durations[0, 1] == pytest.approx(g.duration_s[one_way] / 2, rel=1e-3)
    assert distances[0, 1] == pytest.approx(g.length_m[one_way] / 2, rel=1e-2)
    assert durations[2, 0] == pytest.approx(g.duration_s[one_way] / 2, rel=1e-3)
    assert durations[0, 2] > g.duration_s[one_way]  # round the block: the street is one-way
    points = np.array([at(two_way, 0.2), at(two_way, 0.7)])
    durations, _ = engine.table(engine.snap(points), np.arange(2), np.arange(2))
    back = edges[(g.head[two_way], g.tail[two_way])]
    assert durations[0, 1] == pytest.approx(0.5 * g.duration_s[two_way], rel=1e-2)
    assert durations[1, 0] == pytest.approx(0.5 * g.duration_s[back], rel=1e-2)
    (leg,) = engine.legs(engine.snap(points))
    assert leg.duration_s == pytest.approx(durations[0, 1]) and len(leg.coordinates) == 2
