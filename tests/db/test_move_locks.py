"""A shard move's last step locks the moved client only: while it holds its locks, another
client on the same shard submits jobs and batches and reads them; the moved client's own
submissions (a job, a batch: the order batch creation takes its locks in) wait for the move,
then land on the new shard. No deadlock, no job left behind. Waits are bounded by joins."""

from __future__ import annotations

import threading
import time

import psycopg
from support import SMALL_PROBLEM

from routefarm.db import sharding

WAIT = 30.0  # seconds any step may take under load before the test gives up


def problem(seed: int) -> dict:
    return {**SMALL_PROBLEM, "options": {"time_limit": 0.2, "seed": seed}}  # distinct: no de-duplication


def same_shard_clients(farm, client_factory) -> tuple[tuple[str, dict], tuple[str, dict]]:
    """Two clients placed on the same shard: (id, headers) each."""
    made: dict[str, list] = {}
    for n in range(40):
        client_id, key = client_factory(f"neighbour-{n}")
        group = made.setdefault(farm.directory.shard_of(client_id), [])
        group.append((client_id, {"Authorization": f"Bearer {key}"}))
        if len(group) == 2:
            return group[0], group[1]
    raise AssertionError("no two clients on one shard")


class Call(threading.Thread):
    """One HTTP request of the app in a thread; ``response`` once answered."""

    def __init__(self, app, method: str, path: str, headers: dict, body: dict | None = None):
        super().__init__(daemon=True)
        self.app, self.args = app, (method, path, headers, body)
        self.response = None
        self.start()

    def run(self):
        method, path, headers, body = self.args
        self.response = self.app.test_client().open(path, method=method, json=body, headers=headers)

    def answered(self, timeout: float = WAIT):
        self.join(timeout)
        assert not self.is_alive(), f"{self.args[0]} {self.args[1]} did not answer within {timeout} s"
        return self.response


def waiting_statement(monitor, pattern: str) -> bool:
    return monitor.execute("SELECT 1 FROM pg_stat_activity WHERE datname = current_database()"
                           " AND wait_event_type IN ('Lock', 'Advisory') AND query LIKE %s",
                           (pattern,)).fetchone() is not None


def test_a_moves_locks_stall_no_other_client_and_deadlock_with_no_batch(app, http, farm, client_factory,
                                                                        databases):
    (mover, mover_headers), (other, other_headers) = same_shard_clients(farm, client_factory)
    source = farm.directory.shard_of(mover)
    target = next(s for s in farm.db.shards if s != source)
    for seed in range(3):
        assert http.post("/v1/jobs", json={"problem": problem(seed)}, headers=mover_headers).status_code == 202
    batch = http.post("/v1/batches", json={"jobs": [{"problem": problem(10)}]}, headers=mover_headers)
    assert batch.status_code == 202

    outcome: dict = {}

    def run_move():
        try:
            outcome["moved"] = sharding.move(farm, mover, target)
        except Exception as exc:  # noqa: BLE001 - inspected below
            outcome["error"] = exc

    with psycopg.connect(databases[source]) as holder, psycopg.connect(databases[source], autocommit=True) as monitor:
        # hold one of the mover's batch rows: the move's last step stops there, its locks taken
        holder.execute("SELECT 1 FROM batches WHERE client_id = %s FOR UPDATE", (mover,))
        mover_thread = threading.Thread(target=run_move, daemon=True)
        mover_thread.start()
        deadline = time.monotonic() + WAIT
        while not waiting_statement(monitor, "%FROM batches%"):
            assert mover_thread.is_alive() and time.monotonic() < deadline, f"the move never locked: {outcome}"
            time.sleep(0.02)

        # the moved client's writes wait for the move (a job, and a batch: its lock, then its rows)
        mover_job = Call(app, "POST", "/v1/jobs", mover_headers, {"problem": problem(20)})
        mover_batch = Call(app, "POST", "/v1/batches", mover_headers, {"jobs": [{"problem": problem(21)}]})
        # another client of the same shard is not held up: submissions, a batch, reads
        for seed in range(30, 33):
            created = Call(app, "POST", "/v1/jobs", other_headers, {"problem": problem(seed)}).answered()
            assert created.status_code == 202, created.get_json()
            read = Call(app, "GET", f"/v1/jobs/{created.get_json()['id']}", other_headers).answered()
            assert read.status_code == 200 and read.get_json()["status"] == "queued"
        other_batch = Call(app, "POST", "/v1/batches", other_headers, {"jobs": [{"problem": problem(40)}]})
        assert other_batch.answered().status_code == 202
        listed = Call(app, "GET", "/v1/jobs?limit=100", other_headers).answered()
        assert len(listed.get_json()["jobs"]) == 4  # three jobs and the batch's
        assert mover_thread.is_alive() and mover_job.is_alive() and mover_batch.is_alive()
        assert farm.directory.shard_of(other, fresh=True) == source
        holder.rollback()  # let the move finish

        mover_thread.join(WAIT)
        assert not mover_thread.is_alive() and "error" not in outcome, outcome
        job = mover_job.answered()
        second_batch = mover_batch.answered()
    assert job.status_code == 202 and second_batch.status_code == 202, (job.get_json(), second_batch.get_json())
    assert outcome["moved"] == 4
    assert farm.directory.shard_of(mover, fresh=True) == target
    per_shard = {}
    for shard in (source, target):
        with psycopg.connect(databases[shard]) as conn:
            per_shard[shard] = conn.execute("SELECT count(*) FROM jobs WHERE client_id = %s", (mover,)).fetchone()[0]
    assert per_shard == {source: 0, target: 6}  # the 4 moved, then the job and the batch's job
    listed = http.get("/v1/jobs?limit=100", headers=mover_headers).get_json()["jobs"]
    assert job.get_json()["id"] in {j["id"] for j in listed} and len(listed) == 6
