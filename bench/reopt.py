#!/usr/bin/env python
"""Re-optimization: warm start against cold start, and Kafka ingest throughput.

    python bench/reopt.py /path/to/shared/bench                    # both parts
    python bench/reopt.py BENCH_DIR --short 2 --base 5 --only C101 R101
    python bench/reopt.py --ingest-only --events 2000

Part 1, for every instance of BENCH_DIR (``bks.json``): solve it (``--base`` seconds), then
perturb the day as a fleet would: at 30 % of the latest route end, each vehicle has
completed the steps it left before then, serves the one it is at, and has the next one
dispatched (a vehicle driving to a stop reports it in progress: it is committed to it);
5 % of the open stops are cancelled and as many new orders arrive (at the
addresses of random open stops, with their demand and windows). ``routefarm.reoptimize.derive``
turns that into the new problem, which is solved twice with the same short time limit
(``--short``): warm (the previous routes as the start, as the farm does) and cold (the same
problem without them), each with a stop check as a worker solves (so both run the farm's
guided local search). Both solutions are audited by the checker. The table gives the
distance of each, the warm start's gain, and the stops each moved to another vehicle than
the previous plan's.

Part 2 starts an embedded Kafka broker, creates fresh databases (``--pg``) and a Redis
database (``--redis``, flushed), stores one solved base job, produces ``--events``
re-optimization events and times one ingest consumer (the stream process's loop) turning
them into jobs: events per second from the first read to the last job row.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
for _path in (HERE, HERE.parent):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import _farm  # noqa: E402
import _machine  # noqa: E402

AT_SHARE = 0.3
CHURN = 0.05
PG = "postgresql://postgres@127.0.0.1:5432"
REDIS = "redis://127.0.0.1:6379/8"


@dataclass
class Row:
    name: str
    stops: int
    locked: int
    warm: float | None
    cold: float | None
    moved_warm: int
    moved_cold: int
    unassigned: tuple[int, int]
    violations: int

    @property
    def gain(self) -> float | None:
        if self.warm is None or self.cold is None:
            return None
        return 100.0 * (self.cold - self.warm) / self.cold


def perturb(problem: dict, solution: dict, rng: random.Random) -> dict:
    """The changes of a day at 30 % of its span (see the module's docstring)."""
    ends = [r["steps"][-1]["arrival"] for r in solution["routes"] if r["steps"]]
    at = round(AT_SHARE * max(ends), 1) if ends else 0.0
    vehicles, open_stops = [], []
    for route in solution["routes"]:
        tasks = [s for s in route["steps"] if s["type"] == "stop"]
        done = [s for s in tasks if s["departure"] <= at]
        rest = [s for s in tasks if s["departure"] > at]
        state: dict = {"id": route["vehicle_id"], "completed": [s["id"] for s in done]}
        # the step being served, or driven to once the route has begun: the vehicle is
        # committed to it and is free at its planned departure
        if rest and (done or route["steps"][0]["departure"] <= at):
            current, rest = rest[0], rest[1:]
            state["in_progress"], state["available_from"] = current["id"], current["departure"]
        rest = [s["id"] for s in rest]
        if rest:
            state["dispatched"] = rest[:1]
        vehicles.append(state)
        open_stops += rest[1:]
    open_stops += [u["id"] for u in solution["unassigned"]]
    rng.shuffle(open_stops)
    churn = max(1, round(CHURN * len(open_stops)))
    cancelled, twins = open_stops[:churn], open_stops[churn:2 * churn]
    by_id = {s["id"]: s for s in problem["stops"]}
    added = [{**by_id[t], "id": f"new-{k}"} for k, t in enumerate(twins)]
    return {"at": at, "vehicles": vehicles, "cancel_stops": cancelled, "add_stops": added}


def moved(previous: list[dict], solution) -> int:
    """Steps of the previous plan now on another vehicle (or none)."""
    now = {step.id: route.vehicle_id for route in solution.routes for step in route.steps
           if step.type in ("stop", "pickup", "delivery")}
    return sum(1 for r in previous for step in r["steps"] if now.get(step) != r["vehicle_id"])


def warm_cold(bench: Path, names: list[str] | None, base_limit: float, short: float) -> list[Row]:
    import json

    from optimizer import check, parse_problem
    from optimizer.convert import convert
    from optimizer.engines import engine
    from routefarm.reoptimize.derive import derive

    entries = json.loads((bench / "bks.json").read_text())
    rows = []
    for name, entry in entries.items():
        if names and name not in names:
            continue
        base = convert((bench / entry["file"]).read_text(), fmt=entry["format"], fleet=entry.get("fleet"))
        base_solution = engine("ortools").solve(parse_problem(base), time_limit=base_limit, seed=1).to_json_dict()
        changes = perturb(base, base_solution, random.Random(name))
        warm_problem = derive(base, base_solution, changes)
        cold_problem = {k: v for k, v in warm_problem.items() if k != "initial_routes"}
        results, violations = [], 0
        for data in (warm_problem, cold_problem):
            parsed = parse_problem(data)
            solution = engine("ortools").solve(parsed, time_limit=short, seed=1, stop=_never)  # as a worker solves
            violations += len(check(parsed, solution))
            results.append(solution)
        previous = warm_problem.get("initial_routes", [])
        distance = [s.summary.distance if s.status != "no_solution" else None for s in results]
        row = Row(name, len(warm_problem["stops"]), sum(len(lk["steps"]) for lk in warm_problem.get("locked", [])),
                  distance[0], distance[1], moved(previous, results[0]), moved(previous, results[1]),
                  (results[0].summary.unassigned, results[1].summary.unassigned), violations)
        rows.append(row)
        print(f"done    {format_row(row)}", flush=True)
    return rows


def _never() -> bool:
    """The stop check a worker passes (its cancel flag); with one, the search is the farm's."""
    return False


def format_row(r: Row) -> str:
    warm = "-" if r.warm is None else f"{r.warm:.0f}"
    cold = "-" if r.cold is None else f"{r.cold:.0f}"
    gain = "-" if r.gain is None else f"{r.gain:+.2f}"
    return (f"{r.name:<12} {r.stops:>5} {r.locked:>6} {warm:>9} {cold:>9} {gain:>7} "
            f"{r.moved_warm:>6} {r.moved_cold:>6} {r.unassigned[0]:>3}/{r.unassigned[1]:<3} {r.violations:>4}")


def warm_cold_table(rows: list[Row], short: float) -> str:
    lines = [f"## warm against cold start, {short:g} s each (distance; moved = stops on another vehicle "
             "than in the previous plan)",
             f"{'instance':<12} {'stops':>5} {'locked':>6} {'warm':>9} {'cold':>9} {'gain%':>7} "
             f"{'moved':>6} {'moved':>6} {'unasg':>7} {'viol':>4}",
             f"{'':<12} {'':>5} {'':>6} {'':>9} {'':>9} {'':>7} {'warm':>6} {'cold':>6} {'w/c':>7}"]
    lines += [format_row(r) for r in rows]
    gains = [r.gain for r in rows if r.gain is not None]
    if gains:
        better = sum(1 for g in gains if g > 0.005)
        lines.append(f"# mean gain {statistics.mean(gains):+.2f} %, median {statistics.median(gains):+.2f} %; "
                     f"warm better on {better}/{len(gains)}; stops moved: warm {sum(r.moved_warm for r in rows)}, "
                     f"cold {sum(r.moved_cold for r in rows)}; violations {sum(r.violations for r in rows)}")
    return "\n".join(lines)


def ingest_throughput(events: int, pg: str, redis_url: str) -> str:
    import redis

    from routefarm.db.migrate import migrate
    from routefarm.farm import Farm
    from routefarm.kafka import clients
    from routefarm.kafka.ingest import Ingest
    from routefarm.kafka.names import INGEST_GROUP, REOPTIMIZE_TOPIC
    from routefarm.local.kafka_server import EmbeddedKafka
    from routefarm.settings import Settings

    names = {"directory": "rf_bench_reopt_dir", "shard0": "rf_bench_reopt_s0", "shard1": "rf_bench_reopt_s1"}
    _farm.recreate_databases(pg, list(names.values()))
    migrate(f"{pg}/{names['directory']}", "directory")
    for shard in ("shard0", "shard1"):
        migrate(f"{pg}/{names[shard]}", "shard")
    base, _, db = redis_url.rpartition("/")
    redis.Redis.from_url(redis_url).flushdb()
    broker = EmbeddedKafka(Path(tempfile.mkdtemp(prefix="routefarm-bench-kafka-")), _farm.free_port())
    broker.start()
    try:
        clients.ensure_topics(broker.bootstrap, partitions=6)
        settings = Settings(directory_url=f"{pg}/{names['directory']}",
                            shard_urls=f"{pg}/{names['shard0']},{pg}/{names['shard1']}",
                            redis_url=redis_url, cache_url=f"{base}/{int(db) + 1}", kafka_bootstrap=broker.bootstrap,
                            kafka_session_timeout_ms=6000, ingest_max_queue_depth=events * 2)
        redis.Redis.from_url(settings.cache_url).flushdb()
        farm = Farm(settings).open(wait=True)
        try:
            return _time_ingest(farm, settings, events, clients, Ingest, INGEST_GROUP, REOPTIMIZE_TOPIC)
        finally:
            farm.close()
    finally:
        broker.stop()
        _farm.drop_databases(pg, list(names.values()))


def _time_ingest(farm, settings, events, clients, Ingest, group, topic) -> str:
    import json

    from optimizer import parse_problem
    from optimizer.engines import engine
    from routefarm.db.ingest_keys import issue
    from routefarm.jobs.submit import submit
    from routefarm.kafka.signing import header

    problem = {"vehicles": [{"id": f"v{k}", "start_index": 0, "end_index": 0, "capacity": [10]} for k in range(3)],
               "stops": [{"id": f"s{i}", "location_index": i, "demand": [1]} for i in range(1, 21)],
               "matrix": {"distances": [[abs(a - b) * 100 for b in range(21)] for a in range(21)]},
               "options": {"time_limit": 1}}
    client, _key = farm.directory.create_client("bench")
    accepted = submit(farm, client.id, {"problem": problem})
    job_id = uuid.UUID(accepted.document["id"])
    farm.store.claim(client.id, job_id, "bench", 60)
    solution = engine("ortools").solve(parse_problem(problem), time_limit=1, seed=1).to_json_dict()
    farm.store.finish(client.id, job_id, "bench", "succeeded", solution, None)
    first = solution["routes"][0]
    done = [s["id"] for s in first["steps"] if s["type"] == "stop"][:2]
    secret = issue(farm.db, client.id, 0).secret
    producer = clients.producer(settings.kafka_bootstrap, client_id="bench")
    for n in range(events):
        value = json.dumps({"event_id": f"bench-{n}", "client_id": client.id, "base_job_id": str(job_id),
                            "at": n % 50, "vehicles": [{"id": first["vehicle_id"], "completed": done}]}).encode()
        producer.produce(topic, key=client.id.encode(), value=value, headers=[header(secret, value)])
        if n % 500 == 0:
            producer.poll(0)
    assert producer.flush(30) == 0
    stopping = threading.Event()
    consumer = clients.consumer(settings.kafka_bootstrap, group, settings.kafka_session_timeout_ms)
    ingest = Ingest(farm, consumer, clients.producer(settings.kafka_bootstrap), settings.ingest_max_queue_depth,
                    settings.ingest_batch, stopping)
    started: list[float] = []
    original = ingest.process

    def timed(messages):
        if not started:
            started.append(time.perf_counter())
        original(messages)

    ingest.process = timed
    thread = threading.Thread(target=ingest.run, daemon=True)
    thread.start()
    shard = farm.directory.shard_of(client.id)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        with farm.db.shard(shard) as conn:
            count = conn.execute("SELECT count(*) FROM jobs WHERE client_id = %s AND metadata ? 'event_id'",
                                 (client.id,)).fetchone()[0]
        if count >= events:
            break
        time.sleep(0.05)
    ended = time.perf_counter()
    stopping.set()
    thread.join(30)
    seconds = ended - started[0]
    return (f"## Kafka ingest: one consumer, {events} events of a 20-stop base job, 6 partitions\n"
            f"{'events':>7} {'jobs':>6} {'seconds':>8} {'events/s':>9} {'ms/event':>9}\n"
            f"{events:>7} {count:>6} {seconds:>8.2f} {count / seconds:>9.1f} {1000 * seconds / count:>9.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bench", type=Path, nargs="?", help="folder with bks.json (part 1)")
    parser.add_argument("--only", nargs="+", help="instance names (default: all)")
    parser.add_argument("--base", type=float, default=5.0, help="seconds for the base solve (default 5)")
    parser.add_argument("--short", type=float, default=2.0, help="seconds for each re-plan (default 2)")
    parser.add_argument("--events", type=int, default=2000, help="events for part 2 (default 2000)")
    parser.add_argument("--ingest-only", action="store_true", help="part 2 only")
    parser.add_argument("--no-ingest", action="store_true", help="part 1 only")
    parser.add_argument("--pg", default=PG, help=f"PostgreSQL server for part 2 (default {PG})")
    parser.add_argument("--redis", default=REDIS, help=f"Redis database for part 2, flushed, with the next "
                                                       f"one as cache (default {REDIS})")
    args = parser.parse_args()
    if not args.ingest_only and args.bench is None:
        parser.error("give the benchmark folder, or --ingest-only")
    print(_machine.header(short=f"{args.short:g}s", base=f"{args.base:g}s"))
    tables = []
    if not args.ingest_only:
        tables.append(warm_cold_table(warm_cold(args.bench, args.only, args.base, args.short), args.short))
    if not args.no_ingest:
        tables.append(ingest_throughput(args.events, args.pg, args.redis))
    print()
    print("\n\n".join(tables))
    return 0


if __name__ == "__main__":
    sys.exit(main())
