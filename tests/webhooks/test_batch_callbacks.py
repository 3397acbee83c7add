"""Acceptance: a 200-job batch solved by two real worker processes calls back exactly once,
with consistent counts; and a hanging receiver does not slow solving down.

Real web, worker, webhook and stream processes; a real HTTP receiver on 127.0.0.1 verifying
every Standard Webhooks signature with the PyPI library.
"""

from __future__ import annotations

import time
from datetime import datetime

import pytest
from webhook_support import Api, tiny_problem, verify

TERMINAL = ("succeeded", "failed", "cancelled")


def start_farm(processes, workers: int = 2) -> None:
    for n in range(1, workers + 1):
        processes.worker(f"w{n}")
    processes.webhook()
    processes.stream()
    processes.web()


def when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.mark.slow
def test_a_200_job_batch_completes_with_one_callback(processes, client_factory, receivers):
    _, key = client_factory("nightly")
    receiver = receivers()
    start_farm(processes)
    api = Api(processes.port, key)
    endpoint = api.ok("POST", "/v1/webhooks/endpoints", {"url": receiver.url})  # every event type
    client_secret = api.ok("GET", "/v1/webhooks/secret")["secret"]

    body = {"jobs": [{"problem": tiny_problem(i), "metadata": {"i": i}} for i in range(200)],
            "webhook": {"url": receiver.url + "/batch"}, "metadata": {"run": "nightly"}}
    accepted = api.ok("POST", "/v1/batches", body, status=202)
    job_ids = accepted["job_ids"]
    assert len(set(job_ids)) == 200

    seen = []  # the batch's progress, polled while it runs
    deadline = time.monotonic() + 150
    while True:
        doc = api.ok("GET", f"/v1/batches/{accepted['id']}")
        assert sum(doc["counts"].values()) == doc["total"] == 200
        assert doc["done"] == sum(doc["counts"][s] for s in TERMINAL)
        seen.append(doc["percent_done"])
        if doc["status"] == "completed" or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert doc["status"] == "completed", doc
    assert seen == sorted(seen)  # progress never goes back
    assert doc["counts"] == {"queued": 0, "running": 0, "succeeded": 200, "failed": 0, "cancelled": 0}
    assert doc["percent_done"] == 100.0 and doc["done"] == 200
    assert when(doc["created_at"]) <= when(doc["started_at"]) <= when(doc["finished_at"])

    receiver.wait_for(lambda rs: len(rs) >= 202, timeout=60, what="200 job callbacks and 2 batch callbacks")
    time.sleep(1.0)  # anything more would be a duplicate
    to_endpoint = [r for r in receiver.requests if r.path == "/hooks"]
    one_off = [r for r in receiver.requests if r.path == "/hooks/batch"]
    assert len(to_endpoint) == 201 and len(one_off) == 1
    events = [verify(endpoint["secret"], r) for r in to_endpoint]
    completed = [e for e in events if e["type"] == "batch.completed"]
    assert len(completed) == 1  # exactly one batch.completed to the endpoint
    assert sorted(e["data"]["id"] for e in events if e["type"] == "job.succeeded") == sorted(job_ids)
    assert len({r.headers["webhook-id"] for r in to_endpoint}) == 201
    final = completed[0]["data"]
    assert final["id"] == accepted["id"] and final["counts"] == doc["counts"] and final["percent_done"] == 100.0
    assert final["finished_at"] == doc["finished_at"] and final["metadata"] == {"run": "nightly"}
    batch_event = verify(client_secret, one_off[0])  # the one-off target: the client's secret
    assert batch_event["type"] == "batch.completed" and batch_event["data"]["id"] == accepted["id"]
    deliveries = api.ok("GET", f"/v1/batches/{accepted['id']}/deliveries")["deliveries"]
    assert sorted(d["status"] for d in deliveries) == ["succeeded", "succeeded"]


@pytest.mark.slow
def test_a_hanging_receiver_does_not_slow_solving(processes, client_factory, receivers):
    _, key = client_factory("patient")
    start_farm(processes)
    api = Api(processes.port, key)

    def solve_all(first: int, count: int) -> float:
        """Submit ``count`` jobs at once; seconds until every one has ended."""
        started = time.monotonic()
        ids = [api.ok("POST", "/v1/jobs", {"problem": tiny_problem(first + i)}, status=202)["id"]
               for i in range(count)]
        for job_id in ids:
            _, doc = api.call("GET", f"/v1/jobs/{job_id}?wait=30", timeout=45)
            assert doc["status"] == "succeeded", doc
        return time.monotonic() - started

    solve_all(0, 4)  # warm up every process
    baseline = solve_all(100, 30)

    receiver = receivers(hang=10)  # answers after 10 s (or when the test ends)
    api.ok("POST", "/v1/webhooks/endpoints", {"url": receiver.url, "event_types": ["job.succeeded"]})
    hanging = solve_all(200, 30)

    receiver.wait_for(lambda rs: len(rs) >= 2, timeout=5, what="the client's share of webhook threads waiting")
    assert receiver.in_flight == 2  # the client's share of the delivery threads is stuck on the receiver...
    print(f"baseline {baseline:.2f} s, with a hanging receiver {hanging:.2f} s")
    assert hanging <= 1.5 * baseline + 1.0, (baseline, hanging)  # ...and solving kept its pace
    _, listing = api.call("GET", f"/v1/jobs/{api_last_job(api)}/deliveries")
    assert listing["deliveries"] and listing["deliveries"][0]["status"] == "pending"


def api_last_job(api: Api) -> str:
    return api.ok("GET", "/v1/jobs?limit=1")["jobs"][0]["id"]


@pytest.mark.slow
def test_cancelling_a_running_batch(processes, client_factory, receivers):
    _, key = client_factory("cancelling")
    receiver = receivers()
    start_farm(processes)
    api = Api(processes.port, key)
    endpoint = api.ok("POST", "/v1/webhooks/endpoints", {"url": receiver.url, "event_types": ["batch.completed"]})
    accepted = api.ok("POST", "/v1/batches", {"jobs": [{"problem": tiny_problem(i, time_limit=20)}
                                                       for i in range(6)]}, status=202)
    api.wait(f"/v1/batches/{accepted['id']}", lambda d: d["counts"]["running"] == 2, timeout=20)
    for job_id in accepted["job_ids"]:  # the running ones have a first solution
        api.wait(f"/v1/jobs/{job_id}", lambda d: d["status"] != "running" or "progress" in d, timeout=10)

    got, doc = api.call("DELETE", f"/v1/batches/{accepted['id']}")
    assert got == 202 and doc["status"] == "cancelling", doc  # two solves are stopping
    assert doc["counts"]["cancelled"] == 4 and doc["counts"]["running"] == 2
    done = api.wait(f"/v1/batches/{accepted['id']}", lambda d: d["status"] == "completed", timeout=10)
    assert done["counts"]["cancelled"] == 6 and done["percent_done"] == 100.0
    stopped = [api.ok("GET", f"/v1/jobs/{j}") for j in accepted["job_ids"]]
    assert sum("solution" in j for j in stopped) == 2  # the running ones kept their best solution

    receiver.wait_for(lambda rs: len(rs) >= 1, timeout=10, what="batch.completed")
    time.sleep(1.0)
    [request] = receiver.requests
    event = verify(endpoint["secret"], request)
    assert event["type"] == "batch.completed" and event["data"]["counts"]["cancelled"] == 6
