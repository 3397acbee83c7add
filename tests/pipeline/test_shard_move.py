"""Acceptance: moving a client to another shard while its jobs are submitted, solved and read."""

from __future__ import annotations

import random
import threading
import time

import pytest
from pipeline_support import (
    Api,
    assert_valid_solution,
    client_row_counts,
    client_shard,
    locate,
    random_problem,
)

from routefarm.db import sharding


def _count(databases, job_ids, status: str) -> int:
    return sum(1 for copies in locate(databases, job_ids).values() for _, row in copies if row["status"] == status)


@pytest.mark.slow
def test_shard_move_under_load(processes, farm, client_factory, databases):
    client_id, key = client_factory("mover")
    source = client_shard(databases, client_id)
    target = next(s for s in farm.db.shards if s != source)
    processes.worker("w1")
    processes.stream()
    processes.web()
    api = Api(processes.url)
    rng = random.Random(9)

    problems: dict[str, dict] = {}
    for _ in range(30):
        problem = random_problem(rng, stops=6, time_limit=0.2)
        problems[api.submit_ok(key, problem)] = problem
    deadline = time.monotonic() + 30
    while _count(databases, problems, "succeeded") < 10:
        assert time.monotonic() < deadline, "ten jobs did not finish"
        time.sleep(0.1)

    # keep submitting (and reading) while the move runs
    more: dict[str, dict] = {}
    answered: list[tuple[float, float]] = []  # (sent, answered) of every accepted submission
    failures: list = []
    stop = threading.Event()

    def keep_submitting():
        while not stop.is_set() and len(more) < 60:
            problem = random_problem(rng, stops=6, time_limit=0.2)
            sent = time.monotonic()
            try:
                response = api.submit(key, problem)
            except OSError as exc:
                failures.append(("POST", repr(exc)))
                continue
            if response.status == 202:
                more[response.body["id"]] = problem
                answered.append((sent, time.monotonic()))
                read = api.job(key, response.body["id"])
                if read.status != 200:
                    failures.append(("GET", read.status, read.body))
            else:
                failures.append(("POST", response.status, response.body))
            time.sleep(0.03)

    submitter = threading.Thread(target=keep_submitting, daemon=True)
    submitter.start()
    try:
        time.sleep(0.5)
        open_at_move = len(problems) + len(more) - _count(databases, [*problems, *more], "succeeded")
        move_started = time.monotonic()
        moved = sharding.move(farm, client_id, target)
        move_ended = time.monotonic()
        time.sleep(0.5)
    finally:
        stop.set()
        submitter.join(15)
    assert not submitter.is_alive()
    assert failures == [], failures
    during = [a for a in answered if a[0] < move_ended and a[1] > move_started]
    assert during, f"no submission overlapped the move ({move_ended - move_started:.2f} s)"
    assert open_at_move > 0, "every job had ended before the move: nothing was moved under load"
    assert moved >= 30
    assert client_shard(databases, client_id) == target

    problems.update(more)
    docs = api.wait_all(key, problems, 90, databases)
    assert {d["status"] for d in docs.values()} == {"succeeded"}, \
        {j: (d["status"], d.get("error")) for j, d in docs.items() if d["status"] != "succeeded"}

    where = locate(databases, problems)
    misplaced = {j: [s for s, _ in copies] for j, copies in where.items() if [s for s, _ in copies] != [target]}
    assert misplaced == {}, f"jobs not exactly once on {target}: {misplaced}"
    assert client_row_counts(databases, client_id) == {source: 0, target: len(problems)}
    for job_id, problem in problems.items():
        row = where[job_id][0][1]
        assert row["status"] == "succeeded" and row["solution"] == docs[job_id]["solution"]
        assert_valid_solution(problem, docs[job_id]["solution"])
        response = api.job(key, job_id)
        assert response.status == 200 and response.body["status"] == "succeeded"
    listed = api.call("GET", "/v1/jobs?limit=100", key).body["jobs"]
    assert {j["id"] for j in listed} == set(problems)


def test_jobs_listed_right_after_a_move(processes, farm, client_factory, databases):
    """Every endpoint follows a move at once, the listing included (processes cache the shard map)."""
    client_id, key = client_factory("list-after-move")
    source = client_shard(databases, client_id)
    target = next(s for s in farm.db.shards if s != source)
    processes.web()
    api = Api(processes.url)
    rng = random.Random(10)
    job_ids = {api.submit_ok(key, random_problem(rng, stops=4, time_limit=0.1)) for _ in range(5)}
    for _ in range(8):  # both web processes have just looked the client's shard up
        assert len(api.call("GET", "/v1/jobs", key).body["jobs"]) == 5
    sharding.move(farm, client_id, target)
    for attempt in range(8):
        listed = api.call("GET", "/v1/jobs", key)
        assert listed.status == 200
        assert {j["id"] for j in listed.body["jobs"]} == job_ids, f"request {attempt} after the move"
    for job_id in job_ids:
        assert api.job(key, job_id).status == 200


def test_a_move_that_fails_leaves_every_job_in_one_place(farm, client_factory, databases):
    """A move whose last step fails (here: chosen as a deadlock victim against a writer that,
    like the reaper, locks the client's rows and then updates one) must leave the directory
    pointing at the one shard that holds the client's jobs."""
    import psycopg

    from routefarm.jobs.submit import submit

    client_id, _ = client_factory("failed-move")
    source = client_shard(databases, client_id)
    target = next(s for s in farm.db.shards if s != source)
    rng = random.Random(11)
    job_ids = [submit(farm, client_id, {"problem": random_problem(rng, stops=4, time_limit=0.1)}).document["id"]
               for _ in range(3)]
    source_url = databases[source]

    outcome: dict = {}
    with psycopg.connect(source_url) as locker, psycopg.connect(source_url, autocommit=True) as monitor:
        # like the reaper's pass: take the rows FOR UPDATE ...
        locker.execute("SELECT id FROM jobs WHERE client_id = %s ORDER BY id FOR UPDATE", (client_id,))

        def run_move():
            try:
                outcome["moved"] = sharding.move(farm, client_id, target)
            except Exception as exc:  # noqa: BLE001 - inspected below
                outcome["error"] = exc

        mover = threading.Thread(target=run_move, daemon=True)
        mover.start()
        deadline = time.monotonic() + 15
        while not monitor.execute(
                "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
                " AND query LIKE 'SELECT 1 FROM jobs%%FOR UPDATE'").fetchone():
            assert mover.is_alive() and time.monotonic() < deadline, f"the move never reached its locks: {outcome}"
            time.sleep(0.02)
        # ... then update one of them (the move holds the client's lock and waits for our row locks)
        try:
            locker.execute("UPDATE jobs SET updated_at = now() WHERE id = %s", (job_ids[0],))
            locker.rollback()
        except psycopg.errors.DeadlockDetected:
            locker.rollback()
        mover.join(15)
    assert not mover.is_alive()

    where = {j: [s for s, _ in copies] for j, copies in locate(databases, job_ids).items()}
    home = client_shard(databases, client_id)
    assert where == {j: [home] for j in job_ids}, (
        f"after the move {'failed: ' + repr(outcome['error']) if 'error' in outcome else 'succeeded'}, "
        f"the directory names {home} but the jobs are on {where}")
