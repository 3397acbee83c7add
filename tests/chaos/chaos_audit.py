"""The chaos run's auditor: every accepted job, lifecycle event and webhook, checked and counted."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlparse

import psycopg
from chaos_faults import FaultLog
from chaos_load import TERMINAL, Client, Load
from kafka_support import per_job
from pipeline_support import (
    shard_dsns,
)
from psycopg.rows import dict_row
from webhook_support import Receiver, verify


@dataclass
class Findings:
    counts: dict = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def bad(self, text: str) -> None:
        self.problems.append(text)


def rows_of(databases: dict[str, str], sql: str, client_ids: list[str]) -> list[dict]:
    """``sql`` (with ``%(clients)s``) on every shard, read straight from the database; the rows
    with their shard's name."""
    found = []
    for shard, url in shard_dsns(databases).items():
        with psycopg.connect(url) as conn, conn.cursor(row_factory=dict_row) as cur:
            cur.execute(sql, {"clients": client_ids})
            found += [dict(row, shard=shard) for row in cur.fetchall()]
    return found


JOBS_SQL = (
    "SELECT id, client_id, status, solution IS NOT NULL AS has_solution,"
    " solution ->> 'status' AS solution_status, error, attempts, idempotency_key, message_id"
    " FROM jobs WHERE client_id = ANY(%(clients)s)"
)
OUTBOX_SQL = (
    "SELECT id, event_id, job_id, type, data, sent_at FROM outbox"
    " WHERE client_id = ANY(%(clients)s) ORDER BY id"
)
DELIVERIES_SQL = (
    "SELECT id, client_id, endpoint_id, url, event_type, job_id, status, attempts, last_error"
    " FROM webhook_deliveries WHERE client_id = ANY(%(clients)s)"
)


def settle(databases, client_ids: list[str], accepted: set[str], reader, timeout: float) -> float:
    """Wait (up to ``timeout`` s) until every accepted job is terminal, every outbox event of
    these clients is sent and read back, and every webhook delivery has ended; the seconds it
    took. What is still open is printed every 10 s; what is missing at the end is for the
    audit to report."""
    started = time.monotonic()
    deadline, report = started + timeout, started + 10
    while True:
        jobs = rows_of(databases, JOBS_SQL, client_ids)
        events = rows_of(databases, OUTBOX_SQL, client_ids)
        seen = {v["id"] for v in reader.values()}
        deliveries = rows_of(databases, DELIVERIES_SQL, client_ids)
        waiting = {
            "jobs not accepted or open": len(accepted) - sum(j["status"] in TERMINAL for j in jobs),
            "events unsent": sum(not e["sent_at"] for e in events),
            "events not read": sum(str(e["event_id"]) not in seen for e in events),
            "deliveries pending": sum(d["status"] == "pending" for d in deliveries),
        }
        if not any(waiting.values()) or time.monotonic() > deadline:
            return time.monotonic() - started
        if time.monotonic() > report:
            report += 10
            open_jobs = [
                f"{j['id']} {j['status']} (attempts {j['attempts']}, message {j['message_id']})"
                for j in jobs
                if j["status"] not in TERMINAL
            ]
            print(
                f"settling, {time.monotonic() - started:.0f} s: "
                + ", ".join(f"{what} {n}" for what, n in waiting.items())
                + "; "
                + "; ".join(open_jobs[:5])
            )
        time.sleep(0.5)


def audit(
    databases,
    clients: list[Client],
    loads: list[Load],
    faults: FaultLog,
    reader,
    receiver: Receiver,
) -> Findings:
    """Check the run and print its counts (``pytest -s`` shows them)."""
    found = Findings()
    client_ids = [c.client_id for c in clients]
    submissions = [s for load in loads for s in load.submissions]
    accepted = {s.job_id: s for s in submissions if s.job_id}
    _audit_jobs(found, databases, client_ids, submissions, accepted)
    _audit_events(found, databases, client_ids, accepted, reader)
    _audit_webhooks(found, databases, clients, accepted, receiver)
    c, f = found.counts, faults
    sigterm = "mid-solve" if f.terminated_mid_solve else "no job was running"
    print(
        "\n".join(
            [
                "",
                "-- chaos audit --",
                f"accepted {c['accepted']} of {len(submissions)} submissions;"
                f" {c['retried']} retried"
                f" ({c['unavailable']} answers 503 or no connection),"
                f" {c['refused']} refused for good;"
                f" cancel requests {c['cancels']}",
                f"outcomes: succeeded {c['succeeded']}, failed {c['failed']}"
                f" ({c['worker_lost']} worker_lost), cancelled {c['cancelled']};"
                f" jobs claimed more than once {c['reclaimed']}",
                f"faults: workers killed (kill -9) {f.killed}, SIGTERM {f.terminated} ({sigterm}),"
                f" also killed {', '.join(f.others_killed) or 'none'},"
                f" Redis restarts {f.redis_restarts},"
                f" Kafka stopped {f.kafka_paused:.1f} s, shard1 cut {f.shard_cut:.1f} s",
                f"events: expected {c['events_expected']}, received {c['events_received']}"
                f" (duplicates {c['events_duplicates']}), lost {c['lost_events']},"
                f" out of order {c['events_out_of_order']}",
                f"webhooks: expected {c['webhooks_expected']}, received {c['webhooks_received']}"
                f" (duplicates {c['webhooks_duplicates']}), lost {c['lost_webhooks']}",
                f"lost jobs {c['lost_jobs']}, stuck jobs {c['stuck_jobs']}",
            ]
        )
    )
    for problem in found.problems[:30]:
        print("PROBLEM:", problem)
    return found


