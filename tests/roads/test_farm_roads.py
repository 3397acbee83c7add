"""Jobs priced on roads, end to end: a road server over the Helsinki extract, real web and
worker processes, the matrices computed by the worker (and cached), and a source that stops."""

from __future__ import annotations

import math
import os
import signal
import time
import urllib.request

import numpy as np
import pytest
import redis
from roads_support import graph_arrays
from support import call_api, make_settings

from optimizer import check, on_roads, parse_problem, places
from routefarm.roads.client import ClientSettings, RoadClient


@pytest.fixture
def settings(databases, redis_server, helsinki):
    redis.Redis.from_url(f"{redis_server}/10").flushdb()
    redis.Redis.from_url(f"{redis_server}/11").flushdb()
    return make_settings(databases, redis_server, roads_url=helsinki.url, roads_max_table_size=1000,
                         roads_timeout_s=2.0, roads_retries=1, roads_deadline_s=5.0, max_attempts=2)


def road_problem(roads_cache, stops: int, seed: int, time_limit: float = 1.0) -> dict:
    arrays = graph_arrays(roads_cache, "car")
    rng = np.random.default_rng(seed)
    nodes = rng.choice(len(arrays["graph_lon"]), size=stops + 1, replace=False)
    points = [[round(float(arrays["graph_lon"][n]), 6), round(float(arrays["graph_lat"][n]), 6)] for n in nodes]
    return {
        "vehicles": [{"id": f"van{k}", "start": points[0], "end": points[0], "capacity": [8]}
                     for k in range(math.ceil(stops / 8) + 1)],
        "stops": [{"id": f"s{i}", "location": p, "demand": [1], "service": 60} for i, p in enumerate(points[1:])],
        "travel": {"profile": "car"},
        "options": {"time_limit": time_limit},
    }


def _svg(port: int, key: str, path: str) -> str:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Authorization": f"Bearer {key}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.headers["Content-Type"].startswith("image/svg+xml")
        return response.read().decode()


def wait_ended(port: int, key: str, job_id: str, timeout_s: float) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        status, doc = call_api(port, "GET", f"/v1/jobs/{job_id}?wait=5", key)
        assert status == 200, doc
        if doc["status"] in ("succeeded", "failed", "cancelled"):
            return doc
    raise AssertionError(f"job {job_id} did not end within {timeout_s} s")


def test_a_job_with_road_travel_is_solved_on_the_roads_and_its_matrices_cached(
        processes, client_factory, helsinki, roads_cache, redis_server):
    _, key = client_factory("roads")
    processes.worker("w1")
    processes.web()
    problem = road_problem(roads_cache, 30, seed=1)
    status, accepted = call_api(processes.port, "POST", "/v1/jobs", key, {"problem": problem})
    assert status == 202, accepted
    doc = wait_ended(processes.port, key, accepted["id"], 60)
    assert doc["status"] == "succeeded", doc
    solution = doc["solution"]
    assert solution["travel"]["profile"] == "car" and solution["travel"]["source"] == helsinki.url
    assert solution["travel"]["data_version"]
    # the routes are priced on the roads: audited against the same road matrices
    parsed = parse_problem(problem)
    durations, distances = RoadClient(helsinki.url, "car", ClientSettings(max_table_size=1000)).table(places(parsed))
    assert check(on_roads(parsed, durations, distances), solution) == []
    assert check(parsed, solution) != [], "great-circle distances are not what the solution was priced on"
    cached = redis.Redis.from_url(f"{redis_server}/11").keys("rf:travel:*")
    assert len(cached) == 1
    # the picture along the roads: many more points per route than its stops
    straight, along = (_svg(processes.port, key, f"/v1/jobs/{accepted['id']}/routes.svg{query}")
                       for query in ("", "?geometry=true"))
    assert along.count(" L") > 3 * straight.count(" L"), (along.count(" L"), straight.count(" L"))


def test_a_place_far_from_every_road_is_a_422_at_its_stop(processes, client_factory, roads_cache):
    _, key = client_factory("roads-far")
    processes.web()
    problem = road_problem(roads_cache, 3, seed=2)
    problem["stops"][1]["location"] = [24.0, 60.5]  # at sea, kilometres from a road
    status, body = call_api(processes.port, "POST", "/v1/jobs", key, {"problem": problem})
    assert status == 422, body
    pointers = {e["pointer"] for e in body["errors"]}
    assert pointers == {"/problem/stops/1/location"}, body


def test_road_travel_needs_a_road_source(databases, redis_server, tmp_path, client_factory, roads_cache):
    from support import Processes

    plain = Processes(make_settings(databases, redis_server), tmp_path)
    try:
        plain.web()
        _, key = client_factory("no-roads")
        status, body = call_api(plain.port, "POST", "/v1/jobs", key, {"problem": road_problem(roads_cache, 3, 3)})
        assert status == 422 and body["errors"][0]["pointer"] == "/problem/travel", body
    finally:
        plain.stop_all()


@pytest.mark.slow
def test_a_paused_road_source_fails_the_job_within_its_bound_and_the_worker_goes_on(
        processes, client_factory, helsinki, roads_cache):
    _, key = client_factory("roads-paused")
    worker = processes.worker("w1")
    processes.web()
    problem = road_problem(roads_cache, 12, seed=4)
    os.kill(helsinki.process.pid, signal.SIGSTOP)
    try:
        status, accepted = call_api(processes.port, "POST", "/v1/jobs", key, {"problem": problem})
        assert status == 202, accepted  # the submission's own check gave up after its deadline
        asked = time.monotonic()
        # two attempts (max_attempts 2), each bounded by roads_deadline_s (5 s), 5 s apart
        doc = wait_ended(processes.port, key, accepted["id"], 40)
        took = time.monotonic() - asked
    finally:
        os.kill(helsinki.process.pid, signal.SIGCONT)
    assert doc["status"] == "failed" and doc["error"]["reason"] == "travel_source_unavailable", doc
    assert doc["attempts"] == 2 and took < 30, (doc["attempts"], took)
    # the source is back: the same worker prices and solves the next job
    status, again = call_api(processes.port, "POST", "/v1/jobs", key, {"problem": road_problem(roads_cache, 5, 5)})
    assert status == 202
    assert wait_ended(processes.port, key, again["id"], 60)["status"] == "succeeded"
    assert worker.poll() is None
