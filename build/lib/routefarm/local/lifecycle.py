"""One farm per data folder (a lock), signals (stop, then hurry), leftovers of a crashed run."""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from .common import FarmError, environ_of, pid_alive

LOCK_FILE = "up.lock"
HANDLED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class DataDirLock:
    """An exclusive ``flock`` on ``<data-dir>/up.lock``, released when the process ends."""

    def __init__(self, data_dir: Path):
        self.path = data_dir / LOCK_FILE
        self.file: IO[str] | None = None

    def acquire(self) -> DataDirLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held until release()
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "?"
            handle.close()
            raise FarmError(f"another routefarm up (pid {holder}) is running on {self.path.parent}") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self.file = handle
        return self

    def release(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None


class Signals:
    """The first SIGINT/SIGTERM/SIGHUP sets ``stop``; any later one also sets ``hurry``.

    The handlers only set events (printing from a handler could deadlock on the output lock).
    """

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.hurry = threading.Event()
        self.count = 0
        self._previous: dict[int, Any] = {}

    def install(self) -> Signals:
        for sig in HANDLED:
            self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def restore(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()

    def _handle(self, signum: int, frame: Any) -> None:
        self.count += 1
        if self.stop.is_set():
            self.hurry.set()
        self.stop.set()


def stop_leftovers(state: dict[str, Any], data_dir: Path, say: Callable[[str], None],
                   timeout: float = 15.0) -> list[int]:
    """Stop the processes of an earlier ``up`` on ``data_dir`` that died without stopping them.

    A process counts only if it is alive and was started with this farm's
    ``ROUTEFARM_DATA_DIR`` (so a recycled pid is never touched). SIGTERM, then SIGKILL.
    """
    pids = [pid for pid in (state.get("processes") or {}).values()
            if isinstance(pid, int) and pid_alive(pid)
            and environ_of(pid).get("ROUTEFARM_DATA_DIR") == str(data_dir)]
    if not pids:
        return []
    say(f"stopping {len(pids)} process(es) left by an earlier run (pid {state.get('pid')})")
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while any(pid_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
    return pids
