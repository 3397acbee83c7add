"""The job state machine as a table: every transition tried from every status, on a real shard.

A transition must change the row exactly when ``states.TRANSITIONS`` allows it from the
row's status, and leave it untouched (returning nothing) otherwise.
"""

from __future__ import annotations

import uuid

import pytest
from psycopg.rows import dict_row
from support import SMALL_PROBLEM

from routefarm.broker import solve_message
from routefarm.contract.statuses import STATUSES
from routefarm.ids import canonical_hash, new_job_id
from routefarm.jobs import states

WORKER = "w:1"


def _job(client_id: str) -> dict:
    message = solve_message(new_job_id(), client_id)
    return {"id": uuid.UUID(message.args[0]), "client_id": client_id, "problem": SMALL_PROBLEM,
            "problem_hash": canonical_hash({"n": message.message_id}), "metadata": {}, "max_attempts": 1,
            "idempotency_key": None, "request_hash": None, "request_id": None,
            "message_id": message.message_id, "webhook_url": None}


def _in_status(conn, client_id: str, status: str) -> uuid.UUID:
    """A job brought to ``status`` through the state machine itself."""
    job = _job(client_id)
    assert states.create(conn, job, dedup_window_s=0)["status"] == "queued"
    if status == "queued":
        return job["id"]
    if status == "cancelled":
        assert states.cancel(conn, client_id, job["id"])["status"] == "cancelled"
        return job["id"]
    assert states.claim(conn, client_id, job["id"], WORKER, -60.0) is not None  # lease already expired
    if status != "running":
        assert states.finish(conn, client_id, job["id"], WORKER, status, None, None) is not None
    return job["id"]


def _status(conn, job_id) -> str:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute("SELECT status FROM jobs WHERE id = %s", (job_id,))
        return cur.fetchone()["status"]


# (transition, what it would make of a job, how to try it)
TRIES = [
    ("claim", "running", lambda conn, c, j: states.claim(conn, c, j, WORKER, 30.0)),
    *[("finish", s, lambda conn, c, j, s=s: states.finish(conn, c, j, WORKER, s, None, None))
      for s in ("succeeded", "failed", "cancelled")],
    ("cancel", "cancelled", lambda conn, c, j: states.cancel(conn, c, j)),
    ("hand_back", "queued", lambda conn, c, j: states.hand_back(conn, c, j, WORKER, "m")),
    ("retry", "queued", lambda conn, c, j: states.retry(conn, c, j, WORKER, "m")),
    ("expire_leases", "failed",
     lambda conn, c, j: [r for r in states.expire_leases(conn, 100, solve_message)[0] if r["id"] == j] or None),
]


@pytest.mark.parametrize("before", STATUSES)
@pytest.mark.parametrize(("transition", "after", "attempt"), TRIES, ids=[f"{t}->{a}" for t, a, _ in TRIES])
def test_each_transition_changes_a_job_only_from_the_status_the_table_allows(farm, client_factory, transition,
                                                                            after, attempt, before):
    client_id, _ = client_factory("states")
    with farm.db.shard(farm.directory.shard_of(client_id)) as conn:
        job_id = _in_status(conn, client_id, before)
        result = attempt(conn, client_id, job_id)
        now = _status(conn, job_id)
    if states.allowed(transition, before, after):
        assert result is not None and now == after, (transition, before, now)
    else:
        # a running job asked to cancel keeps running (its worker ends it): the only "yes" that
        # changes no status
        asked_to_stop = transition == "cancel" and before == "running"
        assert now == before, (transition, before, now)
        assert (result is not None) == asked_to_stop, (transition, before, result)


def test_a_transition_the_table_does_not_know_is_refused(farm, client_factory):
    client_id, _ = client_factory("states-refused")
    with farm.db.shard(farm.directory.shard_of(client_id)) as conn:
        job_id = _in_status(conn, client_id, "running")
        with pytest.raises(ValueError, match="not a transition"):
            states.finish(conn, client_id, job_id, WORKER, "queued", None, None)
        assert _status(conn, job_id) == "running"


def test_the_table_is_the_design():
    assert {
        (None, "queued"), (None, "succeeded"), ("queued", "running"), ("running", "succeeded"),
        ("running", "failed"), ("running", "cancelled"), ("queued", "cancelled"), ("running", "queued"),
    } == states.ALLOWED
