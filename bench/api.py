#!/usr/bin/env python
"""The farm's HTTP and worker overheads against the floor of this stack, in one run.

    python bench/api.py                       # the full table (a few minutes)
    python bench/api.py --duration 3 --jobs 40   # a quick smoke run
    python bench/api.py --profile out/        # also: py-spy of the web workers at c=16, after the table

What it does, on this machine, against local PostgreSQL and Redis (127.0.0.1 only):

1. Recreates ``routefarm_bench_dir``, ``routefarm_bench_s0``, ``routefarm_bench_s1`` and
   migrates them; flushes Redis databases 12 (broker) and 13 (cache) -- after checking that no
   other connection has them selected (``--redis-dbs`` picks others, ``--force`` skips the
   check) -- and uses the broker namespace ``routefarm-bench``; creates a client.
   Rate limit 1,000,000/s (burst 1,000,000) and de-duplication off (window 0); every
   request's problem differs anyway (the first stop's id carries a counter).
2. Starts our API (``api.wsgi:app``) and ``bench/bare_app.py`` (LPUSH the body, answer 202)
   side by side, both under ``gunicorn --config python:api.gunicorn_conf`` (the same worker
   count, worker class and threads: WEB_CONCURRENCY / WEB_THREADS apply to both).
3. Submit (``POST /v1/jobs``, a 10-stop problem, ``Authorization: Bearer``) at 1, 16 and 64
   connections for both apps, with wrk (1 thread, keep-alive, a Lua script that builds each
   body), after a short warm-up; no workers run, the queue is emptied before each point.
   Per point it also reads the CPU time (/proc) of the app's gunicorn processes and of the
   Postgres backends on the bench databases (CPU ms per request: robust to other load), and
   how busy other processes kept the machine.
4. Cached ``GET /v1/jobs/{id}`` of a queued job (its document is in Redis) at 1 connection.
5. End to end with one worker and an idle queue, sequentially: submit, then long-poll
   ``GET ?wait=30`` until ``succeeded``; minus ``solution.solver.wall_time``; split into
   parts with the row's ``started_at`` / ``finished_at`` (same host clock).
6. Farm throughput: 2 worker processes (the Procfile's worker command twice), N jobs
   submitted through the API by 4 client threads, timed from the first submit to the last
   ``rf:done`` publication; against ``bench/bare_actor.py`` (the same solve, the same broker
   class, URL and namespace, 2 processes x 1 thread, prefetch 1) with N messages enqueued
   directly, timed from the first enqueue to the last completion.
7. Prints the table with the targets of issue 3. Every child process is stopped on exit,
   Ctrl-C or error. Logs go to a temporary directory (printed); the databases are left for
   inspection and recreated by the next run.

This machine may be shared: ``--wait-quiet S`` first waits (up to S seconds) for other
processes to go quiet, and the table's notes say how busy they kept the CPUs.

Load generators: wrk for 3 and 4 (the table's header says so); a Python ``http.client``
client for 5 and 6, where each request depends on the previous one.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import runpy
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
for _path in (HERE, HERE.parent):  # the bench helpers and the repository's packages
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import _farm  # noqa: E402
import _machine  # noqa: E402

PG = os.environ.get("ROUTEFARM_BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
REDIS = os.environ.get("ROUTEFARM_BENCH_REDIS", "redis://127.0.0.1:6379")
BROKER_DB, CACHE_DB = 12, 13  # defaults; --redis-dbs changes them
NAMESPACE = "routefarm-bench"  # broker key prefix: never shares a queue with another farm on the same DB
BARE_LIST = "bench:bare:jobs"  # bench/bare_app.py pushes here
DATABASES = {"directory": "routefarm_bench_dir", "shard0": "routefarm_bench_s0", "shard1": "routefarm_bench_s1"}
TERMINAL = ("succeeded", "failed", "cancelled")

# targets from issue 3


# -- the problem --------------------------------------------------------------------------------

from _api_table import CONCURRENCIES, target_rows  # noqa: E402
from _load import DoneWatcher, Http, Wrk, lua_get, lua_post, percentile, problem  # noqa: E402


class Bench:
    def __init__(self, args):
        import redis

        self.args = args
        self.broker_db, self.cache_db = args.redis_dbs
        self.logs = Path(tempfile.mkdtemp(prefix="routefarm-bench-api-"))
        self.values = {
            "directory_url": f"{PG}/{DATABASES['directory']}",
            "shard_urls": f"{PG}/{DATABASES['shard0']},{PG}/{DATABASES['shard1']}",
            "redis_url": f"{REDIS}/{self.broker_db}",
            "cache_url": f"{REDIS}/{self.cache_db}",
            "namespace": NAMESPACE,
            "rate_limit": 1_000_000,
            "rate_burst": 1_000_000,
            "dedup_window_s": 0,
        }
        self.children = _farm.Children(self.logs, _farm.settings_env(self.values))
        self.broker_redis = redis.Redis.from_url(f"{REDIS}/{self.broker_db}")
        self.cache_redis = redis.Redis.from_url(f"{REDIS}/{self.cache_db}")
        self.wrk = Wrk(self.logs)
        self.results: dict = {}

    # setup
    def prepare(self) -> None:
        from routefarm.db.directory import Directory
        from routefarm.db.migrate import migrate
        from routefarm.db.pools import Databases
        from routefarm.settings import Settings

        users = _farm.redis_users(REDIS, (self.broker_db, self.cache_db))
        if users and not self.args.force:
            raise SystemExit(f"Redis databases {self.broker_db} and {self.cache_db} are in use by other "
                             f"connections ({'; '.join(users[:5])}); this run would flush them. Choose others "
                             f"with --redis-dbs B,C or pass --force.")
        self.background_before = _farm.cpu_busy(2.0)
        _farm.recreate_databases(PG, list(DATABASES.values()))
        migrate(self.values["directory_url"], "directory")
        for url in self.values["shard_urls"].split(","):
            migrate(url, "shard")
        self.broker_redis.flushdb()
        self.cache_redis.flushdb()
        self.settings = Settings(**self.values)
        db = Databases(self.settings)
        db.open(wait=True)
        try:
            self.client, self.key = Directory(db).create_client("bench")
        finally:
            db.close()
        self.ours_port, self.bare_port = _farm.free_port(), _farm.free_port()
        self.children.gunicorn("web", "api.wsgi:app", self.ours_port)
        self.children.gunicorn("bare-web", "bench.bare_app:app", self.bare_port,
                               extra_env={"BENCH_BARE_REDIS": f"{REDIS}/{self.broker_db}"})

    def drain_queues(self) -> None:
        """Drop this run's broker messages and the bare app's list (others' keys stay)."""
        _farm.delete_matching(self.broker_redis, f"{NAMESPACE}:*")
        self.broker_redis.delete(BARE_LIST)

    def cpu_snapshot(self, web: str) -> dict:
        """CPU times: the web app's processes, the Postgres backends on our databases, Redis,
        our reaped children (wrk), and the whole machine."""
        pids = set(self.children.pids(web))
        names = tuple(DATABASES.values())
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return {
            "web": _farm.process_cpu(lambda pid, _: pid in pids),
            "pg": _farm.process_cpu(lambda _, cmd: cmd.startswith("postgres: ") and any(n in cmd for n in names)),
            "redis": _farm.process_cpu(lambda _, cmd: cmd.startswith("redis-server")),
            "wrk": children.ru_utime + children.ru_stime,
            "machine": _farm.machine_cpu(),
        }

    @staticmethod
    def cpu_used(before: dict, after: dict, requests: int) -> dict:
        """Per request: web and Postgres CPU ms; and the share of the machine that other
        processes (not this run's web app, Postgres backends, Redis or wrk) kept busy."""
        web = _farm.cpu_delta(before["web"], after["web"])
        pg = _farm.cpu_delta(before["pg"], after["pg"])
        redis_cpu = _farm.cpu_delta(before["redis"], after["redis"])
        wrk = after["wrk"] - before["wrk"]
        busy = after["machine"][0] - before["machine"][0]
        total = after["machine"][1] - before["machine"][1]
        return {"cpu_ms_web": web / requests * 1000, "cpu_ms_pg": pg / requests * 1000,
                "machine_busy": busy / max(total, 1e-9),
                "others_busy": max(0.0, busy - web - pg - redis_cpu - wrk) / max(total, 1e-9)}

    def gunicorn_settings(self) -> str:
        conf = runpy.run_path(str(_farm.ROOT / "api" / "gunicorn_conf.py"))
        return (f"{_machine.package_version('gunicorn')} (api/gunicorn_conf.py, both apps): "
                f"{conf['workers']} workers x {conf['threads']} threads, {conf['worker_class']}, "
                f"keepalive {conf['keepalive']} s")

    # 3: submit
    def submit_points(self) -> None:
        d, warm = self.args.duration, self.args.warmup
        for c in CONCURRENCIES:
            for name, port in (("bare", self.bare_port), ("ours", self.ours_port)):
                url = f"http://127.0.0.1:{port}"
                self.drain_queues()
                if warm > 0:
                    self.wrk.run(url, lua_post(self.key), c, warm, f"warm-{name}-c{c}")
                self.drain_queues()
                web = "web" if name == "ours" else "bare-web"
                cpu0 = self.cpu_snapshot(web)
                r = self.wrk.run(url, lua_post(self.key), c, d, f"{name}-c{c}")
                cpu1 = self.cpu_snapshot(web)
                r.update(self.cpu_used(cpu0, cpu1, r["requests"]))
                self.results[f"submit_{name}_c{c}"] = r
                log(f"submit {name:4} c={c:<3} {r['rps']:7.0f} req/s  p50 {r['p50_ms']:6.2f} ms  "
                    f"p99 {r['p99_ms']:6.2f} ms  errors {r['errors']}  CPU/req: web {r['cpu_ms_web']:.2f} ms, "
                    f"Postgres {r['cpu_ms_pg']:.2f} ms; machine {r['machine_busy']:.0%} busy, "
                    f"{r['others_busy']:.0%} by others")
                time.sleep(1)
        self.drain_queues()

    # 4: cached GET
    def cached_get(self) -> None:
        client = Http(self.ours_port, self.key)
        job = client.submit("cached-get")
        status, doc = client.request("GET", f"/v1/jobs/{job['id']}")
        client.close()
        if status != 200 or not self.cache_redis.exists(f"rf:job:{job['id']}"):
            raise RuntimeError(f"the job's document is not cached ({status}, {doc})")
        url = f"http://127.0.0.1:{self.ours_port}/v1/jobs/{job['id']}"
        if self.args.warmup > 0:
            self.wrk.run(url, lua_get(self.key), 1, self.args.warmup, "warm-get")
        r = self.wrk.run(url, lua_get(self.key), 1, self.args.duration, "get-c1")
        if not self.cache_redis.exists(f"rf:job:{job['id']}"):
            raise RuntimeError("the job's document left the cache during the run")
        self.results["get_c1"] = r
        log(f"cached GET c=1  {r['rps']:7.0f} req/s  p50 {r['p50_ms']:6.2f} ms  p99 {r['p99_ms']:6.2f} ms  "
            f"errors {r['errors']}")

    # workers
    def start_workers(self, names: list[str], module: str, queue: str, path: str | None = None) -> None:
        for name in names:
            self.children.dramatiq(name, module, queue, path)
        for name in names:
            self.children.wait_log(name, "Worker process is ready for action.")

    # 5: end to end
    def end_to_end(self) -> None:
        self.drain_queues()  # the submit points left their messages: the queue must be idle
        self.start_workers(["worker-1"], "workers.main:setup", "solve")
        client = Http(self.ours_port, self.key)
        samples = []
        try:
            for i in range(self.args.warm_jobs + self.args.samples):
                time.sleep(random.uniform(0.05, 0.15))  # an idle queue: the worker is back to waiting
                # wall-clock times: the parts below compare them with the rows' timestamps
                # (Postgres now(), the same host clock)
                t0 = time.time()
                job = client.submit(f"e2e-{i}")
                t_accepted = time.time()
                deadline = time.monotonic() + 60
                while True:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"job {job['id']} did not end within 60 s; see {self.logs}")
                    status, doc = client.request("GET", f"/v1/jobs/{job['id']}?wait=30")
                    if status != 200:
                        raise RuntimeError(f"long-poll answered {status}: {doc}")
                    if doc["status"] in TERMINAL:
                        break
                t1 = time.time()
                if doc["status"] != "succeeded":
                    raise RuntimeError(f"job {job['id']} ended {doc['status']}: {doc.get('error')}")
                if i < self.args.warm_jobs:
                    continue
                wall = doc["solution"]["solver"]["wall_time"]
                # started_at / finished_at: the start of the claim / finish transactions
                started, finished = _ts(doc["started_at"]), _ts(doc["finished_at"])
                samples.append({
                    "total": t1 - t0, "wall": wall, "overhead": t1 - t0 - wall,
                    "submit": t_accepted - t0,  # POST answered
                    "pickup": started - t_accepted,  # answered -> claimed by the worker
                    "worker": finished - started - wall,  # claim, parse, solver set-up, ... minus the solve
                    "rest": t1 - finished,  # finish commit, cache, publish, wake-up, long-poll answer
                })
        finally:
            client.close()
        overhead = [s["overhead"] * 1000 for s in samples]
        parts = {k: percentile([s[k] * 1000 for s in samples], 50)
                 for k in ("submit", "pickup", "worker", "rest", "wall")}
        self.results["e2e"] = {"n": len(samples), "p50_ms": percentile(overhead, 50), "p99_ms": percentile(overhead, 99),
                               "max_ms": max(overhead), "parts_p50_ms": parts}
        log(f"e2e overhead n={len(samples)}  p50 {percentile(overhead, 50):.1f} ms  p99 {percentile(overhead, 99):.1f} ms"
            f"  (p50 parts: submit {parts['submit']:.1f}, answered->claimed {parts['pickup']:.1f}, "
            f"claimed->finishing minus solve {parts['worker']:.1f}, finishing->seen {parts['rest']:.1f}, "
            f"solve {parts['wall']:.1f} ms)")

    # 6: farm against the bare actor
    def farm_throughput(self) -> None:
        n = self.args.jobs
        self.start_workers(["worker-2"], "workers.main:setup", "solve")  # worker-1 still runs
        watcher = DoneWatcher(self.cache_redis, "rf:done:*")
        try:
            warm_client = Http(self.ours_port, self.key)
            warm = [warm_client.submit(f"farm-warm-{i}")["id"] for i in range(4)]
            warm_client.close()
            watcher.wait_for(set(warm), 60)

            clients = [Http(self.ours_port, self.key) for _ in range(4)]
            lock, ids = threading.Lock(), []

            def send_share(k: int) -> None:
                """Client k submits jobs k, k + 4, ... one after another on its own connection."""
                for i in range(k, n, len(clients)):
                    doc = clients[k].submit(f"farm-{i}")
                    with lock:
                        ids.append(doc["id"])

            t0 = time.perf_counter()
            with ThreadPoolExecutor(len(clients)) as pool:
                for future in [pool.submit(send_share, k) for k in range(len(clients))]:
                    future.result()
            t_submitted = time.perf_counter()
            done = watcher.wait_for(set(ids), 30 + n)
            t_end = max(t for t, _ in done.values())
            failed = sum(1 for _, s in done.values() if s != "succeeded")
            for c in clients:
                c.close()
        finally:
            watcher.close()
            self.children.stop("worker-1")
            self.children.stop("worker-2")
        wall = self._mean_wall(ids)
        self.results["farm"] = {"n": n, "seconds": t_end - t0, "rate": n / (t_end - t0), "failed": failed,
                                "submit_seconds": t_submitted - t0, "mean_wall_ms": wall * 1000}
        log(f"farm  {n} jobs in {t_end - t0:.2f} s = {n / (t_end - t0):.2f} jobs/s (submitted in "
            f"{t_submitted - t0:.2f} s, mean solver wall {wall * 1000:.1f} ms, failed {failed})")

        # the bare actor on the same broker
        import dramatiq

        from routefarm.broker import make_broker

        self.drain_queues()
        self.start_workers(["bare-1", "bare-2"], "bench.bare_actor", "bench_bare")
        broker = make_broker(self.settings)
        broker.declare_queue("bench_bare")
        watcher = DoneWatcher(self.cache_redis, "bench:bare:done:*")

        def message(tag: str) -> dramatiq.Message:
            return dramatiq.Message(queue_name="bench_bare", actor_name="bare_solve", args=(tag, problem(tag)),
                                    kwargs={}, options={})

        try:
            warm = [f"bare-warm-{i}" for i in range(4)]
            for tag in warm:
                broker.enqueue(message(tag))
            watcher.wait_for(set(warm), 60)
            tags = [f"bare-{i}" for i in range(n)]
            messages = [message(tag) for tag in tags]
            t0 = time.perf_counter()
            for m in messages:
                broker.enqueue(m)
            done = watcher.wait_for(set(tags), 30 + n)
            t_end = max(t for t, _ in done.values())
        finally:
            watcher.close()
            broker.close()
            self.children.stop("bare-1")
            self.children.stop("bare-2")
        wall = sum(float(w) for _, w in done.values()) / n
        self.results["bare_actor"] = {"n": n, "seconds": t_end - t0, "rate": n / (t_end - t0),
                                      "mean_wall_ms": wall * 1000}
        log(f"bare actor  {n} jobs in {t_end - t0:.2f} s = {n / (t_end - t0):.2f} jobs/s "
            f"(mean solver wall {wall * 1000:.1f} ms)")

    def _mean_wall(self, ids: list[str]) -> float:
        import psycopg

        total, count = 0.0, 0
        for url in self.values["shard_urls"].split(","):
            with psycopg.connect(url) as conn:
                row = conn.execute("SELECT coalesce(sum((solution->'solver'->>'wall_time')::float), 0), count(*)"
                                   " FROM jobs WHERE id = ANY(%s::uuid[])", (ids,)).fetchone()
                total, count = total + row[0], count + row[1]
        return total / max(count, 1)

    # optional: where the web process spends its time
    def profile(self, out: Path) -> None:
        if shutil.which("py-spy") is None:
            log("--profile: py-spy is not installed (pip install py-spy); skipped")
            return
        out.mkdir(parents=True, exist_ok=True)
        master = self.children.procs["web"].pid
        workers = [p for p in self.children.pids("web") if p != master]
        spies = [subprocess.Popen(["py-spy", "record", "--pid", str(pid), "--rate", "200",
                                   "--duration", str(round(self.args.duration)), "--nonblocking",
                                   "--format", "raw", "--output", str(out / f"web-{pid}.folded")],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                 for pid in workers]
        try:
            time.sleep(0.5)
            r = self.wrk.run(f"http://127.0.0.1:{self.ours_port}", lua_post(self.key), 16, self.args.duration,
                             "profile-c16")
            log(f"profile run (py-spy attached, not in the table): {r['rps']:.0f} req/s; output in {out}")
        finally:
            for spy in spies:
                try:
                    spy.wait(30)
                except subprocess.TimeoutExpired:
                    spy.terminate()
        self.drain_queues()

    # 7: the table
    def table(self) -> str:
        r = self.results
        rows = target_rows(r)
        head = ("measurement", "ours", "bare", "target", "result")
        widths = [max(len(x[i]) for x in [head, *rows]) for i in range(5)]
        line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()  # noqa: E731
        header = _machine.header(gunicorn=self.gunicorn_settings(),
                                 load=f"{self.wrk.version}, 1 thread, keep-alive, {self.args.duration:g} s per point "
                                      f"after {self.args.warmup:g} s warm-up (submit, GET); Python http.client "
                                      f"(e2e, farm submissions: 4 connections)")
        parts = r["e2e"]["parts_p50_ms"]
        notes = [
            f"# background CPU busy (all cores, nothing of this run running): {self.background_before:.0%} before, "
            f"{self.background_after:.0%} after; Redis DBs {self.broker_db}/{self.cache_db}, broker namespace "
            f"{NAMESPACE}",
            "# bare = bench/bare_app.py (LPUSH body, 202) for submit; bench/bare_actor.py (same solve, same broker) "
            "for farm throughput",
            f"# e2e overhead, p50 of each part (ms): POST answered {parts['submit']:.1f}, answered->claimed "
            f"{parts['pickup']:.1f}, claimed->finishing minus solve {parts['worker']:.1f}, finishing->long-poll "
            f"answered {parts['rest']:.1f} (solver wall {parts['wall']:.1f})",
        ]
        others = [v["others_busy"] for k, v in r.items() if k.startswith("submit_")]
        notes.append(f"# during the submit points, processes outside this run kept {min(others):.0%}-{max(others):.0%} "
                     f"of the machine busy (mean {sum(others) / len(others):.0%})")
        errors = {k: v["errors"] for k, v in r.items() if isinstance(v, dict) and v.get("errors")}
        if errors:
            notes.append(f"# wrk errors (non-2xx/3xx, timeouts, ...): {errors}")
        if r["farm"]["failed"]:
            notes.append(f"# farm jobs not succeeded: {r['farm']['failed']}")
        sep = "  ".join("-" * w for w in widths)
        return "\n".join([header, *notes, line(head), sep, *(line(row) for row in rows)])


def _ts(value: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def _two_ints(value: str) -> tuple[int, int]:
    a, b = (int(v) for v in value.split(","))
    return a, b


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per wrk point (default 10)")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up before each wrk point")
    parser.add_argument("--samples", type=int, default=50, help="end-to-end samples (default 50)")
    parser.add_argument("--warm-jobs", type=int, default=3, help="end-to-end jobs run before sampling")
    parser.add_argument("--jobs", type=int, default=200, help="jobs per throughput run (default 200)")
    parser.add_argument("--profile", type=Path, help="after the table: py-spy the web workers at c=16, into DIR")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    parser.add_argument("--redis-dbs", type=_two_ints, default=(BROKER_DB, CACHE_DB), metavar="B,C",
                        help=f"Redis databases for the broker and the cache, flushed (default {BROKER_DB},{CACHE_DB})")
    parser.add_argument("--force", action="store_true", help="flush the Redis databases even if others use them")
    parser.add_argument("--wait-quiet", type=float, default=0.0, metavar="SECONDS",
                        help="first wait up to SECONDS until other processes keep the CPUs under 15%% busy")
    args = parser.parse_args()

    def terminate(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, terminate)
    if args.wait_quiet > 0:
        deadline = time.monotonic() + args.wait_quiet
        while (busy := _farm.cpu_busy(3.0)) > 0.15 and time.monotonic() < deadline:
            log(f"waiting for a quiet machine: CPUs {busy:.0%} busy")
            time.sleep(7)
    bench = Bench(args)
    log(f"logs in {bench.logs}")
    try:
        bench.prepare()
        log(f"API on :{bench.ours_port}, bare app on :{bench.bare_port}, client {bench.client.id} "
            f"on {bench.client.shard}")
        bench.submit_points()
        bench.cached_get()
        bench.end_to_end()
        bench.farm_throughput()
        if args.profile:
            bench.profile(args.profile)
        bench.children.stop_all()
        bench.background_after = _farm.cpu_busy(2.0)
        print(bench.table(), flush=True)
        if args.json:
            args.json.write_text(json.dumps(bench.results, indent=2, default=str))
    except KeyboardInterrupt:
        log("interrupted; stopping every process started here")
        return 130
    finally:
        bench.children.stop_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