def _audit_jobs(found: Findings, databases, client_ids, submissions, accepted) -> None:
    c = found.counts
    c["accepted"] = len(accepted)
    c["retried"] = sum(s.tries > 1 for s in submissions)
    c["unavailable"] = sum(a in (503, "error") for s in submissions for a in s.answers)
    c["refused"] = sum(1 for s in submissions if not s.job_id)
    c["cancels"] = sum(s.cancel and bool(s.job_id) for s in submissions)
    for s in submissions:
        if not s.job_id:
            found.bad(f"submission {s.idempotency_key} never accepted: answers {s.answers}")
        elif set(s.answers) - {202, 503, "error"}:
            found.bad(f"submission {s.idempotency_key}: unexpected answers {s.answers}")
        if (
            s.cancel
            and s.job_id
            and (
                not s.cancel_answers
                or s.cancel_answers[-1] not in (200, 202, 409)
                or set(s.cancel_answers[:-1]) - {503, "error"}
            )
        ):
            found.bad(f"job {s.job_id}: cancel answered {s.cancel_answers}")
    keys = Counter(s.job_id for s in submissions if s.job_id)
    found.problems += [f"job {j} accepted for {n} submissions" for j, n in keys.items() if n > 1]

    rows = rows_of(databases, JOBS_SQL, client_ids)
    copies = Counter(str(r["id"]) for r in rows)
    by_id = {str(r["id"]): r for r in rows}
    lost = [j for j in accepted if j not in by_id]
    found.problems += [f"job {j} lost: accepted, no row on any shard" for j in lost]
    found.problems += [f"job {j} has {n} rows" for j, n in copies.items() if n > 1]
    found.problems += [
        f"job {j} ({r['status']}) was never accepted (key {r['idempotency_key']})"
        for j, r in by_id.items()
        if j not in accepted
    ]
    stuck = [r for r in by_id.values() if r["status"] not in TERMINAL]
    found.problems += [
        f"job {r['id']} stuck {r['status']} (attempts {r['attempts']}) on {r['shard']}"
        for r in stuck
    ]
    for job_id, row in by_id.items():
        status, error, solved = row["status"], row["error"], row["has_solution"]
        if status == "succeeded" and not (
            solved and error is None and row["solution_status"] in ("feasible", "infeasible")
        ):
            found.bad(
                f"job {job_id} succeeded without exactly one outcome:"
                f" solution {row['solution_status']},"
                f" error {error}"
            )
        if status == "failed" and not (error and error.get("reason")):
            found.bad(f"job {job_id} failed without an error")
        if status == "cancelled" and error is not None:
            found.bad(f"job {job_id} cancelled with an error {error}")
    outcomes = Counter(r["status"] for r in by_id.values())
    c.update(
        succeeded=outcomes["succeeded"],
        failed=outcomes["failed"],
        cancelled=outcomes["cancelled"],
        worker_lost=sum(
            1 for r in by_id.values() if (r["error"] or {}).get("reason") == "worker_lost"
        ),
        reclaimed=sum(1 for r in by_id.values() if r["attempts"] > 1),
        lost_jobs=len(lost),
        stuck_jobs=len(stuck),
    )


