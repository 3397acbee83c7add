#!/usr/bin/env python
"""Retention under load: rows and bytes per shard while a farm takes jobs at a fixed rate
and keeps them 60 s after they end.

    python bench/retention_soak.py                       # 10 minutes, 2 jobs/s
    python bench/retention_soak.py --minutes 3 --rate 5

Starts ``routefarm up`` with ``ROUTEFARM_JOB_RETENTION_S`` (60) and
``ROUTEFARM_PURGE_INTERVAL_S`` (5), one solve worker, and a webhook receiver on loopback.
Submits small, distinct problems at ``--rate`` per second (each with a one-off webhook, so
deliveries and attempts are written too) and a two-job batch every 30 s, and every 30 s prints,
per shard, the rows of the tables retention purges and their size on disk (tables with
their indexes and TOAST). Flat after the first minutes means the purge keeps up.
"""

from __future__ import annotations

import argparse
import http.server
import os
import random
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
for _path in (HERE, HERE.parent):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import _farm  # noqa: E402

TABLES = ("jobs", "webhook_deliveries", "webhook_attempts", "outbox", "batches")


class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def problem(rng: random.Random) -> dict:
    stops = rng.randint(3, 6)
    places = [[rng.uniform(0, 900), rng.uniform(0, 900)] for _ in range(stops + 1)]
    matrix = [[round(((a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2) ** 0.5) for b in places] for a in places]
    return {"vehicles": [{"id": "v", "start_index": 0, "end_index": 0, "capacity": [20]}],
            "stops": [{"id": f"s{i}", "location_index": i, "demand": [rng.randint(1, 4)]} for i in range(1, stops + 1)],
            "matrix": {"distances": matrix}, "options": {"time_limit": 0.1}}


def sample(shard_urls: list[str]) -> list[tuple[int, dict[str, int], float]]:
    import psycopg

    rows = []
    for index, url in enumerate(shard_urls):
        with psycopg.connect(url, connect_timeout=5) as conn:
            counts = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
            size = sum(conn.execute("SELECT pg_total_relation_size(%s)", (t,)).fetchone()[0] for t in TABLES)
        rows.append((index, counts, size / 2**20))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=2.0, help="jobs submitted per second")
    parser.add_argument("--retention", type=float, default=60.0, help="seconds an ended job is kept")
    args = parser.parse_args(argv)
    os.environ.update({"ROUTEFARM_JOB_RETENTION_S": str(args.retention), "ROUTEFARM_PURGE_INTERVAL_S": "5"})

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    hook = f"http://127.0.0.1:{server.server_address[1]}/hook"
    farm = _farm.UpFarm("soak", max_workers=1)
    rng = random.Random(7)
    submitted = refused = 0
    try:
        state = farm.wait_ready()
        api, key = state["api_url"], state["api_key"]
        print(f"# {args.rate:g} jobs/s for {args.minutes:g} min, retention {args.retention:g} s, purge every 5 s")
        print(f"{'t s':>6} {'shard':>5} " + " ".join(f"{t:>18}" for t in TABLES) + f" {'MiB':>8} {'submitted':>9}")
        began = time.monotonic()
        end = began + args.minutes * 60
        next_sample = began
        next_batch = began + 30
        k = 0
        while time.monotonic() < end:
            due = began + k / args.rate
            time.sleep(max(0.0, due - time.monotonic()))
            k += 1
            status, _ = _farm.api_request(api, key, "POST", "/v1/jobs",
                                          {"problem": problem(rng), "webhook": {"url": hook}})
            submitted += status == 202
            refused += status != 202
            now = time.monotonic()
            if now >= next_batch:
                next_batch += 30
                _farm.api_request(api, key, "POST", "/v1/batches", {"jobs": [{"problem": problem(rng)} for _ in range(2)]})
            if now >= next_sample:
                next_sample += 30
                for shard, counts, mib in sample(state["shard_urls"]):
                    print(f"{now - began:>6.0f} {shard:>5} " + " ".join(f"{counts[t]:>18}" for t in TABLES)
                          + f" {mib:>8.2f} {submitted:>9}", flush=True)
        time.sleep(args.retention + 15)  # the last jobs end, expire and go
        for shard, counts, mib in sample(state["shard_urls"]):
            print(f"{'after':>6} {shard:>5} " + " ".join(f"{counts[t]:>18}" for t in TABLES)
                  + f" {mib:>8.2f} {submitted:>9}", flush=True)
    finally:
        farm.stop(keep=False)
        server.shutdown()
    print(f"# submitted {submitted}, refused {refused}")
    return 0 if refused == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
