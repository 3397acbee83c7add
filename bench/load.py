#!/usr/bin/env python
"""Sustained mixed traffic against ``routefarm up``: throughput, latency, errors, and a plot.

    python bench/load.py --duration 120 --rate 8 --plot load.png
    python bench/load.py --state .routefarm/state.json      # a farm that is already up

Without ``--state`` it starts ``routefarm up`` on a fresh data folder (embedded PostgreSQL,
Redis and Kafka; ``--max-workers``, ``--cooldown``) and stops it at the end. For
``--duration`` seconds, client threads send an open-loop mix at ``--rate`` operations per
second: submissions of three problem sizes (10, 50 and 200 stops), polls, long-polls
(``?wait=10``), batches of five jobs, and cancellations of recent jobs. Every second the
farm's own view (``GET /v1/farm``: queue depth, workers current/desired, jobs/s) is sampled.
When the traffic stops, the run waits (at most ``--drain`` seconds) until every accepted
job is terminal. The table gives, per operation, the count, the errors by status and the
latency percentiles; then jobs accepted and finished, and their end-to-end times. The PNG
has queue depth, workers and submit latency over time.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import sys
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
for _path in (HERE, HERE.parent):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import _farm  # noqa: E402
import _machine  # noqa: E402
from _load import percentile  # noqa: E402

MIX = (("submit-10", 40), ("submit-50", 12), ("submit-200", 3), ("poll", 20), ("long-poll", 10),
       ("batch-5", 5), ("cancel", 10))
SIZES = {"submit-10": 10, "submit-50": 50, "submit-200": 200}
TIME_LIMITS = {10: 0.5, 50: 2.0, 200: 5.0}


def problem(rng: random.Random, stops: int) -> dict:
    """``stops`` deliveries around a depot (coordinates; great-circle distances), a van per 12."""
    vans = max(2, stops // 12)
    return {
        "vehicles": [{"id": f"van-{k}", "start": [13.405, 52.52], "end": [13.405, 52.52], "capacity": [30],
                      "time_window": [25200, 68400]} for k in range(vans)],
        "stops": [{"id": f"s{i}", "location": [round(13.25 + rng.random() * 0.3, 5),
                                               round(52.42 + rng.random() * 0.2, 5)],
                   "demand": [1 + i % 3], "service": 240, "time_windows": [[28800, 64800]]}
                  for i in range(stops)],
        "options": {"time_limit": TIME_LIMITS[stops], "seed": rng.randrange(1 << 30)},
    }


@dataclass
class Record:
    at: float
    op: str
    status: int
    seconds: float
    error: str = ""  # why there was no answer


@dataclass
class Run:
    url: str
    key: str
    records: list[Record] = field(default_factory=list)
    samples: list[dict] = field(default_factory=list)
    jobs: dict[str, float] = field(default_factory=dict)  # accepted job id -> when
    lock: threading.Lock = field(default_factory=threading.Lock)
    started: float = field(default_factory=time.monotonic)

    def request(self, method: str, path: str, body: dict | None = None, timeout: float = 30) -> tuple[int, dict]:
        try:
            return _farm.api_request(self.url, self.key, method, path, body, timeout)
        except (OSError, http.client.HTTPException) as exc:
            return 0, {"error": type(exc).__name__ + (f": {exc}" if str(exc) else "")}

    def one(self, op: str, rng: random.Random) -> None:
        started = time.perf_counter()
        status, doc = self._do(op, rng)
        with self.lock:
            self.records.append(Record(time.monotonic(), op, status, time.perf_counter() - started,
                                       doc.get("error", "") if status == 0 else ""))

    def _do(self, op: str, rng: random.Random) -> tuple[int, dict]:
        if op in SIZES:
            status, doc = self.request("POST", "/v1/jobs", {"problem": problem(rng, SIZES[op])})
            if status == 202:
                self._accepted([doc["id"]])
            return status, doc
        if op == "batch-5":
            body = {"jobs": [{"problem": problem(rng, 10)} for _ in range(5)]}
            status, doc = self.request("POST", "/v1/batches", body)
            if status == 202:
                self._accepted(doc["job_ids"])
            return status, doc
        job = self._recent(rng)
        if job is None:
            return self.request("GET", "/v1/jobs?limit=20")
        if op == "poll":
            return self.request("GET", f"/v1/jobs/{job}")
        if op == "long-poll":
            return self.request("GET", f"/v1/jobs/{job}?wait=10", timeout=40)
        status, doc = self.request("DELETE", f"/v1/jobs/{job}")
        return (200 if status == 409 else status), doc  # already ended: a normal answer to a cancel

    def _accepted(self, ids: list[str]) -> None:
        with self.lock:
            now = time.monotonic()
            self.jobs.update(dict.fromkeys(ids, now))

    def _recent(self, rng: random.Random) -> str | None:
        with self.lock:
            ids = list(self.jobs)[-50:]
        return rng.choice(ids) if ids else None


def traffic(run: Run, duration: float, rate: float, threads: int, seed: int) -> None:
    """Open loop: operation k starts at k / rate seconds, whichever thread is free takes it."""
    names, weights = zip(*MIX, strict=True)
    start = time.monotonic()
    ticket = iter(range(10**9))
    ticket_lock = threading.Lock()

    def client(n: int) -> None:
        rng = random.Random(seed * 1000 + n)
        while True:
            with ticket_lock:
                k = next(ticket)
            due = start + k / rate
            if due - start > duration:
                return
            time.sleep(max(0.0, due - time.monotonic()))
            run.one(rng.choices(names, weights)[0], rng)

    pool = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(duration + 120)


def sampler(run: Run, stopping: threading.Event) -> None:
    start = time.monotonic()
    while not stopping.wait(1.0):
        status, farm = run.request("GET", "/v1/farm", timeout=5)
        if status == 200:
            workers = farm.get("workers") or {}
            run.samples.append({"t": time.monotonic() - start, "queue": farm.get("queue_depth"),
                                "current": workers.get("current"), "desired": workers.get("desired"),
                                "jobs_per_s": farm.get("jobs_per_s"), "lag": farm.get("kafka_lag")})


def drain(run: Run, timeout: float) -> dict[str, dict]:
    """Every accepted job's final document (or its last one when the timeout passes)."""
    deadline = time.monotonic() + timeout
    docs: dict[str, dict] = {}
    pending = list(run.jobs)
    while pending and time.monotonic() < deadline:
        left = []
        for job in pending:
            status, doc = run.request("GET", f"/v1/jobs/{job}")
            if status == 200 and doc.get("status") in ("succeeded", "failed", "cancelled"):
                docs[job] = doc
            else:
                left.append(job)
                if status == 200:
                    docs[job] = doc
        pending = left
        if pending:
            time.sleep(1.0)
    return docs