def _audit_events(found: Findings, databases, client_ids, accepted, reader) -> None:
    c = found.counts
    rows = rows_of(databases, OUTBOX_SQL, client_ids)
    records = [v for v in reader.values() if v.get("data", {}).get("client_id") in client_ids]
    first: dict[str, dict] = {}
    for value in records:
        if first.setdefault(value["id"], value) != value:
            found.bad(f"event {value['id']} arrived twice with different content")
    expected = {str(r["event_id"]): r for r in rows}
    lost = [r for e, r in expected.items() if e not in first]
    found.problems += [
        f"event {r['event_id']} ({r['type']} of job {r['job_id']}, sent_at {r['sent_at']}) lost"
        for r in lost
    ]
    found.problems += [
        f"event {e} on the topic has no outbox row" for e in first if e not in expected
    ]
    outbox_order: dict[str, list[str]] = {}
    for row in rows:  # in outbox id order: the order of the job's changes
        outbox_order.setdefault(str(row["job_id"]), []).append(row["data"]["status"])
    seen_order = per_job(records)
    disorder = [
        j
        for j, statuses in outbox_order.items()
        if seen_order.get(j, []) != statuses
        and all(str(r["event_id"]) in first for r in rows if str(r["job_id"]) == j)
    ]
    found.problems += [
        f"job {j}: events arrived as {seen_order.get(j)}, changes were {outbox_order[j]}"
        for j in disorder
    ]
    for job_id in accepted:
        statuses = outbox_order.get(job_id, [])
        if not statuses or statuses[-1] not in TERMINAL:
            found.bad(f"job {job_id}: its events {statuses} do not end with its outcome")
    c.update(
        events_expected=len(expected),
        events_received=len(records),
        events_duplicates=len(records) - len(first),
        lost_events=len(lost),
        events_out_of_order=len(disorder),
    )


def _audit_webhooks(
    found: Findings, databases, clients: list[Client], accepted, receiver: Receiver
) -> None:
    c = found.counts
    by_path = {}
    for client in clients:
        by_path[_path(client.hook_url)] = (client, client.secret)
        by_path[_path(client.hook_url) + "/oneoff"] = (client, client.oneoff_secret)
    deliveries = rows_of(databases, DELIVERIES_SQL, [cl.client_id for cl in clients])
    requests = [r for r in receiver.events() if r.path in by_path]
    got: dict[str, list] = {}
    for request in requests:
        got.setdefault(request.headers.get("webhook-id", ""), []).append(request)
    expected = {f"msg_{uuid.UUID(str(d['id'])).hex}": d for d in deliveries}
    for webhook_id, delivery in expected.items():
        if delivery["status"] != "succeeded":
            found.bad(
                f"delivery {webhook_id} of job {delivery['job_id']} is {delivery['status']}"
                f" after {delivery['attempts']} attempts: {delivery['last_error']}"
            )
        if webhook_id not in got:
            found.bad(
                f"webhook {webhook_id} ({delivery['event_type']} of job {delivery['job_id']})"
                " never arrived"
            )
    found.problems += [
        f"webhook {w} arrived but has no delivery row" for w in got if w not in expected
    ]
    for webhook_id, arrivals in got.items():
        delivery = expected.get(webhook_id)
        for request in arrivals:
            client, secret = by_path[request.path]
            try:
                event = verify(secret, request)
            except Exception as exc:  # noqa: BLE001 - any verification failure is a finding
                found.bad(f"webhook {webhook_id}: signature does not verify ({exc})")
                continue
            if delivery is not None and (
                event["type"] != delivery["event_type"]
                or event["data"]["id"] != str(delivery["job_id"])
            ):
                found.bad(
                    f"webhook {webhook_id}: {event['type']} of {event['data']['id']}"
                    " is not its delivery"
                )
        if len({r.body for r in arrivals}) > 1:
            found.bad(f"webhook {webhook_id}: duplicates differ")
    per_job_targets = Counter(str(d["job_id"]) for d in deliveries)
    rows = {str(r["id"]): r for r in rows_of(databases, JOBS_SQL, [cl.client_id for cl in clients])}
    for job_id, submission in accepted.items():
        want = 1 + submission.oneoff
        if rows.get(job_id, {}).get("status") in TERMINAL and per_job_targets[job_id] != want:
            found.bad(
                f"job {job_id} has {per_job_targets[job_id]} webhook deliveries, expected {want}"
            )
    c.update(
        webhooks_expected=len(expected),
        webhooks_received=len(requests),
        webhooks_duplicates=len(requests) - len([w for w in got if w in expected]),
        lost_webhooks=sum(1 for w in expected if w not in got),
    )


def _path(url: str) -> str:
    return urlparse(url).path


# -- the run --------------------------------------------------------------------------------
