"""Retention on real shards: ended jobs older than their client's retention go with their
deliveries, attempts and events, in bounded slices that skip locked rows; a client's own
retention wins over the farm's; completed batches go once their jobs have; an expired job
or batch answers 410; ``routefarm purge --dry-run`` counts what a purge deletes."""

from __future__ import annotations

import threading
import time
import uuid

import psycopg
import pytest
from click.testing import CliRunner
from support import SMALL_PROBLEM, make_settings, settings_env

from routefarm.broker import solve_message
from routefarm.farm import Farm
from routefarm.ids import canonical_hash, new_job_id
from routefarm.jobs import retention, states

DAY = 86400.0


@pytest.fixture
def farm(databases, redis_server):
    farm = Farm(make_settings(databases, redis_server, job_retention_s=DAY, purge_slice=3)).open(wait=True)
    yield farm
    farm.close()


@pytest.fixture
def client(farm):
    def make(name: str) -> str:
        created, _ = farm.directory.create_client(name)
        return created.id

    return make


def ended_job(farm, client_id: str, age_s: float, status: str = "succeeded", delivery: str | None = None,
              batch_id: uuid.UUID | None = None) -> uuid.UUID:
    """A job made ``age_s`` ago that ended then (through the state machine, then backdated),
    with a webhook delivery in ``delivery`` status and one attempt."""
    job_id = new_job_id(time.time() - age_s)
    message = solve_message(str(job_id), client_id)
    job = {"id": job_id, "client_id": client_id, "problem": SMALL_PROBLEM,
           "problem_hash": canonical_hash({"n": str(job_id)}), "metadata": {}, "max_attempts": 1,
           "idempotency_key": f"key-{job_id}", "request_hash": "h", "request_id": None,
           "message_id": message.message_id, "webhook_url": None}

    def make(conn):
        states.create(conn, job, dedup_window_s=0)
        if batch_id is not None:
            conn.execute("UPDATE jobs SET batch_id = %s WHERE id = %s", (batch_id, job_id))
        if status == "cancelled":
            states.cancel(conn, client_id, job_id)
        elif status != "queued":
            states.claim(conn, client_id, job_id, "w", 30.0)
            if status != "running":
                states.finish(conn, client_id, job_id, "w", status, {"routes": []} if status == "succeeded"
                              else None, None)
        conn.execute("UPDATE jobs SET created_at = now() - make_interval(secs => %s),"
                     " finished_at = CASE WHEN finished_at IS NULL THEN NULL"
                     " ELSE now() - make_interval(secs => %s) END WHERE id = %s", (age_s, age_s, job_id))
        if delivery:
            did = uuid.uuid4()
            conn.execute("INSERT INTO webhook_deliveries (id, client_id, url, event_type, job_id, event_at, status)"
                         " VALUES (%s, %s, 'https://93.184.216.34/h', 'job.succeeded', %s, now(), %s)",
                         (did, client_id, job_id, delivery))
            conn.execute("INSERT INTO webhook_attempts (id, delivery_id, client_id, attempt, url, latency_ms)"
                         " VALUES (%s, %s, %s, 1, 'https://93.184.216.34/h', 12.5)", (uuid.uuid4(), did, client_id))

    farm.store.on_shard(client_id, make)
    return job_id


def rows(farm, client_id: str) -> dict[str, int]:
    def count(conn):
        return {t: conn.execute(f"SELECT count(*) FROM {t} WHERE client_id = %s", (client_id,)).fetchone()[0]
                for t in retention.TABLES}

    return farm.store.on_shard(client_id, count)


def exists(farm, client_id: str, job_id: uuid.UUID) -> bool:
    return farm.store.get(client_id, job_id) is not None


def purge_all(farm) -> retention.Pass:
    return retention.purge(farm, budget_s=60)


def test_expired_jobs_go_with_their_deliveries_attempts_and_events(farm, client):
    c = client("retention-a")
    old = [ended_job(farm, c, 2 * DAY, s, delivery="succeeded") for s in ("succeeded", "failed", "cancelled")]
    young = ended_job(farm, c, DAY / 2, delivery="succeeded")
    still_queued = ended_job(farm, c, 2 * DAY, "queued")
    waiting = ended_job(farm, c, 2 * DAY, delivery="pending")  # its callback is not delivered yet
    before = rows(farm, c)
    assert before["outbox"] > 0  # every status change wrote an event

    def dry(conn):
        return retention.expired(conn, retention.policy(farm))

    would = farm.store.on_shard(c, dry)
    done = purge_all(farm)
    after = rows(farm, c)
    gone = {t: before[t] - after[t] for t in retention.TABLES}
    assert gone["jobs"] == 3 and gone["webhook_deliveries"] == 3 and gone["webhook_attempts"] == 3
    assert gone["outbox"] > 0 and not farm.store.on_shard(c, lambda conn: conn.execute(
        "SELECT 1 FROM outbox WHERE job_id = ANY(%s)", (old,)).fetchone())
    assert all(would[t] >= gone[t] for t in retention.TABLES) and would["jobs"] == done.deleted["jobs"] == 3
    assert not any(exists(farm, c, j) for j in old)
    assert all(exists(farm, c, j) for j in (young, still_queued, waiting))


