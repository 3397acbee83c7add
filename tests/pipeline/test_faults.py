"""Acceptance: the farm survives a killed worker, a SIGTERM, a Redis flush and a shard outage."""

from __future__ import annotations

import os
import random
import signal
import time
from pathlib import Path
from urllib.parse import urlparse

import psycopg
import pytest
import redis
from pipeline_support import (
    IN_CI,
    TERMINAL,
    Api,
    Processes,
    TcpProxy,
    assert_valid_solution,
    client_shard,
    kill_group,
    locate,
    log_tail,
    pipeline_settings,
    random_problem,
)
from support import alive, descendants, parent_of

from routefarm.farm import Farm


def _gone(pid: int, within: float) -> bool:
    """The process ended within ``within`` seconds (seen gone three times in a row)."""
    deadline, seen = time.monotonic() + within, 0
    while time.monotonic() < deadline:
        seen = 0 if alive(pid) else seen + 1
        if seen == 3:
            return True
        time.sleep(0.1)
    return False


def _job_row(databases, job_id):
    copies = locate(databases, [job_id])[job_id]
    assert len(copies) == 1, copies
    return copies[0][1]


def _wait_row(databases, job_id, predicate, timeout: float, interval: float = 0.1) -> dict:
    deadline = time.monotonic() + timeout
    row = None
    while time.monotonic() < deadline:
        row = _job_row(databases, job_id)
        if predicate(row):
            return row
        time.sleep(interval)
    raise AssertionError(f"job {job_id}: condition not met within {timeout} s; row status "
                         f"{row and row['status']}, attempts {row and row['attempts']}")


@pytest.mark.slow
def test_kill_worker_mid_solve(processes, client_factory, databases, settings, audit):
    _, key = client_factory("kill-9")
    w1 = processes.worker("w1")
    processes.stream()
    processes.web()
    api = Api(processes.url)
    # long enough that the kill lands mid-solve on a loaded machine too (at 4 s the job could
    # finish between the poll that saw it running and the kill)
    problem = random_problem(random.Random(2), stops=60, time_limit=10)
    job_id = api.submit_ok(key, problem)
    api.wait_status(key, job_id, lambda d: d["status"] == "running" and d.get("progress"), timeout=30)
    first = _job_row(databases, job_id)
    assert first["status"] == "running" and first["attempts"] == 1 and first["worker"]

    kill_group(w1, signal.SIGKILL)
    killed = time.monotonic()
    w1.wait(5)
    processes.worker("w2")

    # lease (6 s) + reaper interval (1 s) + a solve (10 s), plus a worker's start
    budget = settings.lease_s + settings.reaper_interval_s + 10 + 12
    doc = api.wait_terminal(key, job_id, timeout=budget)
    assert doc["status"] == "succeeded", doc
    assert time.monotonic() - killed <= budget
    assert_valid_solution(problem, doc["solution"])

    row = _job_row(databases, job_id)
    assert row["status"] == "succeeded" and row["attempts"] == 2, (row["status"], row["attempts"])
    assert row["worker"] != first["worker"], "the dead worker cannot have stored the result"
    # exactly one terminal transition: queued -> running -> (reaper) queued -> running -> succeeded
    assert audit.path(job_id) == ["queued", "running", "queued", "running", "succeeded"], audit.transitions(job_id)
    # and it stays that way (no late duplicate finishes the job again)
    time.sleep(settings.reaper_interval_s * 2)
    assert _job_row(databases, job_id)["finished_at"] == row["finished_at"]
    assert audit.path(job_id)[-1] == "succeeded" and audit.path(job_id).count("succeeded") == 1


@pytest.mark.slow
def test_sigterm_hands_back_or_stores(processes, client_factory, databases, audit):
    _, key = client_factory("sigterm")
    w1 = processes.worker("w1")
    processes.stream()
    processes.web()
    api = Api(processes.url)
    problem = random_problem(random.Random(3), stops=80, time_limit=10)
    job_id = api.submit_ok(key, problem)
    api.wait_status(key, job_id, lambda d: d["status"] == "running" and d.get("progress"), timeout=30)

    kill_group(w1, signal.SIGTERM)
    w1.wait(15)
    after = _job_row(databases, job_id)
    assert after["status"] in ("queued", "running", "succeeded"), after["status"]

    processes.worker("w2")
    doc = api.wait_terminal(key, job_id, timeout=40)
    assert doc["status"] == "succeeded", doc
    assert_valid_solution(problem, doc["solution"])
    path = audit.path(job_id)
    assert "failed" not in path and path.count("succeeded") == 1 and path[-1] == "succeeded", path
    assert path in (["queued", "running", "succeeded"],
                    ["queued", "running", "queued", "running", "succeeded"]), path


