"""The client against real servers: chunking, snapping errors, stopped, paused and garbage sources."""

from __future__ import annotations

import os
import signal
import time
from http.server import BaseHTTPRequestHandler

import numpy as np
import pytest
from roads_support import RoadServer, graph_arrays
from support import http_server, send_json, stop_http

from routefarm.errors import RoadSnapError, RoutefarmError, TravelSourceUnavailable
from routefarm.roads.client import ClientSettings, RoadClient


def _places(roads_cache, count: int, seed: int) -> np.ndarray:
    arrays = graph_arrays(roads_cache, "car")
    rng = np.random.default_rng(seed)
    nodes = rng.choice(len(arrays["graph_lon"]), size=count, replace=False)
    return np.column_stack((arrays["graph_lon"][nodes], arrays["graph_lat"][nodes]))


def test_chunked_table_equals_one_request(helsinki, roads_cache):
    points = _places(roads_cache, 37, seed=11)
    whole = RoadClient(helsinki.url, "car", ClientSettings(max_table_size=1000)).table(points)
    chunked = RoadClient(helsinki.url, "car", ClientSettings(max_table_size=10)).table(points)
    for a, b in zip(whole, chunked, strict=True):
        assert a.shape == (37, 37) and a.dtype == np.float64
        np.testing.assert_array_equal(a, b)
    assert np.isfinite(whole[0]).all() and (whole[1][~np.eye(37, dtype=bool)] > 0).all()


def test_client_reports_the_data_version(helsinki, roads_cache):
    client = RoadClient(helsinki.url, "truck")
    client.table(_places(roads_cache, 3, seed=12))
    assert client.data_version == helsinki.get("/health")[1]["data_version"]


def test_snapping_error_carries_the_index_through_chunks(helsinki, roads_cache):
    points = _places(roads_cache, 25, seed=13)
    points[17] = (24.0, 60.5)
    with pytest.raises(RoadSnapError) as caught:
        RoadClient(helsinki.url, "car", ClientSettings(max_table_size=10)).table(points)
    assert caught.value.index == 17 and not isinstance(caught.value, TravelSourceUnavailable)
    arrays = graph_arrays(roads_cache, "car")
    north = arrays["graph_lat"].argmax()
    near = _places(roads_cache, 4, seed=14)
    near[2] = (arrays["graph_lon"][north], arrays["graph_lat"][north] + 0.004)  # 445 m north of all
    with pytest.raises(RoadSnapError) as caught:
        RoadClient(helsinki.url, "car", ClientSettings(snap_limit_m=50)).table(near)
    assert caught.value.index == 2


def test_route_gives_leg_line_strings(helsinki, roads_cache):
    points = _places(roads_cache, 4, seed=15)
    legs = RoadClient(helsinki.url, "car", ClientSettings(max_route_size=3)).route(points)
    durations, distances = RoadClient(helsinki.url, "car").table(points)
    assert len(legs) == 3
    for k, leg in enumerate(legs):
        line = leg["geometry"]
        assert line["type"] == "LineString" and len(line["coordinates"]) >= 2
        assert line["coordinates"][0] == pytest.approx(list(points[k]), abs=1e-6)
        assert line["coordinates"][-1] == pytest.approx(list(points[k + 1]), abs=1e-6)
        assert leg["duration"] == pytest.approx(durations[k, k + 1], abs=0.11)
        assert leg["distance"] == pytest.approx(distances[k, k + 1], abs=0.11)


def test_stopped_source_is_unavailable_within_its_bound(helsinki_pbf, roads_cache):
    server = RoadServer(helsinki_pbf, roads_cache, "--profiles", "car")
    client = RoadClient(server.url, "car", ClientSettings(timeout_s=2, retries=2, backoff_s=0.2, deadline_s=5))
    points = _places(roads_cache, 5, seed=16)
    try:
        assert np.isfinite(client.table(points)[0]).all()
    finally:
        server.stop()
    started = time.monotonic()
    with pytest.raises(TravelSourceUnavailable) as caught:
        client.table(points)
    assert time.monotonic() - started < 2.0
    assert isinstance(caught.value, RoutefarmError) and "\n" not in str(caught.value)


def test_paused_source_is_unavailable_within_its_deadline(helsinki_pbf, roads_cache):
    server = RoadServer(helsinki_pbf, roads_cache, "--profiles", "car")
    client = RoadClient(server.url, "car", ClientSettings(timeout_s=1, retries=5, backoff_s=0.1, deadline_s=2.5))
    points = _places(roads_cache, 5, seed=17)
    try:
        os.kill(server.process.pid, signal.SIGSTOP)
        started = time.monotonic()
        with pytest.raises(TravelSourceUnavailable):
            client.table(points)
        assert time.monotonic() - started < 3.5
        os.kill(server.process.pid, signal.SIGCONT)
        assert np.isfinite(client.table(points)[0]).all()  # it answers again once resumed
    finally:
        os.kill(server.process.pid, signal.SIGCONT)
        server.stop()


class _Garbage(BaseHTTPRequestHandler):
    answers: list[tuple[int, bytes]] = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        send_json(self, *self.answers[0])

    def log_message(self, *args):
        pass


@pytest.mark.parametrize("status, body", [
    (200, b"<html>proxy error</html>"),
    (200, b'{"code": "Ok", "durations": [[0, 1]], "distances": [[0, 1]]}'),
    (200, b'{"code": "Ok", "durations": [[0, "x"], [1, 0]], "distances": [[0, 1], [1, 0]]}'),
    (502, b'{"code": "Bad gateway"}'),
    (400, b'{"code": "TooBig", "message": "Too many table coordinates"}'),
])
def test_garbage_answers_are_unavailable(status, body):
    _Garbage.answers = [(status, body)]
    server = http_server(_Garbage)
    try:
        client = RoadClient(f"http://127.0.0.1:{server.server_port}", "car",
                            ClientSettings(timeout_s=1, retries=1, backoff_s=0.05, deadline_s=3))
        with pytest.raises(TravelSourceUnavailable):
            client.table([(24.94, 60.17), (24.95, 60.17)])
    finally:
        stop_http(server)
