#!/usr/bin/env python
"""A hostile but authenticated client against ``routefarm up``: is every answer bounded?

    python bench/abuse.py                 # every probe
    python bench/abuse.py --only metadata-1.1MB --only bogus-methods

Starts ``routefarm up`` on a fresh data folder (two solve workers at most) with two API
clients: the hostile one (the farm's demo key) sends each probe below with plain HTTP
requests (and, for the Kafka probes, events on ``routefarm.reoptimize``); a well-behaved one
submits a small job every half second the whole time, waits for it, and has a webhook
endpoint on a receiver here. For each probe the table gives the answer's status, the
seconds it took, its size, the peak RSS growth of the processes that served it (their
peak is reset through ``/proc/PID/clear_refs`` before the probe), and what the other client
saw meanwhile: its jobs that succeeded of those submitted, their slowest submit-to-end time,
and the slowest of its webhooks (job end to arrival).

Targets (exit status 1 when one is missed): every probe a 4xx or a bounded success within
3 s (20 s for the 1,000-fold batch re-optimization), an answer of at most 256 KiB, RSS growth
of at most 150 MiB (300 MiB for the batch re-optimization), and every job of the other
client succeeded.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import http.server
import json
import random
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
for _path in (HERE, HERE.parent):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import _farm  # noqa: E402

MIB = 1024 * 1024
ANSWER_MAX = 256 * 1024  # bytes
SECONDS_MAX = 3.0
RSS_MAX_MIB = 150
BATCH_SECONDS_MAX = 20.0
BATCH_RSS_MAX_MIB = 300


@dataclass
class Outcome:
    status: str
    seconds: float
    answer_bytes: int
    note: str = ""
    seconds_max: float = SECONDS_MAX
    rss_max_mib: float = RSS_MAX_MIB
    ok: bool = True  # the probe's own check (besides the common targets)


@dataclass
class Probe:
    name: str
    what: str
    served_by: str  # "web", "stream" or "webhook": whose peak RSS is measured
    run: Callable[[Bench], Outcome]
    on_base: bool = False  # sent by the owner of the base job; otherwise by a client of its own


def _problem(places: int, seed: int = 0, time_limit: float = 1.0) -> dict:
    """A matrix problem on a line of ``places`` places (0 is the depot), one vehicle per 300 stops."""
    rng = random.Random(seed)
    xs = [0.0] + [rng.uniform(0, 20_000) for _ in range(places - 1)]
    rows = [[round(abs(a - b)) for b in xs] for a in xs]
    vehicles = [{"id": f"v{i}", "start_index": 0, "end_index": 0} for i in range(max(1, (places - 1) // 300))]
    return {"vehicles": vehicles, "stops": [{"id": f"s{i}", "location_index": i} for i in range(1, places)],
            "matrix": {"distances": rows}, "options": {"time_limit": time_limit, "seed": seed}}


class Http:
    """Raw HTTP to the farm: (status, body bytes, seconds)."""

    def __init__(self, url: str):
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        self.host, self.port = parts.hostname, parts.port

    def send(self, method: str, path: str, key: str | None, body: bytes | None = None,
             timeout: float = 120.0, headers: dict | None = None) -> tuple[int, bytes, float]:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        sent = dict(headers or {})
        if key:
            sent["Authorization"] = f"Bearer {key}"
        if body is not None:
            sent.setdefault("Content-Type", "application/json")
        began = time.perf_counter()
        try:
            conn.request(method, path, body=body, headers=sent)
            response = conn.getresponse()
            raw = response.read()
            return response.status, raw, time.perf_counter() - began
        finally:
            conn.close()

    def json(self, method: str, path: str, key: str, body=None, timeout: float = 120.0) -> tuple[int, dict]:
        status, raw, _ = self.send(method, path, key, None if body is None else json.dumps(body).encode(),
                                   timeout=timeout)
        return status, (json.loads(raw) if raw else {})


class Receiver:
    """A webhook receiver on loopback: records arrivals, optionally answering slowly."""

    def __init__(self, delay_s: float = 0.0):
        self.arrivals: list[tuple[float, dict]] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                arrived = time.time()
                if delay_s:
                    time.sleep(delay_s)
                self.send_response(204)
                self.end_headers()
                with contextlib.suppress(ValueError):
                    outer.arrivals.append((arrived, json.loads(body)))

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


@dataclass
class GoodJob:
    submitted: float
    ended: float | None = None
    status: str = ""
    finished_at: float | None = None  # the farm's finished_at, epoch seconds
    job_id: str = ""


@dataclass
class Bench:
    http: Http
    state: dict
    hostile: str  # the key of the client sending the probe now
    good: str  # the well-behaved client's key
    farm: _farm.UpFarm
    receiver: Receiver
    good_jobs: list[GoodJob] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)
    base_job: str = ""  # a succeeded job of the base owner on a 1,500-place matrix
    base_owner: str = ""  # that client's key

    def well_behaved(self) -> None:
        """Submit a small job every half second and wait for each (the other client's life)."""
        n = 0
        while not self.stopping.is_set():
            n += 1
            job = GoodJob(time.time())
            self.good_jobs.append(job)
            try:
                status, doc = self.http.json("POST", "/v1/jobs", self.good,
                                             {"problem": _problem(12, seed=n, time_limit=0.2)}, timeout=30)
                if status != 202:
                    job.status, job.ended = f"submit {status}", time.time()
                else:
                    job.job_id = doc["id"]
                    status, doc = self.http.json("GET", f"/v1/jobs/{doc['id']}?wait=30", self.good, timeout=40)
                    job.status, job.ended = doc.get("status", str(status)), time.time()
                    if doc.get("finished_at"):
                        job.finished_at = datetime.fromisoformat(doc["finished_at"].replace("Z", "+00:00")).timestamp()
            except OSError as exc:
                job.status, job.ended = f"error {exc}", time.time()
            self.stopping.wait(0.5)

    def other_client(self, began: float, ended: float) -> tuple[str, str, bool]:
        """(jobs ok/submitted, slowest submit-to-end and webhook lag, all fine) for jobs
        submitted in [began, ended]."""
        jobs = [j for j in self.good_jobs if began <= j.submitted <= ended]
        deadline = time.time() + 45
        while any(j.ended is None for j in jobs) and time.time() < deadline:
            time.sleep(0.2)
        done = [j for j in jobs if j.status == "succeeded"]
        slowest = max((j.ended - j.submitted for j in jobs if j.ended), default=0.0)
        hooks = {a[1].get("data", {}).get("id"): a[0] for a in self.receiver.arrivals}
        deadline = time.time() + 30
        while time.time() < deadline and any(j.job_id not in hooks for j in done):
            time.sleep(0.2)
            hooks = {a[1].get("data", {}).get("id"): a[0] for a in self.receiver.arrivals}
        lags = [hooks[j.job_id] - j.finished_at for j in done if j.job_id in hooks and j.finished_at]
        missing = sum(j.job_id not in hooks for j in done)
        lag = f"{max(lags, default=0.0):.1f} s" + (f", {missing} missing" if missing else "")
        fine = bool(jobs) and len(done) == len(jobs) and not missing
        return f"{len(done)}/{len(jobs)} ok, {slowest:.1f} s", lag, fine


def _pids(farm: _farm.UpFarm, served_by: str) -> list[int]:
    marks = {"web": "gunicorn", "stream": "workers.stream", "webhook": "--queues webhooks"}
    mark = marks[served_by]
    found = []
    for pid in _descendants(farm.process.pid):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if mark in cmdline:
            found.append(pid)
    return found


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        for child in children.get(pid, []):
            out.append(child)
            todo.append(child)
    return out


def _status_kib(pid: int, field_name: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1])
    return 0