@pytest.mark.slow
def test_sigterm_hands_the_job_back_at_once(processes, client_factory, databases, audit):
    """A SIGTERM early in a long solve hands the job back (not left for the reaper's lease)."""
    _, key = client_factory("sigterm-hand-back")
    w1 = processes.worker("w1")
    processes.web()  # no stream: only the worker itself can put the job back in the queue
    api = Api(processes.url)
    job_id = api.submit_ok(key, random_problem(random.Random(4), stops=80, time_limit=20))
    api.wait_status(key, job_id, lambda d: d["status"] == "running" and d.get("progress"), timeout=30)

    kill_group(w1, signal.SIGTERM)
    w1.wait(15)
    row = _job_row(databases, job_id)
    assert row["status"] == "queued", (
        f"after SIGTERM the job is {row['status']!r} (attempts {row['attempts']}); worker log:\n"
        + log_tail(processes.logs / "w1.log"))
    assert row["attempts"] == 0 and row["worker"] is None
    assert audit.path(job_id) == ["queued", "running", "queued"]


@pytest.mark.slow
def test_a_second_sigterm_still_hands_the_job_back(processes, client_factory, databases, audit):
    """Dramatiq exits a worker process at its second SIGTERM (as a SIGTERM to the group
    delivers: once from the sender, once forwarded by its main process) before its worker
    shuts down: the job is handed back on the way out all the same, and the process does not
    wait for the solve to run to its time limit."""
    _, key = client_factory("sigterm-twice")
    w1 = processes.worker("w1")
    processes.web()
    api = Api(processes.url)
    job_id = api.submit_ok(key, random_problem(random.Random(5), stops=80, time_limit=30))
    api.wait_status(key, job_id, lambda d: d["status"] == "running" and d.get("progress"), timeout=30)
    [worker] = [pid for pid in descendants(w1.pid) if parent_of(pid) == w1.pid and alive(pid)
                and b"workers.run" in Path(f"/proc/{pid}/cmdline").read_bytes()]
    os.kill(worker, signal.SIGTERM)
    time.sleep(0.05)  # within the worker process's one-second sleep: it never reaches worker.stop()
    os.kill(worker, signal.SIGTERM)
    assert _gone(worker, within=15), "the worker process still runs 15 s after two SIGTERMs:\n" + log_tail(
        processes.logs / "w1.log")
    assert "Killing worker process" in (processes.logs / "w1.log").read_text()
    row = _job_row(databases, job_id)
    assert row["status"] == "queued" and row["attempts"] == 0 and row["worker"] is None, row
    assert audit.path(job_id) == ["queued", "running", "queued"]


@pytest.mark.slow
def test_redis_flushall_mid_run(processes, client_factory, databases, settings, audit):
    _, key = client_factory("flush")
    processes.worker("w1")
    processes.worker("w2")
    processes.stream()
    processes.web()
    api = Api(processes.url)
    rng = random.Random(7)
    problems = {}
    for _ in range(20):
        problem = random_problem(rng, stops=8, time_limit=0.5)
        problems[api.submit_ok(key, problem)] = problem

    # a few finish, then everything in Redis goes: queued messages, in-flight messages, cache
    deadline = time.monotonic() + 30
    while sum(r["status"] == "succeeded" for _, r in _rows(databases, problems)) < 3:
        assert time.monotonic() < deadline, "no job finished"
        time.sleep(0.1)
    server = redis.Redis.from_url(settings.redis_url)
    if IN_CI:
        server.flushall()  # the CI machine's Redis serves only this test run
    else:  # a developer's Redis may serve other farms: flush everything this farm has there
        server.flushdb()
        redis.Redis.from_url(settings.cache_url).flushdb()
    flushed = time.monotonic()
    open_then = [j for j, r in _rows(databases, problems) if r["status"] not in TERMINAL]
    assert open_then, "every job ended before the flush: the test proves nothing"

    docs = api.wait_all(key, problems, max(1.0, flushed + 60 - time.monotonic()), databases)
    assert {d["status"] for d in docs.values()} == {"succeeded"}, {j: d["status"] for j, d in docs.items()}
    for job_id, doc in docs.items():
        assert_valid_solution(problems[job_id], doc["solution"])
        path = audit.path(job_id)
        assert path.count("succeeded") == 1 and path[-1] == "succeeded", (job_id, path)
    assert len(_rows(databases, problems)) == 20


