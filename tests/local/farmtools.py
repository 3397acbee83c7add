"""Helpers for the local-farm tests: real processes whose output is read line by line."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
STARTED = re.compile(r"(\S+) started \(pid (\d+)\)")
FIXED = {"web.1", "stream.1", "webhook.1"}  # what ``up`` always runs; workers come and go
FARM_REDIS_DBS = (6, 7)  # broker, cache of the farms the tests run on configured services


def up_command(*args) -> list[str]:
    """``routefarm up`` once the CLI registers it; the same command object either way."""
    from routefarm.cli.main import main

    entry = ["-m", "routefarm", "up"] if "up" in main.commands else ["-m", "routefarm.local"]
    return [sys.executable, *entry, *map(str, args)]


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without any ROUTEFARM_* setting (so ``up`` embeds its services)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROUTEFARM_")}
    env.update(extra)
    return env


class Running:
    """A child process whose merged stdout/stderr is collected by a thread."""

    def __init__(self, argv: list[str], env: dict[str, str] | None = None, cwd: Path | None = None):
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     env=env, cwd=cwd or ROOT, start_new_session=True)
        self.lines: list[str] = []
        self.cursor = 0
        self._cond = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._cond:
                self.lines.append(line.rstrip("\n"))
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    @property
    def text(self) -> str:
        with self._cond:
            return "\n".join(self.lines)

    def wait_for(self, pattern: str, timeout: float = 20.0, anywhere: bool = False) -> re.Match:
        """The next line after the previous match (any line: ``anywhere``) matching ``pattern``."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._cond:
            if anywhere:
                self.cursor = 0
            while True:
                for index in range(self.cursor, len(self.lines)):
                    match = regex.search(self.lines[index])
                    if match:
                        self.cursor = index + 1
                        return match
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self._reader.is_alive()):
                    raise AssertionError(f"no line matching {pattern!r} within {timeout} s; output:\n{self.text}")
                self._cond.wait(min(left, 0.2))

    def send(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def wait(self, timeout: float) -> int:
        code = self.proc.wait(timeout)
        self._reader.join(timeout=5)
        return code

    def child_pids(self) -> list[int]:
        with self._cond:
            return [int(m[2]) for line in self.lines if (m := STARTED.search(line))]

    def cleanup(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(40)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        for pid in self.child_pids():  # whatever the supervisor left behind
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)


def alive(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie is not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
