"""Load-generation helpers of bench/api.py: request bodies, wrk scripts, an HTTP client,
and a watcher of job completions on Redis pub/sub."""

from __future__ import annotations

import http.client
import json
import random
import shutil
import subprocess
import threading
import time
from pathlib import Path

TAG = "__TAG__"


def problem(tag: str) -> dict:
    """10 stops in Berlin, 2 vans, time limit 0.1 s; ``tag`` goes into the first stop's id."""
    rng = random.Random(10)
    stops = [{"id": f"s{i}", "location": [round(13.3 + rng.random() * 0.2, 5), round(52.45 + rng.random() * 0.12, 5)],
              "demand": [1 + i % 3], "service": 300, "time_windows": [[28800, 61200]]} for i in range(10)]
    stops[0]["id"] = f"s0-{tag}"
    vans = [{"id": f"van-{i}", "start": [13.405, 52.52], "end": [13.405, 52.52], "capacity": [20],
             "time_window": [25200, 64800]} for i in range(2)]
    return {"vehicles": vans, "stops": stops, "options": {"time_limit": 0.1}}


def body(tag: str) -> str:
    return json.dumps({"problem": problem(tag), "metadata": {"source": "bench"}}, separators=(",", ":"))


# -- statistics ---------------------------------------------------------------------------------

def percentile(values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (q in 0..100)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


# -- wrk ----------------------------------------------------------------------------------------

WRK_DONE = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"max_us":%d,' ..
    '"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.max, e.connect, e.read, e.write, e.status, e.timeout))
end
"""


def lua_post(key: str) -> str:
    """POST /v1/jobs, each body a new problem: the tag is '<run arg>-<counter>'."""
    prefix, suffix = body(TAG).split(TAG)
    return f"""
local prefix = [==[{prefix}]==]
local suffix = [==[{suffix}]==]
local headers = {{["Authorization"] = "Bearer {key}", ["Content-Type"] = "application/json"}}
local run, n = "x", 0
init = function(args) run = args[1] or "x" end
request = function()
  n = n + 1
  return wrk.format("POST", "/v1/jobs", headers, prefix .. run .. "-" .. n .. suffix)
end
""" + WRK_DONE


def lua_get(key: str) -> str:
    return f"""
wrk.method = "GET"
wrk.headers["Authorization"] = "Bearer {key}"
""" + WRK_DONE


class Wrk:
    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.binary = shutil.which("wrk")
        if self.binary is None:
            raise SystemExit("wrk is not installed (Debian: apt-get install -y wrk)")
        out = subprocess.run([self.binary, "-v"], capture_output=True, text=True)
        self.version = (out.stdout + out.stderr).split("Copyright")[0].strip() or "wrk"

    def run(self, url: str, script: str, connections: int, seconds: float, run_tag: str) -> dict:
        path = self.workdir / f"wrk-{run_tag}.lua"
        path.write_text(script)
        command = [self.binary, "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s",
                   "-s", str(path), url, "--", run_tag]
        out = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
        line = next((ln for ln in out.stdout.splitlines() if ln.startswith("WRKJSON ")), None)
        if out.returncode != 0 or line is None:
            raise RuntimeError(f"wrk failed ({out.returncode}): {out.stdout}\n{out.stderr}")
        r = json.loads(line.removeprefix("WRKJSON "))
        r["rps"] = r["requests"] / (r["duration_us"] / 1e6)
        r["p50_ms"], r["p99_ms"] = r["p50_us"] / 1000, r["p99_us"] / 1000
        r["errors"] = sum(r[k] for k in ("connect", "read", "write", "status", "timeout"))
        return r


# -- a small HTTP client (keep-alive) ------------------------------------------------------------

class Http:
    def __init__(self, port: int, key: str, timeout: float = 60.0):
        self.port, self.timeout = port, timeout
        self.headers = {"Authorization": f"Bearer {key}"}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)

    def request(self, method: str, path: str, payload: str | None = None) -> tuple[int, dict | None]:
        headers = dict(self.headers)
        if payload is not None:
            headers["Content-Type"] = "application/json"
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=payload, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
                return response.status, (json.loads(data) if data else None)
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()  # the server closed an idle keep-alive connection: reconnect once
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def submit(self, tag: str) -> dict:
        status, doc = self.request("POST", "/v1/jobs", body(tag))
        if status != 202:
            raise RuntimeError(f"submit answered {status}: {doc}")
        return doc

    def close(self) -> None:
        self.conn.close()


class DoneWatcher:
    """Records when each ``<prefix><id>`` is published (rf:done:* or bench:bare:done:*)."""

    def __init__(self, client, pattern: str):
        self.prefix = pattern.rstrip("*")
        self.pubsub = client.pubsub(ignore_subscribe_messages=False)
        self.pubsub.psubscribe(pattern)
        while True:  # the subscription is confirmed before anything is sent
            message = self.pubsub.get_message(timeout=5)
            if message and message["type"] == "psubscribe":
                break
        self.seen: dict[str, tuple[float, str]] = {}
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._listen, daemon=True)
        self.thread.start()

    def _listen(self) -> None:
        while not self.stopping.is_set():
            message = self.pubsub.get_message(timeout=0.2)
            if message and message["type"] == "pmessage":
                now = time.perf_counter()
                name = message["channel"].decode().removeprefix(self.prefix)
                with self.lock:
                    self.seen[name] = (now, message["data"].decode())

    def wait_for(self, names: set[str], timeout: float) -> dict[str, tuple[float, str]]:
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                if names <= self.seen.keys():
                    return {n: self.seen[n] for n in names}
                missing = len(names - self.seen.keys())
            if time.monotonic() > deadline:
                raise TimeoutError(f"{missing} of {len(names)} jobs not done within {timeout} s")
            time.sleep(0.01)

    def close(self) -> None:
        self.stopping.set()
        self.thread.join(2)
        self.pubsub.close()


# -- the run ------------------------------------------------------------------------------------
