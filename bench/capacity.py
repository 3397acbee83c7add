#!/usr/bin/env python
"""The figures of CAPACITY.md: what one worker core, one shard and one relay can do.

    python bench/capacity.py                      # all parts, about 4 minutes
    python bench/capacity.py --parts worker       # one part: worker | shard | relay

Fresh databases on ``--pg`` (``rf_bench_cap_*``, dropped at the end) and two Redis
databases (``--redis-dbs``, flushed).

- **worker**: one solve worker process (the Procfile's command: one process, one thread)
  takes batches of jobs of 10, 50, 200 and 1,000 stops, each with the time limit a client
  would give it; jobs per second per core, the overhead per job beyond the solver's own
  wall time, and the worker's peak resident memory (VmHWM) after each size. The same run
  counts the shard's commits and row writes per job (PostgreSQL's statistics views).
- **shard**: the job store alone (no solver, no HTTP), 8 threads writing whole job
  lifecycles (insert, claim, finish, each with its outbox event) on one shard for 10 s:
  the jobs per second one shard records on this machine.
- **relay**: 5,000 outbox events on one shard published to an embedded Kafka broker by one
  relay: events per second.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
for _path in (HERE, HERE.parent):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import _farm  # noqa: E402
import _machine  # noqa: E402

PG = "postgresql://postgres@127.0.0.1:5432"
REDIS = "redis://127.0.0.1:6379"
NAMES = {"directory": "rf_bench_cap_dir", "shard0": "rf_bench_cap_s0"}
SIZES = ((10, 0.5, 20), (50, 1.0, 12), (200, 2.0, 6), (1000, 5.0, 3))  # stops, time limit, jobs


def problem(stops: int, time_limit: float, seed: int) -> dict:
    import random

    rng = random.Random(seed)
    vans = max(2, stops // 15)
    return {
        "vehicles": [{"id": f"van-{k}", "start": [13.405, 52.52], "end": [13.405, 52.52], "capacity": [40],
                      "time_window": [25200, 68400]} for k in range(vans)],
        "stops": [{"id": f"s{i}", "location": [round(13.2 + rng.random() * 0.4, 5),
                                               round(52.4 + rng.random() * 0.25, 5)],
                   "demand": [1 + i % 3], "service": 180, "time_windows": [[28800, 64800]]}
                  for i in range(stops)],
        "options": {"time_limit": time_limit, "seed": seed},
    }


class Setup:
    def __init__(self, args):
        import redis

        from routefarm.db.migrate import migrate
        from routefarm.settings import Settings

        self.args = args
        broker_db, cache_db = args.redis_dbs
        _farm.recreate_databases(args.pg, list(NAMES.values()))
        migrate(f"{args.pg}/{NAMES['directory']}", "directory")
        migrate(f"{args.pg}/{NAMES['shard0']}", "shard")
        for db in (broker_db, cache_db):
            redis.Redis.from_url(f"{args.redis}/{db}").flushdb()
        self.values = {"directory_url": f"{args.pg}/{NAMES['directory']}",
                       "shard_urls": f"{args.pg}/{NAMES['shard0']}",
                       "redis_url": f"{args.redis}/{broker_db}", "cache_url": f"{args.redis}/{cache_db}",
                       "dedup_window_s": 0, "rate_limit": 1e6, "rate_burst": 1_000_000, "db_pool_size": 10,
                       "max_time_limit_s": 60}
        self.settings = Settings(**self.values)

    def farm(self):
        from routefarm.farm import Farm

        return Farm(self.settings).open(wait=True)

    def drop(self) -> None:
        _farm.drop_databases(self.args.pg, list(NAMES.values()))


def shard_stats(farm) -> tuple[int, int]:
    """(commits, rows inserted + updated + deleted) of the shard so far."""
    with farm.db.shard("shard0") as conn:
        commits = conn.execute("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"
                               ).fetchone()[0]
        rows = conn.execute("SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0)::bigint"
                            " FROM pg_stat_user_tables").fetchone()[0]
    return commits, rows


def worker_part(setup: Setup) -> str:
    from routefarm.jobs.submit import submit

    logs = Path(tempfile.mkdtemp(prefix="routefarm-bench-capacity-"))
    children = _farm.Children(logs, _farm.settings_env(setup.values))
    farm = setup.farm()
    client, _ = farm.directory.create_client("capacity")
    lines = [f"{'stops':>6} {'limit s':>8} {'jobs':>5} {'wall s':>7} {'jobs/s':>7} {'solver s':>9} "
             f"{'overhead s':>10} {'peak RSS MiB':>13} {'commits/job':>12} {'rows/job':>9}"]
    try:
        children.dramatiq("worker", "workers.main:setup", "solve")
        children.wait_log("worker", "ready for action", timeout=60)
        for stops, limit, count in SIZES:
            time.sleep(2.0)  # statistics views catch up
            commits0, rows0 = shard_stats(farm)  # (this reading is one commit: subtracted below)
            started = time.monotonic()
            ids = [submit(farm, client.id, {"problem": problem(stops, limit, n)}).document["id"] for n in range(count)]
            walls = _wait_done(farm, client.id, ids, timeout=count * (limit + 30) + 60)
            wall = time.monotonic() - started
            time.sleep(2.0)
            commits1, rows1 = shard_stats(farm)
            rss = max(_peak_rss(pid) for pid in children.pids("worker"))
            solver = sum(walls) / len(walls)
            lines.append(f"{stops:>6} {limit:>8.1f} {count:>5} {wall:>7.1f} {count / wall:>7.3f} {solver:>9.2f} "
                         f"{wall / count - solver:>10.2f} {rss:>13.0f} {(commits1 - commits0 - 1) / count:>12.1f} "
                         f"{(rows1 - rows0) / count:>9.1f}")
            print(lines[-1], flush=True)
    finally:
        children.stop("worker")
        farm.close()
    return "## one solve worker (1 process, 1 thread = 1 core)\n" + "\n".join(lines)


def _wait_done(farm, client_id: str, ids: list[str], timeout: float) -> list[float]:
    """The solver wall times, once every job is terminal. Watched in the Redis cache (the
    worker writes the final document there), so the shard's commit count is the farm's own."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        docs = [farm.cache.get_job(job) or {} for job in ids]
        if all(d.get("status") in ("succeeded", "failed", "cancelled") for d in docs):
            return [float(((d.get("solution") or {}).get("solver") or {}).get("wall_time") or 0) for d in docs]
        time.sleep(0.2)
    raise SystemExit(f"jobs did not finish within {timeout:g} s")