def _reset_peaks(pids: list[int]) -> dict[int, int]:
    """Each process's RSS now (KiB), its peak reset to it."""
    before = {}
    for pid in pids:
        try:
            Path(f"/proc/{pid}/clear_refs").write_text("5")
            before[pid] = _status_kib(pid, "VmRSS")
        except OSError:
            continue
    return before


def _growth_mib(before: dict[int, int]) -> float:
    growth = 0
    for pid, rss in before.items():
        try:
            growth = max(growth, _status_kib(pid, "VmHWM") - rss)
        except OSError:
            continue
    return growth / 1024


# --- the probes ------------------------------------------------------------------------

def _post(b: Bench, path: str, body: bytes, method: str = "POST") -> Outcome:
    status, raw, seconds = b.http.send(method, path, b.hostile, body)
    note = ""
    if raw.startswith(b"{"):
        doc = json.loads(raw)
        if "errors" in doc:
            note = f"{len(doc['errors'])} errors listed" + (
                f", {doc['errors_omitted']:,} more counted" if doc.get("errors_omitted") else "")
    return Outcome(str(status), seconds, len(raw), note, ok=400 <= status < 500)


def matrix_negative(b: Bench) -> Outcome:
    problem = _problem(800)
    problem["matrix"]["distances"] = [[-1] * 800 for _ in range(800)]
    body = json.dumps({"problem": problem}, separators=(",", ":")).encode()
    outcome = _post(b, "/v1/jobs", body)
    outcome.note = f"body {len(body) / MIB:.1f} MB; {outcome.note}"
    return outcome