def _rows(databases, job_ids):
    rows = []
    for job_id, copies in locate(databases, job_ids).items():
        assert len(copies) <= 1, copies
        rows += [(job_id, row) for _, row in copies]
    return rows


# -- one shard unreachable ------------------------------------------------------------------


def _expect_unavailable(response, what: str) -> None:
    assert response.status == 503, (what, response.status, response.body)
    assert response.content_type == "application/problem+json", (what, response.headers)
    assert response.body["status"] == 503 and response.body["title"]
    assert int(response.headers["retry-after"]) > 0, response.headers
    assert response.elapsed < 5, (what, response.elapsed)


@pytest.mark.slow
def test_shard_outage(databases, redis_server, tmp_path):
    proxy = TcpProxy(target_port=urlparse(databases["shard1"]).port or 5432).start()
    cut_url = f"postgresql://postgres@127.0.0.1:{proxy.port}{urlparse(databases['shard1']).path}"
    settings = pipeline_settings(databases, redis_server,
                                 shard_urls=f"{databases['shard0']},{cut_url}", db_timeout_s=1.0)
    farm = Farm(settings).open(wait=True)
    procs = Processes(settings, tmp_path)
    try:
        clients = {}
        for _ in range(40):
            client, key = farm.directory.create_client("outage")
            clients.setdefault(client.shard, (client.id, key))
            if len(clients) == 2:
                break
        assert set(clients) == {"shard0", "shard1"}, clients
        (_healthy_id, healthy), (cut_id, cut) = clients["shard0"], clients["shard1"]
        assert client_shard(databases, cut_id) == "shard1"

        procs.worker("w1")
        procs.web()
        api = Api(procs.url)
        rng = random.Random(8)
        # both clients work; the cut client's earlier job is read later, while its shard is away
        earlier = {}
        for key in (healthy, cut):
            job_id = api.submit_ok(key, random_problem(rng, stops=5, time_limit=0.2))
            assert api.wait_terminal(key, job_id, timeout=30)["status"] == "succeeded"
            earlier[key] = job_id
        assert proxy.connections > 0

        proxy.stop()
        cut_at = time.monotonic()
        # the healthy client is unaffected
        problem = random_problem(rng, stops=5, time_limit=0.2)
        response = api.submit(healthy, problem)
        assert response.status == 202 and response.elapsed < 2, (response.status, response.elapsed)
        doc = api.wait_terminal(healthy, response.body["id"], timeout=20)
        assert doc["status"] == "succeeded"
        assert_valid_solution(problem, doc["solution"])
        assert api.call("GET", "/v1/jobs?limit=5", healthy).status == 200

        # the cut client gets 503 problem+json with Retry-After, quickly, on every endpoint
        redis.Redis.from_url(settings.cache_url).delete(f"rf:job:{earlier[cut]}")  # not served from the cache
        for _ in range(3):
            _expect_unavailable(api.submit(cut, random_problem(rng, stops=5, time_limit=0.2)), "POST")
        _expect_unavailable(api.job(cut, earlier[cut]), "GET")
        _expect_unavailable(api.job(cut, earlier[cut], wait=5), "GET ?wait")
        _expect_unavailable(api.call("GET", "/v1/jobs", cut), "GET list")
        _expect_unavailable(api.cancel(cut, earlier[cut]), "DELETE")
        ready = api.call("GET", "/readyz")
        assert ready.status == 503 and ready.body["checks"]["shard0"] == "ok"
        assert ready.body["checks"]["shard1"] != "ok"
        assert time.monotonic() - cut_at < 30
        # and the healthy client is still served
        assert api.job(healthy, earlier[healthy]).status == 200

        proxy.start()
        back_at = time.monotonic()
        while True:
            response = api.call("GET", "/v1/jobs?limit=1", cut)
            assert response.status in (200, 503), (response.status, response.body)
            if response.status == 200:
                break
            assert time.monotonic() - back_at < 10, "the cut client was not served again within 10 s"
            time.sleep(0.2)
        assert api.job(cut, earlier[cut]).body["status"] == "succeeded"
        problem = random_problem(rng, stops=5, time_limit=0.2)
        job_id = api.submit_ok(cut, problem)
        doc = api.wait_terminal(cut, job_id, timeout=20)
        assert doc["status"] == "succeeded"
        assert_valid_solution(problem, doc["solution"])
        assert time.monotonic() - back_at < 30
        with psycopg.connect(databases["shard1"]) as conn:
            assert conn.execute("SELECT status FROM jobs WHERE id = %s", (job_id,)).fetchone() == ("succeeded",)
    finally:
        procs.stop_all()
        proxy.stop()
        farm.close()
