"""Acceptance: the job pipeline end to end with real web, worker and stream processes.

Throughput across clients and shards, long-polls that do not starve submissions, and
cancellation of a running solve.
"""

from __future__ import annotations

import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from pipeline_support import (
    TERMINAL,
    Api,
    assert_valid_solution,
    client_shard,
    locate,
    random_problem,
)


def clients_covering_shards(client_factory, databases, count: int, shards: int = 2, limit: int = 40):
    """``count`` clients (id, key, shard) among which every shard appears (placement is hashed)."""
    made = []
    for _ in range(limit):
        client_id, key = client_factory("pipeline")
        made.append((client_id, key, client_shard(databases, client_id)))
        chosen = _cover(made, count, shards)
        if chosen:
            return chosen
    raise AssertionError(f"{limit} clients did not cover {shards} shards: {made}")


def _cover(made, count, shards):
    if len(made) < count:
        return None
    by_shard: dict[str, list] = {}
    for c in made:
        by_shard.setdefault(c[2], []).append(c)
    if len(by_shard) < shards:
        return None
    chosen = [group[0] for group in by_shard.values()]
    chosen += [c for c in made if c not in chosen][: count - len(chosen)]
    return chosen


@pytest.mark.slow
def test_hundred_jobs_five_clients(processes, client_factory, databases):
    clients = clients_covering_shards(client_factory, databases, 5)
    processes.worker("w1")
    processes.worker("w2")
    processes.stream()
    processes.web()
    api = Api(processes.url)

    rng = random.Random(1)
    submitted: list[tuple[str, str, str, dict]] = []  # (client_id, key, job_id, problem)
    lock = threading.Lock()

    def submit_all(client):
        client_id, key, _ = client
        # four distinct problems per client, each sent five times with one demand changed:
        # twenty distinct problems, so de-duplication cannot answer most of them
        bases = [random_problem(random.Random(rng.random()), stops=rng.randint(5, 9), time_limit=0.2)
                 for _ in range(4)]
        for i in range(20):
            problem = {**bases[i % 4], "stops": [dict(s) for s in bases[i % 4]["stops"]]}
            problem["stops"][0]["demand"] = [1 + i // 4]
            job_id = api.submit_ok(key, problem, {"client": client_id, "n": i})
            with lock:
                submitted.append((client_id, key, job_id, problem))

    with ThreadPoolExecutor(5) as pool:
        list(pool.map(submit_all, clients))
    assert len(submitted) == 100 and len({s[2] for s in submitted}) == 100

    docs = {}
    deadline = time.monotonic() + 120
    for client_id, key, _ in clients:
        mine = [s[2] for s in submitted if s[0] == client_id]
        docs.update(api.wait_all(key, mine, max(1.0, deadline - time.monotonic()), databases))
    statuses = {d["status"] for d in docs.values()}
    assert statuses == {"succeeded"}, {j: d.get("error") for j, d in docs.items() if d["status"] != "succeeded"}

    # each row lives only in its client's shard, and every solution passes the checker
    shard_of = {c[0]: c[2] for c in clients}
    where = locate(databases, docs)
    for client_id, _, job_id, problem in submitted:
        copies = where[job_id]
        assert [shard for shard, _ in copies] == [shard_of[client_id]], (job_id, client_id, copies)
        row = copies[0][1]
        assert row["client_id"] == client_id and row["status"] == "succeeded"
        assert row["solution"] == docs[job_id]["solution"]
        assert docs[job_id]["metadata"] == {"client": client_id, "n": int(row["metadata"]["n"])}
        assert_valid_solution(problem, docs[job_id]["solution"])
    assert len({shard_of[c[0]] for c in clients}) == 2
    # the work was really done by the workers, not only de-duplicated
    solved = sum(1 for d in docs.values() if "deduplicated_from" not in d)
    assert solved >= 20, solved


@pytest.mark.slow
def test_long_polls_do_not_block_submissions(processes, client_factory):
    """50 long-polls held open (no worker yet) while new submissions are answered at once."""
    _, key = client_factory("long-poll")
    processes.env["ROUTEFARM_MAX_LONG_POLLS_PER_CLIENT"] = "50"  # one client holds them all: above its default share
    processes.web()
    api = Api(processes.url)
    rng = random.Random(5)
    held = [api.submit_ok(key, random_problem(rng, stops=4, time_limit=0.05)) for _ in range(50)]

    results: dict[str, tuple[float, object]] = {}
    lock = threading.Lock()

    def long_poll(job_id: str) -> None:
        try:
            response = api.job(key, job_id, wait=20, timeout=40)
            outcome = (response.status, response.body)
        except Exception as exc:  # noqa: BLE001 - reported by the assertions below
            outcome = exc
        with lock:
            results[job_id] = (time.monotonic(), outcome)

    threads = [threading.Thread(target=long_poll, args=(j,), daemon=True) for j in held]
    for t in threads:
        t.start()
    time.sleep(1.5)  # every long-poll reaches the server and waits
    assert results == {}, "a long-poll on a queued job returned early"

    latencies = []
    extra = []
    for _ in range(10):
        response = api.submit(key, random_problem(rng, stops=4, time_limit=0.05))
        assert response.status == 202, (response.status, response.body)
        latencies.append(response.elapsed)
        extra.append(response.body["id"])
    reads = [api.job(key, held[0]) for _ in range(5)]
    assert all(r.status == 200 and r.body["status"] == "queued" for r in reads)
    assert max(latencies) < 1.0, latencies
    assert max(r.elapsed for r in reads) < 1.0, [r.elapsed for r in reads]
    assert results == {}, "a long-poll returned before any worker ran"

    worker_started = time.monotonic()
    processes.worker("w1")
    for t in threads:
        t.join(timeout=max(0.1, worker_started + 35 - time.monotonic()))
    assert len(results) == 50, f"{50 - len(results)} long-polls still open"
    failures = {j: o for j, (_, o) in results.items()
                if not (isinstance(o, tuple) and o[0] == 200 and o[1]["status"] in TERMINAL)}
    assert failures == {}, failures
    assert {o[1]["status"] for _, o in results.values()} == {"succeeded"}
    assert all(at > worker_started for at, _ in results.values())


def test_cancel_running_job_within_a_second(processes, client_factory, databases):
    client_id, key = client_factory("cancel")
    processes.worker("w1")
    processes.web()
    api = Api(processes.url)
    problem = random_problem(random.Random(6), stops=150, time_limit=20)
    job_id = api.submit_ok(key, problem)
    # running, and the search under way (progress published)
    api.wait_status(key, job_id, lambda d: d["status"] == "running" and d.get("progress"), timeout=30)
    # the best solution so far is readable, routes included
    running = api.wait_status(key, job_id, lambda d: d.get("incumbent"), timeout=5, include="incumbent")
    progress, incumbent = running["progress"], running["incumbent"]
    assert running["status"] == "running" and incumbent["routes"]
    assert_valid_solution(problem, incumbent)
    assert progress["found_at"] and progress["summary"]["vehicles_used"] >= 1
    assert progress["objective"] >= 0 and progress["incumbents"] >= 1
    assert "incumbent" not in api.job(key, job_id).body, "only with ?include=incumbent"

    asked = time.monotonic()
    response = api.cancel(key, job_id)
    assert response.status == 202, (response.status, response.body)
    assert response.body["status"] == "running" and response.body.get("cancel_requested") is True

    doc = api.wait_terminal(key, job_id, timeout=10, poll=5)
    ended = time.monotonic() - asked
    assert doc["status"] == "cancelled", doc
    assert ended <= 1.0, f"the job ended {ended:.2f} s after the DELETE"
    assert "solution" in doc, "the best solution found was not kept"
    assert_valid_solution(problem, doc["solution"])
    ((shard, row),) = locate(databases, [job_id])[job_id]
    assert shard == client_shard(databases, client_id)
    assert row["status"] == "cancelled" and row["finished_at"] is not None and row["solution"] == doc["solution"]
    # a second DELETE of the ended job answers with the cancelled document
    again = api.cancel(key, job_id)
    assert again.status == 200 and again.body["status"] == "cancelled"



def test_a_read_racing_the_finish_does_not_hide_the_result(farm, client_factory, settings):
    """A GET that read the row while the job was running and writes the cache just after the
    worker stored the result must not make the job look running afterwards.

    The web handler runs in this process (Flask test client, real Postgres and Redis); the
    worker's finish is the store's and the cache's own calls. Only the moment is forced: the
    GET pauses between its shard read and its cache write, as a busy web thread can.
    """
    import uuid

    from api import create_app
    from optimizer import parse_problem
    from optimizer.engines import engine
    from routefarm.jobs.documents import status_document

    client_id, key = client_factory("read-race")
    app = create_app(settings, farm)
    http = app.test_client()
    headers = {"Authorization": f"Bearer {key}"}
    problem = random_problem(random.Random(12), stops=4, time_limit=0.1)
    job_id = http.post("/v1/jobs", json={"problem": problem}, headers=headers).get_json()["id"]
    jid = uuid.UUID(job_id)
    worker = "test-worker:1"
    assert farm.store.claim(client_id, jid, worker, settings.lease_s) is not None
    farm.cache.drop_job(job_id)  # as the worker does on claiming

    read_done, go_on = threading.Event(), threading.Event()
    real_get = farm.store.get

    def slow_get(*args, **kwargs):
        row = real_get(*args, **kwargs)
        if threading.current_thread().name == "racing-read":
            read_done.set()
            go_on.wait(10)
        return row

    farm.store.get = slow_get
    racing: dict = {}

    def read():
        racing["doc"] = http.get(f"/v1/jobs/{job_id}", headers=headers).get_json()

    reader = threading.Thread(target=read, name="racing-read", daemon=True)
    try:
        reader.start()
        assert read_done.wait(10)
        # the worker stores its result and refreshes the cache (workers.solving._store)
        solution = engine("ortools").solve(parse_problem(problem), time_limit=0.1).to_json_dict()
        row = farm.store.finish(client_id, jid, worker, "succeeded", solution, None)
        row["solution"] = solution
        farm.cache.finished(job_id, {**status_document(row), "client_id": client_id})
        go_on.set()
        reader.join(10)
    finally:
        go_on.set()
        farm.store.get = real_get
        app.extensions["routefarm.waiter"].stop()
    assert racing["doc"]["status"] == "running"  # what that GET saw was true when it read it
    after = http.get(f"/v1/jobs/{job_id}", headers=headers).get_json()
    assert after["status"] == "succeeded", (
        f"the job finished but GET answers {after['status']!r} (cached by the slower read)")
    waited = http.get(f"/v1/jobs/{job_id}?wait=2", headers=headers).get_json()
    assert waited["status"] == "succeeded"
