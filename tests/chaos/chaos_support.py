"""The chaos run's parts: the load generator, the fault injector and the auditor.

Everything talks to 127.0.0.1 only and every loop has a deadline.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlparse

import psycopg
from kafka_support import TopicReader, per_job
from pipeline_support import (
    Api,
    Processes,
    TcpProxy,
    close_open_jobs,
    kill_group,
    log_tail,
    random_problem,
    shard_dsns,
)
from psycopg.rows import dict_row
from support import make_settings
from webhook_support import LOOPBACK, Receiver, verify

from routefarm.farm import Farm
from routefarm.kafka.clients import ensure_topics
from routefarm.kafka.names import JOB_EVENTS_TOPIC

TERMINAL = ("succeeded", "failed", "cancelled")
CLIENTS_PER_SHARD = 2
JOBS_PER_CLIENT = 50
LOAD_SECONDS = 40.0  # submissions are spread over this time
# after the load and the faults, every job, event and webhook is through within this time;
# what is not is reported stuck or lost. The longest wait that is no fault of the farm: a
# delivery taken by the killed webhook sender, retried after its claim's lease (40 s).
SETTLE_SECONDS = 60.0
WORKER = "solve-"  # solve workers' process names: solve-1, solve-2, ...
SUBMIT_PATIENCE = 60.0  # seconds one submission keeps being retried (same Idempotency-Key)


# -- load -----------------------------------------------------------------------------------


@dataclass
class Client:
    name: str
    client_id: str
    key: str
    shard: str
    hook_url: str = ""  # the client's webhook endpoint (every job event)
    secret: str = ""  # the endpoint's signing secret
    oneoff_secret: str = ""  # the client's secret, signing its jobs' one-off targets


@dataclass
class Submission:
    client: Client
    idempotency_key: str
    job_id: str | None = None
    tries: int = 0
    answers: list = field(default_factory=list)  # every status (or error) answered, in order
    oneoff: bool = False  # with a one-off webhook target besides the client's endpoint
    cancel: bool = False  # cancelled (DELETE) right after it is accepted
    cancel_answers: list = field(default_factory=list)


class Load(threading.Thread):
    """One client's submissions, paced over the run. A 503 (its shard cut) or a refused
    connection is retried with the same body and Idempotency-Key; only a 202 counts."""

    def __init__(
        self,
        api: Api,
        client: Client,
        count: int,
        first_at: float,
        interval: float,
        seed: int,
        oneoff_url: str,
    ):
        super().__init__(name=f"load-{client.name}", daemon=True)
        self.api, self.client, self.count = api, client, count
        self.first_at, self.interval = first_at, interval
        self.rng = random.Random(seed)
        self.oneoff_url = oneoff_url
        self.submissions: list[Submission] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        for n in range(self.count):
            wait = self.first_at + n * self.interval - time.monotonic()
            if self.stopping.wait(max(0.0, wait)):
                return
            submission = Submission(
                self.client, str(uuid.uuid4()), oneoff=n % 4 == 1, cancel=n % 10 == 3
            )
            self.submissions.append(submission)
            body = {
                "problem": random_problem(
                    self.rng,
                    stops=self.rng.randint(4, 20),
                    time_limit=self.rng.choice((0.2, 0.3, 0.5, 0.8, 1.0)),
                ),
                "metadata": {"chaos": self.client.name, "n": n},
            }
            if submission.oneoff:
                body["webhook"] = {"url": self.oneoff_url}
            self._submit(submission, body)
            if submission.cancel and submission.job_id:
                self._cancel(submission)

    def _submit(self, submission: Submission, body: dict) -> None:
        headers = {"Idempotency-Key": submission.idempotency_key}
        deadline = time.monotonic() + SUBMIT_PATIENCE
        while time.monotonic() < deadline and not self.stopping.is_set():
            submission.tries += 1
            response = self._call("POST", "/v1/jobs", body, headers)
            submission.answers.append(response.status if response else "error")
            if response is not None and response.status == 202:
                submission.job_id = response.body["id"]
                return
            if response is not None and response.status != 503:
                return  # refused for good: not accepted (the audit reports it)
            time.sleep(_retry_after(response))

    def _cancel(self, submission: Submission) -> None:
        deadline = time.monotonic() + SUBMIT_PATIENCE
        while time.monotonic() < deadline and not self.stopping.is_set():
            response = self._call("DELETE", f"/v1/jobs/{submission.job_id}")
            submission.cancel_answers.append(response.status if response else "error")
            if response is not None and response.status != 503:
                return
            time.sleep(_retry_after(response))

    def _call(self, method: str, path: str, body=None, headers=None):
        try:
            return self.api.call(method, path, self.client.key, body, headers=headers, timeout=10)
        except OSError:
            return None


def _retry_after(response) -> float:
    """What the answer's Retry-After asks, within [0.2, 1] s (the load keeps its pace)."""
    try:
        asked = float(response.headers.get("retry-after", 1)) if response is not None else 0.5
    except ValueError:
        asked = 1.0
    return min(1.0, max(0.2, asked))


