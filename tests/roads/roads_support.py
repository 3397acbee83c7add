"""A real ``routefarm roads serve`` process on a loopback port, and a plain Dijkstra reference."""

from __future__ import annotations

import heapq
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 180  # the first start compiles the numba code (cached afterwards)
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


class RoadServer:
    """``python -m routefarm roads serve`` in a child process; the port is read from its log."""

    def __init__(self, osm: Path, cache_dir: Path, *extra: str):
        self.log_path = cache_dir / f"serve-{os.getpid()}-{time.monotonic_ns()}.log"
        cache_dir.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "w+b")  # noqa: SIM115 (closed in stop)
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "routefarm", "roads", "serve", "--osm", str(osm), "--port", "0",
             "--cache-dir", str(cache_dir), *extra],
            cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.url = self._wait_for_port()

    def _wait_for_port(self) -> str:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            text = self.log_path.read_text(errors="replace")
            found = re.search(r"on (http://127\.0\.0\.1:\d+)", text)
            if found:
                return found.group(1)
            if self.process.poll() is not None:
                raise RuntimeError(f"road server exited {self.process.returncode}: {text[-2000:]}")
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"road server did not start within {START_TIMEOUT_S} s")

    def get(self, path: str) -> tuple[int, dict, dict]:
        """(status, JSON body, headers) of a GET."""
        try:
            with urllib.request.urlopen(self.url + path, timeout=60) as response:
                return response.status, json.loads(response.read()), dict(response.headers)
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read()), dict(exc.headers)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGCONT)
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log.close()


def coords(points) -> str:
    return ";".join(f"{lon:.7f},{lat:.7f}" for lon, lat in points)


def reference(n: int, tail, head, duration, length, sources) -> tuple[np.ndarray, np.ndarray]:
    """Seconds and metres of the fastest path from each source to every node (plain heapq)."""
    adjacency: list[list[tuple[int, float, float]]] = [[] for _ in range(n)]
    for a, b, w, d in zip(tail.tolist(), head.tolist(), duration.tolist(), length.tolist(), strict=True):
        adjacency[a].append((b, w, d))
    rows = [_dijkstra(adjacency, n, int(source)) for source in sources]
    return np.array([r[0] for r in rows]), np.array([r[1] for r in rows])


def _dijkstra(adjacency, n: int, source: int) -> tuple[np.ndarray, np.ndarray]:
    best = np.full(n, np.inf)
    metres = np.full(n, np.inf)
    best[source], metres[source] = 0.0, 0.0
    heap = [(0.0, source)]
    while heap:
        key, u = heapq.heappop(heap)
        if key > best[u]:
            continue
        for v, w, d in adjacency[u]:
            if key + w < best[v]:
                best[v] = key + w
                metres[v] = metres[u] + d
                heapq.heappush(heap, (key + w, v))
    return best, metres


def graph_arrays(cache_dir: Path, profile: str) -> dict[str, np.ndarray]:
    """The graph arrays the server built and cached for a profile."""
    (path,) = cache_dir.glob(f"*-{profile}-*.npz")
    with np.load(path) as arrays:
        return {key: arrays[key] for key in arrays.files if key.startswith("graph_")}