def reoptimize_cancel(b: Bench) -> Outcome:
    body = json.dumps({"at": 0, "cancel_stops": [f"nope{i}" for i in range(30_000)]}).encode()
    return _post(b, f"/v1/jobs/{b.base_job}/reoptimize", body)


def metadata(b: Bench) -> Outcome:
    body = json.dumps({"problem": _problem(5), "metadata": {"blob": "x" * 1_100_000}}).encode()
    return _post(b, "/v1/jobs", body)


def huge_number(b: Bench) -> Outcome:
    problem = _problem(5)
    problem["vehicles"][0]["capacity"] = [10**30]
    problem["stops"][0]["demand"] = [10**30]
    return _post(b, "/v1/jobs", json.dumps({"problem": problem}).encode())


def many_windows(b: Bench) -> Outcome:
    problem = _problem(5)
    problem["stops"][0]["time_windows"] = [[-1, -1]] * 1_000_000
    body = json.dumps({"problem": problem}, separators=(",", ":")).encode()
    outcome = _post(b, "/v1/jobs", body)
    outcome.note = f"body {len(body) / MIB:.1f} MB; {outcome.note}"
    return outcome


def batch_invalid(b: Bench) -> Outcome:
    bad = _problem(31)
    for stop in bad["stops"]:
        stop["demand"] = [-1]
        stop["service"] = -1
    body = json.dumps({"jobs": [{"problem": bad}] * 1000}, separators=(",", ":")).encode()
    outcome = _post(b, "/v1/batches", body)
    outcome.note = f"body {len(body) / MIB:.1f} MB; {outcome.note}"
    return outcome


def batch_reoptimize(b: Bench) -> Outcome:
    body = json.dumps({"jobs": [{"job_id": b.base_job}] * 1000, "changes": {"at": 0}}).encode()
    status, raw, seconds = b.http.send("POST", "/v1/batches/reoptimize", b.hostile, body)
    outcome = Outcome(str(status), seconds, len(raw), seconds_max=BATCH_SECONDS_MAX,
                      rss_max_mib=BATCH_RSS_MAX_MIB, ok=400 <= status < 500 or status == 202)
    doc = json.loads(raw) if raw.startswith(b"{") else {}
    if status == 202:  # accepted: what it created is cancelled, so the workers stay free
        b.http.send("DELETE", f"/v1/batches/{doc['id']}", b.hostile)
        outcome.note = f"{doc.get('total')} jobs created, then cancelled"
    else:
        outcome.note = str(doc.get("detail", ""))[:100]
    return outcome