def table(run: Run, docs: dict[str, dict], duration: float) -> str:
    by_op: dict[str, list[Record]] = defaultdict(list)
    for r in run.records:
        by_op[r.op].append(r)
    lines = [f"{'operation':<11} {'count':>6} {'ok':>6} {'errors (status: n)':<24} "
             f"{'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}"]
    for op, _ in MIX:
        rs = by_op.get(op, [])
        ok = [r for r in rs if 200 <= r.status < 300]
        errors = Counter(r.status for r in rs if not 200 <= r.status < 300)
        ms = [1000 * r.seconds for r in rs]
        err = ", ".join(f"{s}: {n}" for s, n in sorted(errors.items())) or "-"
        lines.append(f"{op:<11} {len(rs):>6} {len(ok):>6} {err:<24} {percentile(ms, 50):>8.1f} "
                     f"{percentile(ms, 95):>8.1f} {percentile(ms, 99):>8.1f} {max(ms, default=float('nan')):>8.1f}")
    outcomes = Counter(d.get("status") for d in docs.values())
    e2e = []
    for d in docs.values():
        if d.get("finished_at") and d.get("created_at"):
            e2e.append(_seconds(d["finished_at"]) - _seconds(d["created_at"]))
    total = len(run.records)
    lines += ["",
              f"operations {total} in {duration:.0f} s = {total / duration:.1f}/s; "
              f"errors {sum(1 for r in run.records if not 200 <= r.status < 300)} "
              f"(5xx {sum(1 for r in run.records if r.status >= 500)}, no answer "
              f"{sum(1 for r in run.records if r.status == 0)})",
              *[f"  no answer, {n}x: {why}" for why, n in Counter(r.error for r in run.records if r.status == 0).items()],
              *([f"  first at {min(r.at for r in run.records if r.status == 0) - run.started:.1f} s, last at "
                 f"{max(r.at for r in run.records if r.status == 0) - run.started:.1f} s"]
                if any(r.status == 0 for r in run.records) else []),
              f"jobs accepted {len(run.jobs)}; terminal {sum(outcomes[s] for s in ('succeeded', 'failed', 'cancelled'))}"
              f" (succeeded {outcomes['succeeded']}, failed {outcomes['failed']}, cancelled {outcomes['cancelled']});"
              f" not terminal {len(run.jobs) - sum(outcomes[s] for s in ('succeeded', 'failed', 'cancelled'))}",
              f"end-to-end of finished jobs: p50 {percentile(e2e, 50):.2f} s, p95 {percentile(e2e, 95):.2f} s, "
              f"p99 {percentile(e2e, 99):.2f} s",
              f"most workers seen {max((s['current'] or 0 for s in run.samples), default=0)}; "
              f"deepest queue {max((s['queue'] or 0 for s in run.samples), default=0)}"]
    return "\n".join(lines)