def _peak_rss(pid: int) -> float:
    """VmHWM of ``pid`` and its children (the Dramatiq worker process), in MiB."""
    peak = 0.0
    for candidate in [pid, *_children_of(pid)]:
        try:
            for line in Path(f"/proc/{candidate}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]) / 1024)
        except OSError:
            continue
    return peak


def _children_of(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def shard_part(setup: Setup, seconds: float = 10.0, threads: int = 8) -> str:
    from optimizer import parse_problem
    from optimizer.engines import engine
    from routefarm.jobs.submit import submit

    farm = setup.farm()
    client, _ = farm.directory.create_client("shard-capacity")
    small = problem(10, 0.5, 1)
    solution = engine("ortools").solve(parse_problem(small), time_limit=0.5, seed=1).to_json_dict()
    done = [0] * threads
    stop = time.monotonic() + seconds

    def lifecycle(n: int) -> None:
        k = 0
        while time.monotonic() < stop:
            k += 1
            body = {"problem": {**small, "options": {"time_limit": 0.5, "seed": n * 10**6 + k}}}
            job = uuid.UUID(submit(farm, client.id, body).document["id"])
            farm.store.claim(client.id, job, f"bench-{n}", 30)
            farm.store.finish(client.id, job, f"bench-{n}", "succeeded", solution, None)
            done[n] += 1

    pool = [threading.Thread(target=lifecycle, args=(n,)) for n in range(threads)]
    started = time.monotonic()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    wall = time.monotonic() - started
    farm.close()
    total = sum(done)
    return (f"## one shard: whole job lifecycles (submit with de-duplication check, claim, finish; each with "
            f"its outbox event), {threads} threads, no solver\n"
            f"{'jobs':>6} {'seconds':>8} {'jobs/s':>8}\n{total:>6} {wall:>8.1f} {total / wall:>8.1f}")


def relay_part(setup: Setup, events: int = 5000) -> str:
    from routefarm.kafka import clients
    from routefarm.kafka.relay import Relay, producer
    from routefarm.local.kafka_server import EmbeddedKafka

    farm = setup.farm()
    with farm.db.shard("shard0") as conn:
        conn.execute("UPDATE outbox SET sent_at = now() WHERE sent_at IS NULL")
        conn.execute("INSERT INTO outbox (client_id, job_id, type, data) SELECT 'c_bench', gen_random_uuid(),"
                     " 'routefarm.job.succeeded', jsonb_build_object('status', 'succeeded', 'n', g)"
                     " FROM generate_series(1, %s) AS g", (events,))
    broker = EmbeddedKafka(Path(tempfile.mkdtemp(prefix="routefarm-bench-kafka-")), _farm.free_port())
    broker.start()
    try:
        clients.ensure_topics(broker.bootstrap, partitions=6)
        limit = farm.settings.relay_max_event_bytes
        relay = Relay(farm.db, producer(broker.bootstrap, limit, 10000), 500, 3600, 10, limit)
        started = time.monotonic()
        published = 0
        while published < events:
            result, _more = relay.run_once()
            if not result.published:
                break
            published += result.published
        wall = time.monotonic() - started
    finally:
        broker.stop()
        farm.close()
    return (f"## outbox relay: one relay, one shard, batches of 500, an embedded broker\n"
            f"{'events':>7} {'seconds':>8} {'events/s':>9}\n{published:>7} {wall:>8.2f} {published / wall:>9.0f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--parts", nargs="+", default=["worker", "shard", "relay"],
                        choices=["worker", "shard", "relay"])
    parser.add_argument("--pg", default=PG, help=f"PostgreSQL server (default {PG})")
    parser.add_argument("--redis", default=REDIS, help=f"Redis server (default {REDIS})")
    parser.add_argument("--redis-dbs", type=lambda v: tuple(int(x) for x in v.split(",")), default=(8, 9),
                        metavar="B,C", help="broker and cache databases, flushed (default 8,9)")
    args = parser.parse_args()
    print(_machine.header(), flush=True)
    setup = Setup(args)
    tables = []
    try:
        for part in args.parts:
            tables.append({"worker": worker_part, "shard": shard_part, "relay": relay_part}[part](setup))
    finally:
        setup.drop()
    print()
    print("\n\n".join(tables))
    return 0


if __name__ == "__main__":
    sys.exit(main())