# -- faults ---------------------------------------------------------------------------------


@dataclass
class FaultLog:
    killed: int = 0  # workers killed with SIGKILL
    terminated: int = 0  # workers stopped with SIGTERM in the middle of a solve
    terminated_mid_solve: bool = False
    others_killed: list[str] = field(default_factory=list)  # webhook sender, stream
    redis_restarts: int = 0
    kafka_paused: float = 0.0  # seconds the broker was stopped (SIGSTOP)
    shard_cut: float = 0.0  # seconds the shard was unreachable
    lines: list[str] = field(default_factory=list)


def default_plan(
    rng: random.Random, kill_every: float = 4.0, kill_until: float = 44.0
) -> list[tuple[float, str]]:
    """(seconds after the start, fault): a kill -9 of a solve worker every ``kill_every`` s (give
    or take 1 s) until ``kill_until``; Redis killed and started again; Kafka stopped for 10 s;
    kill -9 of the webhook sender and of the stream process (each started again at once);
    shard1 cut for 8 s; a SIGTERM to a worker mid-solve."""
    kills = [
        (3.0 + kill_every * i + rng.uniform(-1, 1), "kill_worker")
        for i in range(int((kill_until - 3) / kill_every))
    ]
    return [
        *kills,
        (12.0, "restart_redis"),
        (17.0, "pause_kafka"),
        (27.0, "resume_kafka"),
        (20.0, "kill_webhook_sender"),
        (24.0, "cut_shard"),
        (30.0, "kill_stream"),
        (32.0, "restore_shard"),
        (36.0, "terminate_worker_mid_solve"),
    ]


