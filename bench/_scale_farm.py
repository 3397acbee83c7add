"""``bench/scale.py --farm``: the autoscaled farm from zero, through ``routefarm up``.

For each maximum of worker processes (``--workers``, default 1, 2, 4), a fresh ``routefarm
up`` (embedded services, polling every second, cooldown 5 s) starts with zero workers:

- cold start: one 10-stop job is submitted; the time until a worker claimed it (the job's
  ``started_at``) and until it succeeded;
- throughput: once the workers are back to zero, ``--jobs`` 10-stop jobs (time limit 1 s)
  are submitted at once; jobs per second from the first submission to the last finish, the
  most workers seen, and the time until that many were running.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime

import _farm


def problem(seed: int, time_limit: float) -> dict:
    import random

    rng = random.Random(seed)
    return {"vehicles": [{"id": f"van-{k}", "start": [13.405, 52.52], "end": [13.405, 52.52], "capacity": [20]}
                         for k in range(2)],
            "stops": [{"id": f"s{i}", "location": [round(13.3 + rng.random() * 0.2, 5),
                                                   round(52.45 + rng.random() * 0.12, 5)], "demand": [1]}
                      for i in range(10)],
            "options": {"time_limit": time_limit, "seed": seed}}


class Api:
    def __init__(self, url: str, key: str):
        self.url, self.key = url, key

    def call(self, method: str, path: str, body: dict | None = None, timeout: float = 60) -> dict:
        return _farm.api_request(self.url, self.key, method, path, body, timeout)[1]

    def wait(self, job: str, timeout: float = 120) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            doc = self.call("GET", f"/v1/jobs/{job}?wait=30")
            if doc.get("status") in ("succeeded", "failed", "cancelled"):
                return doc
        raise SystemExit(f"job {job} did not end within {timeout:g} s")

    def workers(self) -> int:
        return (self.call("GET", "/v1/farm", timeout=5).get("workers") or {}).get("current") or 0


def _at(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def run_one(max_workers: int, jobs: int) -> dict:
    farm = _farm.UpFarm("scale", max_workers=max_workers, cooldown=5, polling_interval=1)
    try:
        state = farm.wait_ready()
        api = Api(state["api_url"], state["api_key"])
        deadline = time.monotonic() + 60
        while api.workers() and time.monotonic() < deadline:  # from zero
            time.sleep(0.5)
        accepted = api.call("POST", "/v1/jobs", {"problem": problem(0, 0.5)})
        done = api.wait(accepted["id"])
        created = _at(done["created_at"])
        cold = {"claimed": _at(done["started_at"]) - created, "done": _at(done["finished_at"]) - created}
        deadline = time.monotonic() + 60
        while api.workers() and time.monotonic() < deadline:  # back to zero after the cooldown
            time.sleep(0.5)
        seen = {"most": 0, "at": None}
        stop = threading.Event()
        started = time.monotonic()

        def watch() -> None:
            while not stop.wait(0.25):
                current = api.workers()
                if current > seen["most"]:
                    seen["most"], seen["at"] = current, time.monotonic() - started
        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        ids = [api.call("POST", "/v1/jobs", {"problem": problem(n + 1, 1.0)})["id"] for n in range(jobs)]
        finished = [_at(api.wait(job)["finished_at"]) for job in ids]
        wall = max(finished) - (time.time() - (time.monotonic() - started))
        stop.set()
        watcher.join(2)
        return {"max": max_workers, "cold": cold, "jobs": jobs, "wall": wall, "most": seen["most"],
                "most_at": seen["at"]}
    finally:
        farm.stop(keep=False)


def main(workers: list[int], jobs: int) -> int:
    rows = [run_one(n, jobs) for n in workers]
    print(f"{'max workers':>11} {'cold claim s':>12} {'cold done s':>11} {'jobs':>5} {'wall s':>7} "
          f"{'jobs/s':>7} {'most seen':>9} {'reached at s':>12}")
    for r in rows:
        reached = "-" if r["most_at"] is None else f"{r['most_at']:.1f}"
        print(f"{r['max']:>11} {r['cold']['claimed']:>12.2f} {r['cold']['done']:>11.2f} {r['jobs']:>5} "
              f"{r['wall']:>7.1f} {r['jobs'] / r['wall']:>7.2f} {r['most']:>9} {reached:>12}")
    return 0
