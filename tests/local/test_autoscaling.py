"""The local autoscaler over real processes (``routefarm up`` on the test PostgreSQL and
Redis, embedded Kafka): 40 queued jobs bring the workers from zero to the maximum within a
polling interval plus start-up, every job succeeds, the workers go back to zero after the
cooldown; a worker scaled away in the middle of a solve hands its job back and the job is
solved later. Each test writes its own ScaledObject."""

from __future__ import annotations

import re
import signal
import time

import redis
from farmtools import FARM_REDIS_DBS, FIXED, alive, up_command
from support import call_api

from routefarm.local.common import free_port
from routefarm.local.state import read_state

PROBLEM = {
    "vehicles": [{"id": "van", "start_index": 0, "end_index": 0, "capacity": [10]}],
    "stops": [{"id": "a", "location_index": 1, "demand": [4]}, {"id": "b", "location_index": 2, "demand": [5]}],
    "matrix": {"distances": [[0, 400, 600], [400, 0, 300], [600, 300, 0]]},
}
SCALED_OBJECT = """\
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: routefarm-worker}
spec:
  scaleTargetRef: {name: routefarm-worker}
  minReplicaCount: 0
  maxReplicaCount: 20
  pollingInterval: 30
  cooldownPeriod: 300
  advanced:
    horizontalPodAutoscalerConfig:
      behavior:
        scaleUp:
          stabilizationWindowSeconds: 0
          policies: [{type: Pods, value: 20, periodSeconds: 15}]
        scaleDown: {stabilizationWindowSeconds: 1}
  triggers:
"""
QUEUE_TRIGGERS = """\
  - type: redis
    name: solve-queue
    metadata: {address: "redis:6379", listName: "dramatiq:solve.msgs", listLength: "5"}
  - type: redis
    name: solve-retries
    metadata: {address: "redis:6379", listName: "dramatiq:solve.DQ.msgs", listLength: "5"}
  - type: kafka
    name: reoptimize-lag
    metadata: {bootstrapServers: "kafka:9092", consumerGroup: routefarm-ingest,
               topic: routefarm.reoptimize, lagThreshold: "10", allowIdleConsumers: "true",
               offsetResetPolicy: earliest}"""
KNOB = "test:knob"  # a list the test fills and empties: workers while it holds an item
KNOB_TRIGGER = f"""\
  - type: redis
    name: knob
    metadata: {{listName: "{KNOB}", listLength: "1"}}"""


def problem(seed: int, time_limit: float) -> dict:
    return {**PROBLEM, "options": {"time_limit": time_limit, "seed": seed}}  # seeds: no de-duplication


def start_farm(spawn, tmp_path, env, triggers: str, *options):
    path = tmp_path / "worker-scaledobject.yaml"
    path.write_text(SCALED_OBJECT + triggers + "\n")
    port = free_port()
    farm = spawn(up_command("--data-dir", tmp_path / "farm", "--port", port, "--scaledobject", path, *options),
                 env=env)
    farm.wait_for("routefarm is up", timeout=120)
    return farm, port, read_state(tmp_path / "farm")["api_key"]


def worker_names(data_dir) -> set[str]:
    return {name for name in read_state(data_dir)["processes"] if name.startswith("worker.")}