def _seconds(stamp: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def plot(run: Run, path: Path, started: float) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2, ax3) = plt.subplots(3, 1, figsize=(10, 9), sharex=True)
    t = [s["t"] for s in run.samples]
    ax1.plot(t, [s["queue"] or 0 for s in run.samples], label="queue depth")
    ax1.set_ylabel("messages")
    ax1.legend(loc="upper right")
    ax2.step(t, [s["current"] or 0 for s in run.samples], where="post", label="workers current")
    ax2.step(t, [s["desired"] or 0 for s in run.samples], where="post", label="workers desired", linestyle="--")
    ax2.set_ylabel("workers")
    ax2.legend(loc="upper right")
    submits = [r for r in run.records if r.op.startswith("submit")]
    ax3.scatter([r.at - started for r in submits], [1000 * r.seconds for r in submits], s=4, label="submit")
    polls = [r for r in run.records if r.op == "poll"]
    ax3.scatter([r.at - started for r in polls], [1000 * r.seconds for r in polls], s=4, label="poll")
    ax3.set_yscale("log")
    ax3.set_ylabel("latency (ms)")
    ax3.set_xlabel("seconds")
    ax3.legend(loc="upper right")
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of traffic (default 60)")
    parser.add_argument("--rate", type=float, default=6.0, help="operations per second (default 6)")
    parser.add_argument("--threads", type=int, default=32, help="client threads (default 32)")
    parser.add_argument("--drain", type=float, default=300.0, help="seconds to wait for jobs to end (default 300)")
    parser.add_argument("--state", type=Path, help="state.json of a running farm (else one is started)")
    parser.add_argument("--max-workers", type=int, help="for the farm started here")
    parser.add_argument("--cooldown", type=float, default=30.0, help="for the farm started here (default 30 s)")
    parser.add_argument("--plot", type=Path, default=Path("load.png"), help="PNG to write (default load.png)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the started farm's data folder")
    args = parser.parse_args()
    farm = None if args.state else _farm.UpFarm("load", args.max_workers, args.cooldown)
    try:
        state = json.loads(args.state.read_text()) if args.state else farm.wait_ready()
        run = Run(state["api_url"], state["api_key"])
        print(_machine.header(duration=f"{args.duration:g}s", rate=f"{args.rate:g}/s", threads=args.threads),
              flush=True)
        stopping = threading.Event()
        watcher = threading.Thread(target=sampler, args=(run, stopping), daemon=True)
        started = time.monotonic()
        watcher.start()
        traffic(run, args.duration, args.rate, args.threads, args.seed)
        docs = drain(run, args.drain)
        stopping.set()
        watcher.join(5)
        print(table(run, docs, args.duration))
        plot(run, args.plot, started)
        print(f"plot: {args.plot}")
    finally:
        if farm is not None:
            farm.stop(args.keep)
    return 0


if __name__ == "__main__":
    sys.exit(main())
