"""The server's tables over real HTTP against a plain Dijkstra over the same graph arrays."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from roads_support import coords, graph_arrays, reference

PLACES = 200


def _places(arrays, count: int, seed: int) -> np.ndarray:
    """Random places at random graph nodes."""
    rng = np.random.default_rng(seed)
    nodes = rng.choice(len(arrays["graph_lon"]), size=count, replace=False)
    return np.column_stack((arrays["graph_lon"][nodes], arrays["graph_lat"][nodes]))


def _nearest(arrays, points: np.ndarray) -> np.ndarray:
    """Brute-force nearest node (equirectangular), independent of the KD-tree."""
    lon, lat = arrays["graph_lon"], arrays["graph_lat"]
    scale = np.cos(np.radians(lat.mean()))
    d2 = ((points[:, None, 0] - lon[None]) * scale) ** 2 + (points[:, None, 1] - lat[None]) ** 2
    return d2.argmin(axis=1)


def test_table_equals_dijkstra_on_200_places(helsinki, roads_cache):
    arrays = graph_arrays(roads_cache, "car")
    points = _places(arrays, PLACES, seed=1)
    status, body, headers = helsinki.get(f"/table/v1/car/{coords(points)}?annotations=duration,distance")
    assert status == 200 and body["code"] == "Ok"
    nodes = _nearest(arrays, points)
    snapped = np.array([w["location"] for w in body["sources"]])
    expected = np.column_stack((arrays["graph_lon"][nodes], arrays["graph_lat"][nodes]))
    assert np.allclose(snapped, expected, atol=1e-6)
    seconds, metres = reference(len(arrays["graph_lon"]), arrays["graph_tail"], arrays["graph_head"],
                                arrays["graph_duration_s"], arrays["graph_length_m"], nodes)
    durations = np.array(body["durations"], dtype=float)
    distances = np.array(body["distances"], dtype=float)
    # the server rounds to 0.1 as OSRM does; otherwise within 0.1 %
    assert np.allclose(durations, seconds[:, nodes], rtol=1e-3, atol=0.051)
    assert np.allclose(distances, metres[:, nodes], rtol=1e-3, atol=0.051)
    assert durations.shape == (PLACES, PLACES) and np.all(np.diag(durations) == 0)


def test_places_between_nodes_leave_and_arrive_along_their_segment(helsinki, roads_cache):
    arrays = graph_arrays(roads_cache, "car")
    lon, lat = arrays["graph_lon"], arrays["graph_lat"]
    tail, head, seconds_of = arrays["graph_tail"], arrays["graph_head"], arrays["graph_duration_s"]
    edges = {(a, b): k for k, (a, b) in enumerate(zip(tail.tolist(), head.tolist(), strict=True))}
    rng = np.random.default_rng(6)
    picks = [k for k in rng.permutation(len(tail)).tolist()
             if (head[k], tail[k]) in edges and seconds_of[k] > 5][:10]
    others = _places(arrays, 10, seed=7)
    middles = [((lon[tail[k]] + lon[head[k]]) / 2, (lat[tail[k]] + lat[head[k]]) / 2) for k in picks]
    points = np.vstack((middles, others))
    _, body, _ = helsinki.get(f"/table/v1/car/{coords(points)}?sources={';'.join(map(str, range(10)))}"
                              f"&destinations={';'.join(map(str, range(10, 20)))}")
    ends = np.concatenate((tail[picks], head[picks]))
    to_others, _ = reference(len(lon), tail, head, seconds_of, arrays["graph_length_m"], ends)
    target_nodes = _nearest(arrays, others)
    for i, k in enumerate(picks):
        ahead = seconds_of[k] / 2 + to_others[10 + i, target_nodes]  # on to the head
        back = seconds_of[edges[(head[k], tail[k])]] / 2 + to_others[i, target_nodes]
        assert np.allclose(body["durations"][i], np.minimum(ahead, back), rtol=1e-3, atol=0.051)
    assert all(w["distance"] < 1.0 for w in body["sources"])


def test_sources_and_destinations_pick_rows_and_columns(helsinki, roads_cache):
    points = _places(graph_arrays(roads_cache, "car"), 6, seed=2)
    _, full, _ = helsinki.get(f"/table/v1/car/{coords(points)}")
    status, part, _ = helsinki.get(f"/table/v1/car/{coords(points)}?sources=4;1&destinations=0;5;2")
    assert status == 200 and "distances" not in part
    assert np.array(part["durations"]).tolist() == np.array(full["durations"])[np.ix_([4, 1], [0, 5, 2])].tolist()
    assert len(part["sources"]) == 2 and len(part["destinations"]) == 3


def test_one_way_street_differs_by_direction(helsinki, roads_cache):
    arrays = graph_arrays(roads_cache, "car")
    edges = set(zip(arrays["graph_tail"].tolist(), arrays["graph_head"].tolist(), strict=True))
    one_way = [(a, b) for a, b in edges if (b, a) not in edges]
    assert one_way, "the extract has one-way streets"
    a, b = one_way[0]
    points = [(arrays["graph_lon"][i], arrays["graph_lat"][i]) for i in (a, b)]
    _, body, _ = helsinki.get(f"/table/v1/car/{coords(points)}")
    there, back = body["durations"][0][1], body["durations"][1][0]
    assert there < back


def test_truck_avoids_restricted_ways_and_drives_slower(helsinki, helsinki_pbf, roads_cache):
    from routefarm.roads.osm import read_ways
    from routefarm.roads.profiles import TRUCK, speeds

    ways = read_ways(helsinki_pbf)
    car = graph_arrays(roads_cache, "car")
    car_nodes = set(zip(car["graph_lon"].round(7).tolist(), car["graph_lat"].round(7).tolist(), strict=True))
    closed = []
    for k, tags in enumerate(ways.tags):
        if ("maxheight" in tags or "maxweight" in tags) and speeds(tags, TRUCK) == (0.0, 0.0):
            start, end = ways.offsets[k], ways.offsets[k + 1]
            for lon, lat in zip(ways.lon[start + 1:end - 1], ways.lat[start + 1:end - 1], strict=True):
                if (round(lon, 7), round(lat, 7)) in car_nodes:
                    closed.append((lon, lat))
    assert closed, "the extract has ways too low or too weak for a truck"
    truck = graph_arrays(roads_cache, "truck")
    truck_nodes = set(zip(truck["graph_lon"].round(7).tolist(), truck["graph_lat"].round(7).tolist(),
                          strict=True))
    assert not {(round(lon, 7), round(lat, 7)) for lon, lat in closed} & truck_nodes
    _, as_car, _ = helsinki.get(f"/table/v1/car/{coords(closed[:20])}")
    _, as_truck, _ = helsinki.get(f"/table/v1/truck/{coords(closed[:20])}")
    assert max(w["distance"] for w in as_car["sources"]) < 0.01  # on the way itself
    assert as_car["durations"] != as_truck["durations"]
    points = _places(car, 30, seed=3)
    _, car_table, _ = helsinki.get(f"/table/v1/car/{coords(points)}")
    _, truck_table, _ = helsinki.get(f"/table/v1/truck/{coords(points)}")
    car_s, truck_s = np.array(car_table["durations"]), np.array(truck_table["durations"])
    off_diagonal = ~np.eye(len(points), dtype=bool)
    # speed caps make most trips slower; a few are faster on ways open to trucks only (hgv=yes)
    assert (truck_s > car_s)[off_diagonal].mean() > 0.5


def test_snapping_beyond_the_limit_names_the_coordinate(helsinki, roads_cache):
    points = list(_places(graph_arrays(roads_cache, "car"), 3, seed=4)) + [(24.0, 60.5)]
    status, body, _ = helsinki.get(f"/table/v1/car/{coords(points)}")
    assert status == 400 and body["code"] == "NoSegment"
    assert "coordinate 3 " in body["message"]


@pytest.mark.parametrize(("path", "code"), [
    ("/table/v1/car/24.9,60.1;x", "InvalidUrl"),
    ("/table/v1/car/24.9,60.1;24.9,91", "InvalidValue"),
    ("/table/v1/car/24.94,60.17;24.95,60.17?sources=0;7", "InvalidValue"),
    ("/table/v1/car/24.94,60.17;24.95,60.17?sources=a", "InvalidQuery"),
    ("/table/v1/car/24.94,60.17;24.95,60.17?bearings=0,20;", "InvalidOptions"),
    ("/table/v1/bicycle/24.94,60.17;24.95,60.17", "InvalidUrl"),
    ("/table/v1/car/polyline(abc)", "InvalidQuery"),
    ("/route/v1/car/24.94,60.17", "InvalidQuery"),
    ("/route/v1/car/24.94,60.17;24.95,60.17?geometries=svg", "InvalidValue"),
    ("/trip/v1/car/24.94,60.17;24.95,60.17", "InvalidService"),
])
def test_errors_are_osrm_codes_with_400(helsinki, path, code):
    status, body, _ = helsinki.get(path)
    assert (status, body["code"]) == (400, code)
    assert isinstance(body["message"], str) and "\n" not in body["message"]


def test_too_many_coordinates_is_too_big(helsinki):
    points = [(24.94 + i * 1e-5, 60.17) for i in range(1001)]
    status, body, _ = helsinki.get(f"/table/v1/car/{coords(points)}")
    assert (status, body["code"]) == (400, "TooBig") and "1000" in body["message"]


def test_data_version_is_the_file_hash_and_the_graph_is_cached(helsinki, helsinki_pbf, roads_cache):
    digest = hashlib.sha256(helsinki_pbf.read_bytes()).hexdigest()
    status, body, headers = helsinki.get("/health")
    assert status == 200 and body["data_version"] == digest and headers["X-Data-Version"] == digest
    assert sorted(body["profiles"]) == ["car", "truck"]
    assert len(list(roads_cache.glob("Helsinki-*.npz"))) == 2


def test_route_legs_match_the_table(helsinki, roads_cache):
    points = _places(graph_arrays(roads_cache, "car"), 3, seed=5)
    status, body, _ = helsinki.get(f"/route/v1/car/{coords(points)}?overview=full&geometries=geojson")
    assert status == 200 and body["code"] == "Ok"
    route = body["routes"][0]
    assert route["geometry"]["type"] == "LineString" and len(route["geometry"]["coordinates"]) >= 2
    _, table, _ = helsinki.get(f"/table/v1/car/{coords(points)}?annotations=duration,distance")
    for k, leg in enumerate(route["legs"]):
        assert leg["duration"] == pytest.approx(table["durations"][k][k + 1], abs=0.11)
        assert leg["distance"] == pytest.approx(table["distances"][k][k + 1], abs=0.11)
    assert len(body["waypoints"]) == 3