def test_forty_jobs_scale_workers_to_the_maximum_and_back_to_zero(spawn, tmp_path, configured_env):
    polling, cooldown, maximum = 1.0, 3.0, 4
    farm, port, key = start_farm(spawn, tmp_path, configured_env, QUEUE_TRIGGERS, "--max-workers", maximum,
                                 "--polling-interval", polling, "--cooldown", cooldown)
    assert worker_names(tmp_path / "farm") == set()  # zero workers while nothing waits

    status, batch = call_api(port, "POST", "/v1/batches", key,
                             {"jobs": [{"problem": problem(n, 1)} for n in range(40)]})
    queued = time.monotonic()
    assert status == 202 and batch["total"] == 40, batch
    farm.wait_for(rf"autoscaler +\| workers 0 -> {maximum}: active \(solve-queue 40 > 0", timeout=polling + 5)
    decided = time.monotonic()
    deadline = time.monotonic() + 5  # the record follows the decision within a second
    while True:
        status, farm_status = call_api(port, "GET", "/v1/farm", key)
        if farm_status["workers"]["desired"] == maximum or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert farm_status["workers"]["desired"] == maximum and farm_status["workers"]["max"] == maximum
    for n in range(1, maximum + 1):
        farm.wait_for(rf"worker\.{n} +\| .*Worker process is ready for action", timeout=60, anywhere=True)
    ready = time.monotonic()
    assert decided - queued <= polling + 2.0, f"decided {decided - queued:.1f} s after the jobs were queued"
    assert ready - queued <= polling + 15.0, f"{maximum} workers ready {ready - queued:.1f} s after"

    deadline = time.monotonic() + 120
    while True:
        status, doc = call_api(port, "GET", f"/v1/batches/{batch['id']}", key)
        if doc["status"] == "completed" or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    drained = time.monotonic()
    assert doc["status"] == "completed" and doc["counts"].get("succeeded") == 40, doc
    zero = farm.wait_for(r"autoscaler +\| workers \d -> 0: no trigger active \(inactive for ([\d.]+) s",
                         timeout=cooldown + polling + 10)
    at_zero = time.monotonic()
    assert float(zero[1]) >= cooldown  # not before the cooldown (the decider compares unrounded)
    deadline = time.monotonic() + 30
    while worker_names(tmp_path / "farm") and time.monotonic() < deadline:  # state.json follows the exits
        time.sleep(0.1)
    assert worker_names(tmp_path / "farm") == set()
    assert not re.search(r"worker\.\d stopped \((?!exit code 0)", farm.text)  # every worker stopped cleanly
    assert at_zero - drained <= cooldown + polling + 2.0, f"zero {at_zero - drained:.1f} s after the last job"
    handed_back = farm.text.count("shutting down: job handed back")
    print(f"\n40 jobs queued -> {maximum} workers decided in {decided - queued:.1f} s, ready in "
          f"{ready - queued:.1f} s; all done in {drained - queued:.1f} s; back to zero "
          f"{at_zero - drained:.1f} s after the last job; {handed_back} job(s) handed back by workers "
          "scaled away while the queue drained")

    farm.send(signal.SIGINT)
    assert farm.wait(60) == 0, farm.text


def test_a_worker_scaled_away_mid_solve_hands_its_job_back(spawn, tmp_path, configured_env):
    knob = redis.Redis.from_url(configured_env["ROUTEFARM_REDIS_URL"])
    assert configured_env["ROUTEFARM_REDIS_URL"].endswith(f"/{FARM_REDIS_DBS[0]}")
    farm, port, key = start_farm(spawn, tmp_path, configured_env, KNOB_TRIGGER, "--max-workers", 1,
                                 "--polling-interval", 0.5, "--cooldown", 0)
    knob.rpush(KNOB, "on")
    farm.wait_for(r"worker\.1 +\| .*Worker process is ready for action", timeout=30)
    status, job = call_api(port, "POST", "/v1/jobs", key, {"problem": problem(7, 3)})
    assert status == 202, job
    deadline = time.monotonic() + 20
    while job["status"] != "running" and time.monotonic() < deadline:
        status, job = call_api(port, "GET", f"/v1/jobs/{job['id']}", key)
        time.sleep(0.05)
    assert job["status"] == "running", job
    worker = read_state(tmp_path / "farm")["processes"]["worker.1"]

    knob.delete(KNOB)  # the only trigger goes inactive; cooldown 0: scaled to zero at the next poll
    farm.wait_for(r"autoscaler +\| workers 1 -> 0: no trigger active", timeout=5)
    farm.wait_for(r"worker\.1 +\| .*shutting down: job handed back", timeout=10)
    farm.wait_for(r"worker\.1 stopped \(exit code 0\)", timeout=30)
    assert not alive(worker)
    status, job = call_api(port, "GET", f"/v1/jobs/{job['id']}", key)
    assert job["status"] == "queued", job  # back in the queue, not lost

    knob.rpush(KNOB, "on")
    status, job = call_api(port, "GET", f"/v1/jobs/{job['id']}?wait=30", key, timeout=40)
    assert job["status"] == "succeeded" and job["attempts"] == 1, job  # a handed-back attempt is not counted
    assert job["solution"]["summary"]["distance"] == 1300
    solves = [line for line in farm.text.splitlines() if job["id"] in line and '"message": "solving"' in line]
    assert len(solves) == 2  # once by the worker scaled away, once by the next one
    knob.delete(KNOB)
    farm.send(signal.SIGINT)
    assert farm.wait(60) == 0, farm.text
    assert set(read_state(tmp_path / "farm").get("processes", {})) <= FIXED