def test_a_purge_deletes_in_bounded_slices_and_skips_locked_rows(farm, client, databases):
    c = client("retention-slices")
    jobs = [ended_job(farm, c, 2 * DAY) for _ in range(10)]
    shard = farm.directory.shard_of(c)
    locked, release = threading.Event(), threading.Event()

    def hold():  # another transaction holds one expired row (an API request updating it)
        with psycopg.connect(databases[shard]) as conn:
            conn.execute("SELECT 1 FROM jobs WHERE id = %s FOR UPDATE", (jobs[0],))
            locked.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    assert locked.wait(10)
    try:
        rules = retention.policy(farm)
        with farm.db.shard(shard) as conn:
            first, ids = retention.purge_slice(conn, rules, 3)
        assert first["jobs"] == 3 and len(ids) == 3 and jobs[0] not in ids
        began = time.monotonic()
        purge_all(farm)
        assert time.monotonic() - began < 10, "a locked row is skipped, not waited for"
        assert [j for j in jobs if exists(farm, c, j)] == [jobs[0]]
    finally:
        release.set()
        holder.join()
    purge_all(farm)
    assert not exists(farm, c, jobs[0])


def test_a_clients_own_retention_wins(farm, client):
    keeper, brief, plain = client("keeps-all"), client("keeps-an-hour"), client("default")
    farm.directory.set_retention(keeper, 0)
    farm.directory.set_retention(brief, 3600)
    kept = ended_job(farm, keeper, 3 * DAY)
    short = ended_job(farm, brief, 2 * 3600)
    default_young = ended_job(farm, plain, 2 * 3600)
    purge_all(farm)
    assert exists(farm, keeper, kept) and exists(farm, plain, default_young)
    assert not exists(farm, brief, short)
    farm.directory.set_retention(keeper, None)  # back to the default: 3 days is past it
    purge_all(farm)
    assert not exists(farm, keeper, kept)


def test_a_completed_batch_goes_after_its_jobs(farm, client):
    c = client("retention-batch")
    batch_id = new_job_id(time.time() - 2 * DAY)
    farm.store.on_shard(c, lambda conn: states.create_batch(conn, batch_id, c, 2, {}, None))
    jobs = [ended_job(farm, c, 2 * DAY, batch_id=batch_id) for _ in range(2)]
    farm.store.on_shard(c, lambda conn: conn.execute(
        "UPDATE batches SET completed_at = now() - interval '2 days' WHERE id = %s", (batch_id,)))
    done = purge_all(farm)
    assert done.deleted["batches"] >= 1 and rows(farm, c)["batches"] == 0
    assert not any(exists(farm, c, j) for j in jobs)


def test_an_expired_job_or_batch_answers_410(app_for, client, farm):
    http, headers, c = app_for("retention-api")
    job_id = ended_job(farm, c, 2 * DAY)
    purge_all(farm)
    for path in (f"/v1/jobs/{job_id}", f"/v1/jobs/{job_id}/routes.svg", f"/v1/batches/{new_job_id(time.time() - 3 * DAY)}"):
        response = http.get(path, headers=headers)
        assert response.status_code == 410, (path, response.get_data(as_text=True))
        body = response.get_json()
        assert body["type"].endswith("/expired") and body["retention_s"] == DAY and "kept 24 hours" in body["detail"]
    fresh = http.get(f"/v1/jobs/{new_job_id(time.time())}", headers=headers)
    assert fresh.status_code == 404


@pytest.fixture
def app_for(farm):
    from api import create_app

    made = []

    def make(name: str):
        app = create_app(farm.settings, farm)
        made.append(app)
        created, key = farm.directory.create_client(name)
        return app.test_client(), {"Authorization": f"Bearer {key}"}, created.id

    yield make
    for app in made:
        app.extensions["routefarm.waiter"].stop()


def test_the_purge_command_counts_then_deletes(farm, client, monkeypatch):
    from routefarm.cli.main import main

    c = client("retention-cli")
    ended_job(farm, c, 2 * DAY, delivery="failed")
    for key, value in settings_env(farm.settings).items():
        monkeypatch.setenv(key, value)
    runner = CliRunner()
    dry = runner.invoke(main, ["purge", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "would be deleted" in dry.output and rows(farm, c)["jobs"] == 1
    counts = [line.split() for line in dry.output.splitlines()[1:]]
    assert sum(int(r[1]) for r in counts) >= 1  # the jobs column, over the shards
    done = runner.invoke(main, ["purge"])
    assert done.exit_code == 0, done.output
    assert rows(farm, c)["jobs"] == 0
    bad = runner.invoke(main, ["clients", "retention", c, "soon"])
    assert bad.exit_code != 0 and "not a duration" in bad.output
    assert runner.invoke(main, ["clients", "retention", c, "7d"]).exit_code == 0
    assert farm.directory.retention_of(c) == 7 * DAY


def test_purged_rows_are_counted_by_table(farm, client):
    from prometheus_client import REGISTRY

    from routefarm.observability import metrics

    metrics.PURGED_ROWS  # noqa: B018 - defined on first use
    c = client("retention-metrics")
    shard = farm.directory.shard_of(c)

    def value() -> float:
        return REGISTRY.get_sample_value("routefarm_purged_rows_total", {"shard": shard, "table": "jobs"}) or 0.0

    before = value()
    ended_job(farm, c, 2 * DAY)
    ended_job(farm, c, 2 * DAY)
    purge_all(farm)
    assert value() - before == 2
