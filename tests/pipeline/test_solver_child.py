"""Acceptance: a worker's search runs in a child process that cannot take the worker down."""

from __future__ import annotations

import os
import random
import signal
import time

import pytest
from pipeline_support import Api, assert_valid_solution, random_problem
from support import alive, descendants, parent_of, solver_children


def _running_child(api, key, job_id, worker_pid) -> int:
    api.wait_status(key, job_id, lambda d: d["status"] == "running" and d.get("progress"), timeout=30)
    children = solver_children(worker_pid)
    assert len(children) == 1, descendants(worker_pid)
    return children[0]


def _coordinate_problem(stops: int, time_limit: float) -> dict:
    rng = random.Random(stops)
    return {
        "vehicles": [{"id": f"v{i}", "start": [13.4, 52.5], "end": [13.4, 52.5]} for i in range(stops // 20)],
        "stops": [{"id": f"s{i}", "location": [round(13.0 + rng.random(), 5), round(52.2 + rng.random() * 0.6, 5)]}
                  for i in range(stops)],
        "options": {"time_limit": time_limit},
    }


@pytest.mark.slow
def test_a_crashed_search_fails_its_job_and_the_worker_goes_on(processes, client_factory):
    _, key = client_factory("crash")
    w1 = processes.worker("w1")
    processes.web()
    api = Api(processes.url)
    job_id = api.submit_ok(key, random_problem(random.Random(11), stops=100, time_limit=20))
    os.kill(_running_child(api, key, job_id, w1.pid), signal.SIGSEGV)

    doc = api.wait_terminal(key, job_id, timeout=10, poll=5)
    assert doc["status"] == "failed", doc
    assert doc["error"]["reason"] == "solver_crashed" and "SIGSEGV" in doc["error"]["detail"], doc["error"]
    assert doc["solution"]["routes"], "the incumbent received before the crash is kept"

    problem = random_problem(random.Random(12), stops=20, time_limit=0.5)
    after = api.wait_terminal(key, api.submit_ok(key, problem), timeout=30, poll=5)
    assert after["status"] == "succeeded" and w1.poll() is None
    assert_valid_solution(problem, after["solution"])


@pytest.mark.slow
def test_an_oversized_problem_fails_with_memory_limit_and_the_worker_goes_on(processes, client_factory):
    _, key = client_factory("memory")
    w1 = processes.worker("w1", env={"ROUTEFARM_SOLVER_MEMORY_MIB": "600"})
    processes.web()
    api = Api(processes.url)
    job_id = api.submit_ok(key, _coordinate_problem(3000, time_limit=30))
    doc = api.wait_terminal(key, job_id, timeout=40, poll=10)
    assert doc["status"] == "failed" and doc["error"]["reason"] == "memory_limit", doc.get("error")
    assert "600 MiB" in doc["error"]["detail"]

    small = _coordinate_problem(40, time_limit=0.5)
    after = api.wait_terminal(key, api.submit_ok(key, small), timeout=30, poll=5)
    assert after["status"] == "succeeded" and w1.poll() is None


@pytest.mark.slow
def test_kill_9_of_a_worker_takes_its_search_with_it(processes, client_factory):
    _, key = client_factory("kill-search")
    w1 = processes.worker("w1")
    processes.web()
    api = Api(processes.url)
    job_id = api.submit_ok(key, random_problem(random.Random(13), stops=150, time_limit=60))
    child = _running_child(api, key, job_id, w1.pid)
    server = parent_of(child)
    solving = parent_of(server)
    assert solving != w1.pid, "the solving process is a child of Dramatiq's supervisor"
    os.kill(solving, signal.SIGKILL)  # that one process, not its group
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and (alive(child) or alive(server)):
        time.sleep(0.05)
    assert not alive(child) and not alive(server), "the search or its forkserver outlived the worker"
