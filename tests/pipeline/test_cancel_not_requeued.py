"""Acceptance: a job asked to stop ends ``cancelled`` when its worker would have put it back in
the queue: handed back on SIGTERM, or retried because the road source failed. Real worker
processes; the job's batch completes and its cancel is delivered like any other."""

from __future__ import annotations

import json
import random
import signal
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler

import pytest
from pipeline_support import kill_group, log_tail, pipeline_settings, random_problem
from support import PUBLIC_HOOK, SMALL_PROBLEM, http_server, send_json, stop_http

INSTEAD = "job cancelled (asked to stop) instead of going back to the queue"


def batch_with_a_hook(http, headers, problem: dict) -> tuple[str, str]:
    """A batch of the problem and a small one, the client subscribed to cancels and batch
    completion: (batch id, the id of the job of ``problem``)."""
    http.post("/v1/webhooks/endpoints", json={"url": PUBLIC_HOOK, "event_types": ["job.cancelled", "batch.completed"]},
              headers=headers)
    response = http.post("/v1/batches", json={"jobs": [{"problem": problem}, {"problem": SMALL_PROBLEM}]},
                         headers=headers)
    assert response.status_code == 202, response.get_json()
    batch = response.get_json()
    assert http.delete(f"/v1/jobs/{batch['job_ids'][1]}", headers=headers).status_code in (200, 202)
    return batch["id"], batch["job_ids"][0]


def wait_for(farm, client_id: str, job_id: str, predicate, timeout: float, what: str) -> dict:
    deadline = time.monotonic() + timeout
    row = None
    while time.monotonic() < deadline:
        row = farm.store.get(client_id, uuid.UUID(job_id), with_solution=False)
        if predicate(row):
            return row
        time.sleep(0.1)
    raise AssertionError(f"job {job_id}: {what} not seen within {timeout} s; last {row and row['status']}")


def ended_like_a_cancel(farm, http, headers, client_id: str, batch_id: str, job_id: str) -> None:
    with farm.db.shard(farm.directory.shard_of(client_id)) as conn:
        events = conn.execute("SELECT type FROM outbox WHERE job_id = %s ORDER BY id", (job_id,)).fetchall()
    assert [t for (t,) in events] == ["routefarm.job.queued", "routefarm.job.running", "routefarm.job.cancelled"]
    job = http.get(f"/v1/jobs/{job_id}", headers=headers).get_json()
    assert job["status"] == "cancelled" and job["finished_at"] is not None
    deliveries = http.get(f"/v1/jobs/{job_id}/deliveries", headers=headers).get_json()["deliveries"]
    assert [d["event_type"] for d in deliveries] == ["job.cancelled"]
    batch = http.get(f"/v1/batches/{batch_id}", headers=headers).get_json()
    assert batch["status"] == "completed" and batch["counts"]["cancelled"] == 2, batch
    completed = http.get(f"/v1/batches/{batch_id}/deliveries", headers=headers).get_json()["deliveries"]
    assert [d["event_type"] for d in completed] == ["batch.completed"]


@pytest.mark.slow
def test_a_job_asked_to_stop_is_cancelled_when_its_worker_hands_it_back(processes, farm, http, auth):
    client_id, headers = auth("handed-back")
    # the worker renews its lease (and would read the cancel flag in the shard) every 15 s
    processes.env["ROUTEFARM_LEASE_S"] = "60"
    worker = processes.worker("w1")
    problem = random_problem(random.Random(7), stops=60, time_limit=30)
    batch_id, job_id = batch_with_a_hook(http, headers, problem)
    wait_for(farm, client_id, job_id, lambda r: r["status"] == "running", 60, "running")
    # the client's cancel has reached the shard; the worker has not seen it yet when it is stopped
    with farm.db.shard(farm.directory.shard_of(client_id)) as conn:
        conn.execute("UPDATE jobs SET cancel_requested = true WHERE id = %s", (job_id,))
    kill_group(worker, signal.SIGTERM)
    worker.wait(30)
    log = processes.logs / "w1.log"
    row = wait_for(farm, client_id, job_id, lambda r: r["status"] != "running", 10, "the end")
    assert row["status"] == "cancelled", log_tail(log)
    assert INSTEAD in log.read_text(), log_tail(log)
    ended_like_a_cancel(farm, http, headers, client_id, batch_id, job_id)


class StallingRoads:
    """A road source that holds every matrix request until ``fail()``, then answers 503."""

    def __init__(self):
        self.asked = threading.Event()
        self.failing = threading.Event()
        roads = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's naming
                if "annotations=duration,distance" in self.path:
                    roads.asked.set()
                    roads.failing.wait(30)
                send_json(self, 503, json.dumps({"code": "Error", "message": "overloaded"}).encode())

            def log_message(self, *args):
                pass

        self.server = http_server(Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def fail(self) -> None:
        self.failing.set()

    def stop(self) -> None:
        self.fail()
        stop_http(self.server)


@pytest.fixture
def roads():
    source = StallingRoads()
    yield source
    source.stop()


@pytest.fixture
def settings(databases, redis_server, roads):
    return pipeline_settings(databases, redis_server, roads_url=roads.url, roads_retries=0,
                             roads_timeout_s=60.0, roads_deadline_s=60.0)


@pytest.mark.slow
def test_a_job_asked_to_stop_is_cancelled_when_its_worker_would_retry_it(processes, farm, http, auth, roads):
    client_id, headers = auth("retried")
    processes.worker("w1")
    problem = {**random_problem(random.Random(8), stops=5, time_limit=1), "travel": {"profile": "car"}}
    batch_id, job_id = batch_with_a_hook(http, headers, problem)
    assert roads.asked.wait(60), log_tail(processes.logs / "w1.log")  # the worker waits for its matrices
    response = http.delete(f"/v1/jobs/{job_id}", headers=headers)
    assert response.status_code == 202 and response.get_json()["cancel_requested"]
    roads.fail()  # the source is down: the worker would put the job back in the queue for later
    row = wait_for(farm, client_id, job_id, lambda r: r["status"] != "running", 30, "the end")
    log = processes.logs / "w1.log"
    assert row["status"] == "cancelled", log_tail(log)
    assert INSTEAD in log.read_text(), log_tail(log)
    ended_like_a_cancel(farm, http, headers, client_id, batch_id, job_id)
