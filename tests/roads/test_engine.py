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
    snapped = engine.snap(points)
    durations, distances = engine.table(snapped, np.arange(30), np.arange(30))
    seconds, metres = reference(graph.nodes, graph.tail, graph.head, graph.duration_s, graph.length_m,
                                snapped.nodes)
    np.testing.assert_allclose(durations, seconds[:, snapped.nodes], rtol=1e-9)
    np.testing.assert_allclose(distances, metres[:, snapped.nodes], rtol=1e-9)


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
    script = ("import sys; sys.modules['numba'] = None; from routefarm.cli import main; "
              "main(['roads', 'serve', '--osm', 'x.osm.pbf'])")
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "pip install 'routefarm[roads]'" in lines[0]


def test_serve_with_a_missing_file_is_bad_input(tmp_path):
    result = subprocess.run([sys.executable, "-m", "routefarm", "roads", "serve", "--osm", str(tmp_path / "no.pbf")],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and result.stderr.strip() == f"error: {tmp_path / 'no.pbf'}: no such file"
