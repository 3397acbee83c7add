"""``routefarm up`` end to end: embedded services (Kafka too), web, stream, webhook, a worker
the autoscaler starts for a job and stops after the cooldown, Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
from farmtools import FIXED, alive, clean_env, up_command
from support import listening_hosts

from routefarm.local.common import free_port, port_is_free
from routefarm.local.state import read_state, state_path

QUICK = ("--max-workers", 1, "--polling-interval", 0.5, "--cooldown", 1)  # scale fast, to zero soon

PROBLEM = {
    "vehicles": [{"id": "van", "start_index": 0, "end_index": 0, "capacity": [10]}],
    "stops": [{"id": "a", "location_index": 1, "demand": [4]}, {"id": "b", "location_index": 2, "demand": [5]}],
    "matrix": {"distances": [[0, 400, 600], [400, 0, 300], [600, 300, 0]]},
    "options": {"time_limit": 1},
}


def call(method: str, url: str, key: str, body: dict | None = None) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={
        "Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=70) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


@pytest.fixture(autouse=True)
def _farm_code_exists():
    pytest.importorskip("api.wsgi", reason="the API is not written yet")
    pytest.importorskip("workers.main", reason="the workers are not written yet")
    pytest.importorskip("workers.stream", reason="the stream process is not written yet")


def test_up_serves_a_job_stops_cleanly_and_keeps_its_data(spawn, tmp_path):
    from routefarm.kafka.names import TOPICS
    from routefarm.local.kafka_server import answers

    data_dir = tmp_path / "farm"
    farm = spawn(up_command("--data-dir", data_dir, "--port", free_port(), *QUICK), env=clean_env())
    farm.wait_for("routefarm is up", timeout=120)
    state = read_state(data_dir)
    assert {"api_url", "api_key", "client_id", "redis_url", "cache_url", "directory_url", "shard_urls",
            "kafka_bootstrap", "kafka_port", "pid", "processes", "ready_at"} <= set(state)
    assert state["pid"] == farm.proc.pid and len(state["shard_urls"]) == 2
    assert set(state["processes"]) == FIXED  # no worker before there is work
    assert all(alive(pid) for pid in state["processes"].values())
    assert "webhooks to loopback addresses are allowed" in farm.text
    assert state["kafka_bootstrap"] == f"127.0.0.1:{state['kafka_port']}" and answers(state["kafka_bootstrap"])
    assert set(TOPICS) <= set(_topics(state["kafka_bootstrap"]))
    assert "Kafka: created routefarm." in farm.text

    # one farm per data folder
    second = spawn(up_command("--data-dir", data_dir, "--port", free_port()), env=clean_env())
    assert second.wait(30) == 2
    assert second.text.startswith("error: another routefarm up") and "Traceback" not in second.text

    api, key = state["api_url"], state["api_key"]
    status, job = call("POST", f"{api}/v1/jobs", key, {"problem": PROBLEM})
    assert status == 202, job
    deadline = time.monotonic() + 90
    while job["status"] not in ("succeeded", "failed", "cancelled") and time.monotonic() < deadline:
        status, job = call("GET", f"{api}/v1/jobs/{job['id']}?wait=30", key)
        assert status == 200, job
    assert job["status"] == "succeeded", job
    assert job["solution"]["summary"]["distance"] == 1300
    farm.wait_for(r"autoscaler +\| workers 0 -> 1: active \(.*dramatiq:solve.msgs 1 > 0|"
                  r"autoscaler +\| workers 0 -> 1: active \(solve-queue 1 > 0", anywhere=True)
    farm.wait_for(r"autoscaler +\| workers 1 -> 0: no trigger active", timeout=30)  # after the cooldown
    farm.wait_for(r"worker\.1 stopped \(exit code 0\)", timeout=30)
    deadline = time.monotonic() + 5  # the autoscaler publishes its record each second
    while True:
        status, farm_status = call("GET", f"{api}/v1/farm", key)
        if farm_status["workers"]["current"] == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert status == 200 and farm_status["workers"] == {"current": 0, "desired": 0, "max": 1}, farm_status
    assert farm_status["kafka_lag"] == 0 and farm_status["jobs_per_s"] > 0

    farm.send(signal.SIGINT)  # Ctrl-C
    assert farm.wait(60) == 0, farm.text
    for name in FIXED:
        assert f"{name} stopped (exit code 0)" in farm.text
    stopped = read_state(data_dir)
    assert not {"pid", "processes", "ready_at"} & set(stopped) and stopped["api_key"] == key
    time.sleep(0.2)
    assert not any(alive(pid) for pid in state["processes"].values())
    assert all(port_is_free(stopped[f"{name}_port"]) for name in ("postgres", "redis", "kafka"))

    # a second start on the same folder: same client and key, the job is still there
    again = spawn(up_command("--data-dir", data_dir, "--port", free_port(), *QUICK), env=clean_env())
    again.wait_for("routefarm is up", timeout=120)
    assert f"demo client {state['client_id']} reused" in again.text
    restarted = read_state(data_dir)
    assert restarted["api_key"] == key and restarted["directory_url"] == state["directory_url"]
    status, kept = call("GET", f"{restarted['api_url']}/v1/jobs/{job['id']}", key)
    assert (status, kept["status"]) == (200, "succeeded")
    again.send(signal.SIGTERM)
    assert again.wait(60) == 0, again.text


def test_up_refuses_a_port_in_use(spawn, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        farm = spawn(up_command("--data-dir", tmp_path / "farm", "--port", port), env=clean_env())
        assert farm.wait(30) == 2
    assert farm.text.strip().splitlines() == [
        f"error: port {port} is in use on 127.0.0.1 (choose another with --port)"]


def test_up_recovers_from_a_killed_predecessor(spawn, tmp_path):
    """``up`` itself SIGKILLed: the next ``up`` stops what it left running, then starts."""
    data_dir = tmp_path / "farm"
    first = spawn(up_command("--data-dir", data_dir, "--port", free_port(), *QUICK), env=clean_env())
    first.wait_for("routefarm is up", timeout=120)
    orphans = read_state(data_dir)["processes"]
    first.proc.kill()
    first.wait(10)
    assert all(alive(pid) for pid in orphans.values())  # its children run on, in their own groups

    port = free_port()
    again = spawn(up_command("--data-dir", data_dir, "--port", port, *QUICK), env=clean_env())
    again.wait_for(r"stopping 3 process\(es\) left by an earlier run", timeout=30)
    again.wait_for("PostgreSQL: stopping a server an earlier run left behind", timeout=30)
    again.wait_for("Redis: stopped a server an earlier run left behind", timeout=30)
    again.wait_for("Kafka: stopped a broker an earlier run left behind", timeout=30)
    again.wait_for("routefarm is up", timeout=120)
    assert not any(alive(pid) for pid in orphans.values())
    state = read_state(data_dir)
    status, _ = call("GET", f"{state['api_url']}/v1/jobs", state["api_key"])
    assert status == 200
    again.send(signal.SIGINT)
    assert again.wait(60) == 0, again.text


def scrape_when_up(url: str, timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.read().decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_up_with_configured_services_starts_only_the_processes(spawn, tmp_path, configured_env, kafka_broker):
    env = {**configured_env, "ROUTEFARM_KAFKA_BOOTSTRAP": kafka_broker.bootstrap,
           "ROUTEFARM_KAFKA_SESSION_TIMEOUT_MS": "6000",  # the test broker holds a join for half of it
           "ROUTEFARM_WEBHOOK_ALLOWLIST": "192.0.2.0/24"}  # the user's: loopback is not in it
    data_dir = tmp_path / "farm"
    farm = spawn(up_command("--data-dir", data_dir, "--port", free_port(), *QUICK), env=env)
    farm.wait_for("routefarm is up", timeout=120)
    state = read_state(data_dir)
    assert state["directory_url"] == env["ROUTEFARM_DIRECTORY_URL"]
    assert state["redis_url"] == env["ROUTEFARM_REDIS_URL"]
    assert state["cache_url"] == env["ROUTEFARM_CACHE_URL"]
    assert state["kafka_bootstrap"] == kafka_broker.bootstrap and "kafka_port" not in state
    assert "Kafka: using ROUTEFARM_KAFKA_BOOTSTRAP" in farm.text
    assert not any((data_dir / name).exists() for name in ("postgres", "redis", "kafka"))
    assert stat.S_IMODE(os.stat(state_path(data_dir)).st_mode) == 0o600  # it holds the API key
    urls = state["metrics_urls"]  # web's /metrics first, then stream and webhook ports (no worker yet)
    assert urls[0] == f"{state['api_url']}/metrics" and len(set(urls)) == len(urls) == 3
    assert "routefarm_queue_depth" not in scrape_when_up(urls[0])  # farm-wide gauges: stream's only
    scraped = [scrape_when_up(url) for url in urls[1:]]
    assert all("process_cpu_seconds_total" in text for text in scraped)
    assert sum("routefarm_queue_depth" in text for text in scraped) == 1
    for url in urls[1:]:  # the metrics ports are this machine's only
        assert listening_hosts(urllib.parse.urlsplit(url).port) == {"127.0.0.1"}, url
    # the user's allowlist is the one in force: a webhook to this machine is refused
    assert "webhook allowlist in force: ROUTEFARM_WEBHOOK_ALLOWLIST=192.0.2.0/24" in farm.text
    status, body = call("POST", f"{state['api_url']}/v1/jobs", state["api_key"],
                        {"problem": PROBLEM, "webhook": {"url": "http://127.0.0.1:9/hook"}})
    assert status == 422 and "loopback" in body["errors"][0]["detail"], body
    farm.send(signal.SIGINT)
    assert farm.wait(60) == 0, farm.text


def _topics(bootstrap: str) -> list[str]:
    from routefarm.kafka.clients import admin

    return list(admin(bootstrap).list_topics(timeout=10).topics)


def test_up_refuses_a_scaledobject_it_cannot_apply(spawn, tmp_path):
    bad = tmp_path / "scaledobject.yaml"
    bad.write_text("kind: ScaledObject\nspec:\n  triggers:\n  - type: cpu\n")
    farm = spawn(up_command("--data-dir", tmp_path / "farm", "--port", free_port(), "--scaledobject", bad),
                 env=clean_env())
    assert farm.wait(30) == 2
    assert farm.text.strip().splitlines() == [f"error: {bad}: spec.triggers: no redis or kafka trigger"]


def test_the_local_allowlist_applies_only_when_the_user_set_none():
    from routefarm.local.command import WEBHOOK_ALLOWLIST, webhook_allowlist

    value, said = webhook_allowlist({})
    assert value == WEBHOOK_ALLOWLIST and "ROUTEFARM_WEBHOOK_ALLOWLIST is not set" in said
    assert webhook_allowlist({"ROUTEFARM_WEBHOOK_ALLOWLIST": "10.9.0.0/16"})[0] == "10.9.0.0/16"
    value, said = webhook_allowlist({"ROUTEFARM_WEBHOOK_ALLOWLIST": ""})
    assert value == "" and "public addresses only" in said


def test_up_with_osm_points_every_process_at_its_road_server(tmp_path):
    """routefarm up --osm: the road server's spec and the ROUTEFARM_ROADS_URL the other
    processes get name the same port (a KeyError here once stopped every --osm start)."""
    from routefarm.local.command import Options, road_environment, road_server

    specs = road_server(Options(tmp_path, 8000, 2, osm=tmp_path / "city.osm.pbf"))
    (spec,) = specs
    port = spec.env["ROADS_PORT"]
    assert f"--port {port}" in spec.command
    assert road_environment(specs)["ROUTEFARM_ROADS_URL"] == f"http://127.0.0.1:{port}"
    assert road_environment([]) == {}