class Faults(threading.Thread):
    """Runs a fixed schedule of faults (seconds after ``start_at``), then ends by itself."""

    def __init__(
        self,
        procs,
        databases,
        redis_server,
        kafka_broker,
        proxy,
        start_at: float,
        seed: int,
        plan: list[tuple[float, str]] | None = None,
    ):
        super().__init__(name="faults", daemon=True)
        self.procs, self.databases = procs, databases
        self.redis, self.kafka, self.proxy = redis_server, kafka_broker, proxy
        self.start_at = start_at
        self.rng = random.Random(seed)
        self.log = FaultLog()
        self.next_worker = 1 + len(self.workers())
        self.stopping = threading.Event()
        self.error: BaseException | None = None
        self._paused_at = self._cut_at = 0.0
        plan = plan if plan is not None else default_plan(self.rng)
        self.schedule = sorted(
            ((at, getattr(self, action)) for at, action in plan), key=lambda item: item[0]
        )

    def run(self) -> None:
        try:
            for at, action in self.schedule:
                if self.stopping.wait(max(0.0, self.start_at + at - time.monotonic())):
                    break
                action()
        except Exception as exc:  # noqa: BLE001 - reported by the test
            self.error = exc
        finally:
            self.resume_kafka()  # never leave the broker stopped or the shard cut
            self.restore_shard()

    def note(self, text: str) -> None:
        self.log.lines.append(f"{time.monotonic() - self.start_at:6.1f} s  {text}")

    def workers(self) -> dict[str, object]:
        return {
            name: proc
            for name, proc in self.procs.children.items()
            if name.startswith(WORKER) and proc.poll() is None
        }

    def add_worker(self) -> str:
        name = f"{WORKER}{self.next_worker}"
        self.next_worker += 1
        self.procs.worker(name)
        return name

    def kill_worker(self) -> None:
        workers = self.workers()
        if not workers:
            return
        name = self.rng.choice(sorted(workers))
        proc = self.procs.children.pop(name)
        kill_group(proc, signal.SIGKILL)
        proc.wait(10)
        self.log.killed += 1
        self.note(f"kill -9 {name}; started {self.add_worker()}")

    def terminate_worker_mid_solve(self) -> None:
        """SIGTERM (a scale-down) to a worker while it solves a job; another one starts."""
        deadline = time.monotonic() + 8
        name = None
        while name is None and time.monotonic() < deadline:
            name = self._solving_worker()
            if name is None:
                time.sleep(0.05)
        self.log.terminated_mid_solve = name is not None
        name = name or self.rng.choice(sorted(self.workers()))
        proc = self.procs.children.pop(name)
        kill_group(proc, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:  # a worker that does not stop is killed, and reported
            kill_group(proc, signal.SIGKILL)
            proc.wait(5)
            self.note(f"{name} did not stop within 20 s of SIGTERM")
        self.log.terminated += 1
        self.note(
            f"SIGTERM {name} ({'mid-solve' if self.log.terminated_mid_solve else 'idle'}, exit "
            f"{proc.returncode}); started {self.add_worker()}"
        )

    def _solving_worker(self) -> str | None:
        """A live worker whose process holds a running job right now (its row's ``worker``)."""
        groups = {proc.pid: name for name, proc in self.workers().items()}
        for url in shard_dsns(self.databases).values():
            with psycopg.connect(url) as conn:
                rows = conn.execute(
                    "SELECT worker FROM jobs WHERE status = 'running'"
                    " AND lease_until > now() AND worker IS NOT NULL"
                ).fetchall()
            for (worker,) in rows:
                with contextlib.suppress(ValueError, ProcessLookupError):
                    group = os.getpgid(int(worker.rsplit(":", 1)[1]))
                    if group in groups:
                        return groups[group]
        return None

    def kill_webhook_sender(self) -> None:
        self._kill_and_restart("webhook", self.procs.webhook)

    def kill_stream(self) -> None:
        self._kill_and_restart("stream", self.procs.stream)

    def _kill_and_restart(self, name: str, start) -> None:
        proc = self.procs.children.pop(name)
        kill_group(proc, signal.SIGKILL)
        proc.wait(10)
        start()
        self.log.others_killed.append(name)
        self.note(f"kill -9 {name}; started again")

    def restart_redis(self) -> None:
        # a crash: what the append-only file had not written yet (up to a second) is lost
        self.redis.stop(immediate=True)
        time.sleep(2.0)
        self.redis.start()  # same port, same files
        self.log.redis_restarts += 1
        self.note("Redis killed (SIGKILL) and started again 2 s later")

    def pause_kafka(self) -> None:
        self.kafka.process.send_signal(signal.SIGSTOP)
        self._paused_at = time.monotonic()
        self.note("Kafka broker stopped (SIGSTOP)")

    def resume_kafka(self) -> None:
        if self._paused_at:
            self.kafka.process.send_signal(signal.SIGCONT)
            self.log.kafka_paused += time.monotonic() - self._paused_at
            self._paused_at = 0.0
            self.note("Kafka broker resumed (SIGCONT)")

    def cut_shard(self) -> None:
        self.proxy.stop()
        self._cut_at = time.monotonic()
        self.note("shard1 cut")

    def restore_shard(self) -> None:
        if self._cut_at:
            self.proxy.start()
            self.log.shard_cut += time.monotonic() - self._cut_at
            self._cut_at = 0.0
            self.note("shard1 back")


# -- the auditor ----------------------------------------------------------------------------


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


def quiet_shards(databases: dict[str, str]) -> None:
    """Earlier tests' open work is closed and their events count as sent: the reaper and the
    relay of this run act on this run's rows only."""
    close_open_jobs(databases)
    for url in shard_dsns(databases).values():
        with psycopg.connect(url) as conn:
            conn.execute("UPDATE outbox SET sent_at = now() WHERE sent_at IS NULL")
            conn.execute(
                "UPDATE webhook_deliveries SET status = 'failed', message_id = NULL,"
                " next_attempt_at = NULL WHERE status = 'pending'"
            )


def make_clients(settings, receiver: Receiver) -> list[Client]:
    """Two new clients on each shard (placement is by hashing: create until both have two)."""
    farm = Farm(settings).open(wait=True)
    try:
        placed: dict[str, list[Client]] = {}
        for n in range(100):
            client, key = farm.directory.create_client(f"chaos-{n}")
            on_shard = placed.setdefault(client.shard, [])
            if len(on_shard) < CLIENTS_PER_SHARD:
                name = f"{client.shard}-{len(on_shard)}"
                on_shard.append(
                    Client(name, client.id, key, client.shard, hook_url=f"{receiver.url}/{name}")
                )
            if sum(len(c) for c in placed.values()) == 2 * CLIENTS_PER_SHARD:
                break
    finally:
        farm.close()
    clients = sum(placed.values(), [])
    assert sorted(placed) == ["shard0", "shard1"] and len(clients) == 4, placed
    return clients


def run(
    databases,
    own_redis,
    kafka_broker,
    logs,
    plan=None,
    jobs_per_client: int = JOBS_PER_CLIENT,
    load_seconds: float = LOAD_SECONDS,
    settle_seconds: float = SETTLE_SECONDS,
    seed: int = 8,
) -> tuple[Findings, FaultLog]:
    """The whole chaos run: the farm, the load, the faults (``plan``, else ``default_plan``),
    waiting for the farm to settle, the audit. Processes and helpers are stopped at the end."""
    ensure_topics(kafka_broker.bootstrap, partitions=3)
    quiet_shards(databases)
    shard1 = urlparse(databases["shard1"])
    proxy = TcpProxy(target_port=shard1.port or 5432).start()
    cut_url = f"postgresql://postgres@127.0.0.1:{proxy.port}{shard1.path}"
    settings = make_settings(
        databases,
        own_redis.url(0).rsplit("/", 1)[0],
        shard_urls=f"{databases['shard0']},{cut_url}",
        db_timeout=1.0,
        webhook_allowlist=LOOPBACK,
        webhook_jitter=0.0,
        webhook_schedule="0.5,1,2,3,5,5,5,5",
        kafka_bootstrap=kafka_broker.bootstrap,
        kafka_partitions=3,
        kafka_session_timeout_ms=6000,
        relay_interval=0.2,
    )
    receiver = Receiver(answer=lambda n, _: 500 if n % 19 == 7 else 200).start()
    reader = TopicReader(kafka_broker.bootstrap, JOB_EVENTS_TOPIC)
    reader.start()
    procs = Processes(settings, logs)
    loads: list[Load] = []
    faults = None
    try:
        clients = make_clients(settings, receiver)
        procs.web()
        for n in (1, 2, 3):
            procs.worker(f"{WORKER}{n}")
        procs.webhook()
        procs.stream()
        api = Api(procs.url)
        for client in clients:
            created = api.call(
                "POST", "/v1/webhooks/endpoints", client.key, {"url": client.hook_url}
            )
            assert created.status == 201, (created.status, created.body)
            client.secret = created.body["secret"]
            client.oneoff_secret = api.call("GET", "/v1/webhooks/secret", client.key).body["secret"]

        began = time.monotonic() + 1.0
        interval = load_seconds / jobs_per_client
        loads = [
            Load(
                api,
                client,
                jobs_per_client,
                began + i * interval / len(clients),
                interval,
                seed=seed * 10 + i,
                oneoff_url=f"{client.hook_url}/oneoff",
            )
            for i, client in enumerate(clients)
        ]
        faults = Faults(
            procs, databases, own_redis, kafka_broker, proxy, began, seed=seed, plan=plan
        )
        for thread in (*loads, faults):
            thread.start()
        deadline = began + load_seconds + SUBMIT_PATIENCE + 10
        for thread in (*loads, faults):
            thread.join(max(0.0, deadline - time.monotonic()))
        print("\n".join(["", "-- faults --", *faults.log.lines]))
        assert faults.error is None, faults.error
        late = [
            f"{load.name}: {len(load.submissions)} of {load.count} submitted"
            for load in loads
            if load.is_alive()
        ]
        assert not late and not faults.is_alive(), f"the load or the faults did not end: {late}"
        accepted = {s.job_id for load in loads for s in load.submissions if s.job_id}
        took = settle(databases, [c.client_id for c in clients], accepted, reader, settle_seconds)
        print(
            f"run: load and faults {time.monotonic() - began - took:.0f} s,"
            f" then settled in {took:.0f} s"
        )
        findings = audit(databases, clients, loads, faults.log, reader, receiver)
        if findings.problems:
            for name in sorted(procs.children):
                print(f"-- {name} log --\n{log_tail(procs.logs / f'{name}.log', 15)}")
        return findings, faults.log
    finally:
        for load in loads:
            load.stopping.set()
        if faults is not None:
            faults.stopping.set()
            faults.join(30)
        procs.stop_all()
        reader.stop()
        receiver.stop()
        proxy.stop()