def insertions(b: Bench) -> Outcome:
    """The most a quote request may ask: 100 new stops, 20 insertions each, on the 1,500-place job."""
    stops = [{"id": f"new{i}", "location_index": 1 + (i * 37) % 1499} for i in range(100)]
    status, raw, seconds = b.http.send("POST", f"/v1/jobs/{b.base_job}/insertions", b.hostile,
                                       json.dumps({"stops": stops, "limit": 20}).encode())
    quoted = len(json.loads(raw).get("tasks", [])) if status == 200 else 0
    return Outcome(str(status), seconds, len(raw), f"100 stops x 20 insertions; {quoted} tasks quoted",
                   ok=status == 200)


def routes_svg(b: Bench, again: bool) -> Outcome:
    path = f"/v1/jobs/{b.base_job}/routes.svg"
    if again:
        b.http.send("GET", path, b.hostile)
    status, raw, seconds = b.http.send("GET", path, b.hostile)
    return Outcome(str(status), seconds, len(raw), "second request (cached)" if again else "first request",
                   ok=status in (200, 413, 422))


def bogus_methods(b: Bench) -> Outcome:
    def labels() -> set[str]:
        _, raw, _ = b.http.send("GET", "/metrics", None)
        found = set()
        for line in raw.decode().splitlines():
            if line.startswith("routefarm_http_request_duration_seconds_count{"):
                for part in line.split("{", 1)[1].split("}")[0].split(","):
                    name, _, value = part.partition("=")
                    if name == "method":
                        found.add(value.strip('"'))
        return found

    before = labels()
    began = time.perf_counter()
    statuses, size = set(), 0
    for i in range(50):
        status, raw, _ = b.http.send(f"X{i:02d}FOO", "/v1/jobs", b.hostile)
        statuses.add(status)
        size = max(size, len(raw))
    seconds = time.perf_counter() - began
    added = labels() - before
    return Outcome("/".join(map(str, sorted(statuses))), seconds, size,
                   f"50 requests; method label values added: {len(added)}", ok=len(added) <= 1)


def long_polls(b: Bench) -> Outcome:
    _, doc = b.http.json("POST", "/v1/jobs", b.hostile, {"problem": _problem(200, seed=7, time_limit=20)})
    job = doc["id"]
    results: list[tuple[int, float, int]] = []

    def wait() -> None:
        status, raw, seconds = b.http.send("GET", f"/v1/jobs/{job}?wait=15", b.hostile, timeout=60)
        results.append((status, seconds, len(raw)))

    threads = [threading.Thread(target=wait) for _ in range(64)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    time.sleep(3)  # the other client's requests go on meanwhile
    refused = [r for r in results if r[0] == 429]
    for t in threads:
        t.join()
    b.http.send("DELETE", f"/v1/jobs/{job}", b.hostile)
    held = sum(r[0] == 200 for r in results)
    slowest_refusal = max((r[1] for r in refused), default=0.0)
    return Outcome(f"{len(refused)}x429", slowest_refusal, max((r[2] for r in refused), default=0),
                   f"64 concurrent ?wait=15: {held} held, {len(refused)} refused within 3 s "
                   f"(all done in {time.perf_counter() - began:.0f} s)", ok=bool(refused))


def endpoints(b: Bench) -> Outcome:
    statuses: dict[int, int] = {}
    slowest, size = 0.0, 0
    for i in range(200):
        status, raw, seconds = b.http.send("POST", "/v1/webhooks/endpoints", b.hostile,
                                           json.dumps({"url": f"http://127.0.0.1:9/e{i}"}).encode())
        statuses[status] = statuses.get(status, 0) + 1
        slowest, size = max(slowest, seconds), max(size, len(raw))
    _, raw, _ = b.http.send("GET", "/v1/webhooks/endpoints", b.hostile)
    listed = len(json.loads(raw).get("endpoints", [])) if raw.startswith(b"{") else -1
    text = ", ".join(f"{n}x{s}" for s, n in sorted(statuses.items()))
    return Outcome(text, slowest, size, f"200 creations; a list page holds {listed}; slowest one shown",
                   ok=any(400 <= s < 500 for s in statuses))


def slow_webhooks(b: Bench) -> Outcome:
    slow = Receiver(delay_s=9.0)
    try:
        status, raw, _ = b.http.send("POST", "/v1/webhooks/endpoints", b.hostile, json.dumps({"url": slow.url}).encode())
        ids = []
        began = time.perf_counter()
        for i in range(30):
            _, doc = b.http.json("POST", "/v1/jobs", b.hostile, {"problem": _problem(6, seed=1000 + i, time_limit=0.1)})
            ids.append(doc.get("id"))
        seconds = time.perf_counter() - began
        time.sleep(20)  # the slow receiver holds deliveries; the other client's go on
        return Outcome("202x30", seconds / 30, 0, f"30 jobs to a receiver answering in 9 s; "
                       f"{len(slow.arrivals)} of their webhooks answered after 20 s")
    finally:
        for endpoint in json.loads(b.http.send("GET", "/v1/webhooks/endpoints", b.hostile)[1] or b"{}").get("endpoints", []):
            b.http.send("DELETE", f"/v1/webhooks/endpoints/{endpoint['id']}", b.hostile)
        slow.close()


def _kafka_produce(b: Bench, value: bytes, key: str, secret: str | None) -> None:
    from confluent_kafka import Producer

    from routefarm.kafka.names import REOPTIMIZE_TOPIC
    from routefarm.kafka.signing import HEADER, sign

    producer = Producer({"bootstrap.servers": b.state["kafka_bootstrap"], "message.max.bytes": 4 * MIB})
    headers = [(HEADER, sign(secret, value).encode())] if secret else []
    producer.produce(REOPTIMIZE_TOPIC, key=key.encode(), value=value, headers=headers)
    producer.flush(15)


def _kafka_good_event(b: Bench, good_id: str, secret: str, base_job: str) -> float:
    """Seconds until a valid event of the well-behaved client becomes a job."""
    event_id = f"good-{uuid.uuid4()}"
    value = json.dumps({"event_id": event_id, "client_id": good_id, "base_job_id": base_job,
                        "at": 0, "time_limit": 0.2}).encode()
    began = time.perf_counter()
    _kafka_produce(b, value, good_id, secret)
    deadline = began + 60
    while time.perf_counter() < deadline:
        _, doc = b.http.json("GET", "/v1/jobs?limit=5", b.good)
        if any(j.get("metadata", {}).get("reoptimized_from") == base_job for j in doc.get("jobs", [])):
            return time.perf_counter() - began
        time.sleep(0.25)
    return float("inf")


def kafka_bad_events(b: Bench) -> Outcome:
    """A 30 kB invalid event and a forged one (the hostile key naming the other client),
    then a valid event of the other client: how long until it is a job."""
    hostile_id, good_id = b.state["bench_hostile_id"], b.state["bench_good_id"]
    big = json.dumps({"event_id": "x", "client_id": hostile_id, "base_job_id": str(uuid.uuid4()), "at": -1,
                      "cancel_stops": [f"{i:05d}" * 2 for i in range(3000)]}).encode()
    _kafka_produce(b, big, hostile_id, b.state["bench_hostile_ingest_key"])
    forged = json.dumps({"event_id": "forged", "client_id": good_id, "base_job_id": b.state["bench_good_base"],
                         "at": 0}).encode()
    _kafka_produce(b, forged, good_id, b.state["bench_hostile_ingest_key"])
    seconds = _kafka_good_event(b, good_id, b.state["bench_good_ingest_key"], b.state["bench_good_base"])
    _, doc = b.http.json("GET", "/v1/jobs?limit=20", b.good)
    forged_jobs = sum(1 for j in doc.get("jobs", []) if j.get("metadata", {}).get("event_id") == "forged")
    return Outcome("dlq", seconds, len(big), f"{len(big) / 1000:.0f} kB invalid + 1 forged event, then a valid one: "
                   f"job after {seconds:.1f} s; forged jobs created: {forged_jobs}",
                   seconds_max=10.0, ok=forged_jobs == 0 and seconds < 10)


PROBES = [
    Probe("matrix-800-negative", "POST /v1/jobs, 800x800 matrix of -1", "web", matrix_negative),
    Probe("many-windows", "POST /v1/jobs, one stop with 1,000,000 bad windows", "web", many_windows),
    Probe("huge-number", "POST /v1/jobs, demand and capacity 10^30", "web", huge_number),
    Probe("metadata-1.1MB", "POST /v1/jobs with 1.1 MB of metadata", "web", metadata),
    Probe("reoptimize-30000-cancel", "POST /v1/jobs/{id}/reoptimize, 30,000 bad cancel_stops", "web", reoptimize_cancel,
          True),
    Probe("batch-1000-invalid", "POST /v1/batches, 1,000 jobs of 30 bad stops each", "web", batch_invalid),
    Probe("routes-svg-1500", "GET routes.svg of a 1,500-place job", "web", lambda b: routes_svg(b, False), True),
    Probe("routes-svg-1500-again", "GET routes.svg again", "web", lambda b: routes_svg(b, True), True),
    Probe("insertions-1500", "POST /v1/jobs/{id}/insertions, 100 stops x 20 on a 1,500-place job", "web",
          insertions, True),
    Probe("bogus-methods", "50 requests with made-up HTTP methods", "web", bogus_methods),
    Probe("long-polls-64", "64 concurrent long-polls of one client", "web", long_polls),
    Probe("endpoints-200", "200 webhook endpoints of one client", "web", endpoints),
    Probe("slow-webhooks", "30 jobs whose webhook receiver answers in 9 s", "webhook", slow_webhooks),
    Probe("kafka-bad-events", "a 30 kB invalid event and a forged one on routefarm.reoptimize", "stream",
          kafka_bad_events),
    # last of the base owner's: it takes a rate-limit token per job
    Probe("batch-reoptimize-1000", "POST /v1/batches/reoptimize, one 1,500-place job x 1,000", "web",
          batch_reoptimize, True),
]
PROBE_S = 3.0  # a probe's window lasts at least this long: the other client's jobs in it are counted


def _create_client(farm: _farm.UpFarm, name: str) -> tuple[str, str]:
    """(client id, API key) from ``routefarm clients create`` ("client ID (NAME) on SHARD",
    "api key: KEY")."""
    out = subprocess.run([sys.executable, "-m", "routefarm", "clients", "create", name, "--data-dir", str(farm.data)],
                         capture_output=True, text=True, check=True, cwd=_farm.ROOT).stdout
    first = out.splitlines()[0].split()
    return first[1], _field(out, "key")


def _ingest_key(farm: _farm.UpFarm, client_id: str) -> str:
    out = subprocess.run([sys.executable, "-m", "routefarm", "clients", "ingest-key", client_id,
                          "--data-dir", str(farm.data)], capture_output=True, text=True, check=True,
                         cwd=_farm.ROOT).stdout
    return _field(out, "key")


def _field(output: str, name: str) -> str:
    for line in output.splitlines():
        label, _, value = line.partition(":")
        if label.strip().lower().endswith(name):
            return value.strip()
    raise SystemExit(f"no {name!r} in: {output}")


def _solved(b: Bench, key: str, problem: dict, timeout: float = 300) -> str:
    status, doc = b.http.json("POST", "/v1/jobs", key, {"problem": problem})
    if status != 202:
        raise SystemExit(f"could not submit the base job: {status} {doc}")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _, doc = b.http.json("GET", f"/v1/jobs/{doc['id']}?wait=30", key, timeout=45)
        if doc.get("status") in ("succeeded", "failed", "cancelled"):
            break
    if doc.get("status") != "succeeded":
        raise SystemExit(f"the base job did not succeed: {doc.get('status')} {doc.get('error')}")
    return doc["id"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", choices=[p.name for p in PROBES])
    parser.add_argument("--keep", action="store_true", help="keep the farm's data folder and logs")
    args = parser.parse_args(argv)
    probes = [p for p in PROBES if not args.only or p.name in args.only]

    farm = _farm.UpFarm("abuse", max_workers=2, cooldown=30)
    receiver = Receiver()
    try:
        state = farm.wait_ready()
        hostile_id, hostile_key = _create_client(farm, "hostile")
        good_id, good_key = _create_client(farm, "well-behaved")
        b = Bench(Http(state["api_url"]), state, hostile_key, good_key, farm, receiver)
        status, _ = b.http.json("POST", "/v1/webhooks/endpoints", good_key, {"url": receiver.url})
        if status != 201:
            raise SystemExit(f"the well-behaved client's endpoint was refused: {status}")
        print("# solving the base jobs (a 1,500-place matrix, a 12-place one)", flush=True)
        b.base_job, b.base_owner = _solved(b, hostile_key, _problem(1500, seed=1, time_limit=5)), hostile_key
        state.update(bench_hostile_id=hostile_id, bench_good_id=good_id,
                     bench_good_base=_solved(b, good_key, _problem(12, seed=99, time_limit=0.2)))
        if state.get("kafka_bootstrap") and any(p.served_by == "stream" for p in probes):
            state.update(bench_hostile_ingest_key=_ingest_key(farm, hostile_id),
                         bench_good_ingest_key=_ingest_key(farm, good_id))
        threading.Thread(target=b.well_behaved, daemon=True).start()
        time.sleep(3)

        rows, failed = [], []
        for probe in probes:
            # a client of its own for each probe (a full rate-limit bucket), but the base job's owner
            b.hostile = b.base_owner if probe.on_base else _create_client(farm, f"hostile-{probe.name}")[1]
            pids = _pids(farm, probe.served_by)
            before = _reset_peaks(pids)
            began = time.time()
            try:
                outcome = probe.run(b)
            except Exception as exc:  # noqa: BLE001 - one broken probe is a row, not the end of the run
                outcome = Outcome("error", 0.0, 0, f"{type(exc).__name__}: {exc}"[:120], ok=False)
            time.sleep(max(0.0, began + PROBE_S - time.time()))
            growth = _growth_mib(before)
            others, hooks, fine = b.other_client(began, time.time())
            misses = [why for why, bad in (
                ("status", not outcome.ok),
                ("time", outcome.seconds > outcome.seconds_max),
                ("size", outcome.answer_bytes > ANSWER_MAX),
                ("memory", growth > outcome.rss_max_mib),
                ("other client", not fine)) if bad]
            if misses:
                failed.append((probe.name, misses))
            rows.append((probe.name, outcome.status, f"{outcome.seconds:.2f}", f"{outcome.answer_bytes:,}",
                         f"{growth:.0f}", others, hooks, "ok" if not misses else "MISSED " + ",".join(misses),
                         outcome.note))
            print(f"# {probe.name}: {probe.what}", flush=True)
        b.stopping.set()
    finally:
        receiver.close()
        farm.stop(keep=args.keep)

    header = ("probe", "status", "seconds", "answer B", "RSS+ MiB", "other client's jobs", "its webhooks",
              "targets", "note")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header) - 1)]
    print()
    for row in [header, *rows]:
        print("  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=False)) + "  " + str(row[-1]))
    print(f"\n# targets: 4xx or bounded success within {SECONDS_MAX:g} s ({BATCH_SECONDS_MAX:g} s for the batch "
          f"re-optimization), answer <= {ANSWER_MAX // 1024} KiB, RSS growth <= {RSS_MAX_MIB} MiB "
          f"({BATCH_RSS_MAX_MIB} for the batch), every job of the other client succeeded with its webhook")
    print(f"# {len(rows) - len(failed)} of {len(rows)} probes met every target"
          + ("" if not failed else "; missed: " + "; ".join(f"{n} ({', '.join(m)})" for n, m in failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
