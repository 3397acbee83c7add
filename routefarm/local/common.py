"""Small helpers shared by the local farm: its error type, ports, process checks."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from ..errors import OperatorError

LOOPBACK = "127.0.0.1"


class FarmError(OperatorError):
    """Something the local farm cannot work around; ``routefarm up`` prints it on one line."""


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port nobody listens on right now (the kernel's choice)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def port_is_free(port: int, host: str = LOOPBACK) -> bool:
    """Whether a server could listen on ``host:port`` now (TIME_WAIT leftovers do not count)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def cmdline(pid: int) -> list[str]:
    """The argument vector of a live process ([] when it is gone or unreadable)."""
    with contextlib.suppress(OSError):
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
        return [part.decode(errors="replace") for part in raw.split(b"\0") if part]
    return []


def environ_of(pid: int) -> dict[str, str]:
    """The environment a live process started with ({} when gone or unreadable)."""
    env: dict[str, str] = {}
    with contextlib.suppress(OSError):
        for item in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0"):
            key, sep, value = item.decode(errors="replace").partition("=")
            if sep:
                env[key] = value
    return env


def stop_recorded(pidfile: Path, is_ours: Callable[[list[str]], bool], timeout: float) -> bool:
    """Stop the server whose pid ``pidfile`` holds, if it is alive and ``is_ours(argv)``:
    SIGTERM, then SIGKILL after ``timeout``. Whether there was one to stop."""
    try:
        pid = int(pidfile.read_text().strip())
    except (OSError, ValueError):
        return False
    argv = cmdline(pid)
    if not (pid_alive(pid) and argv and is_ours(argv)):
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    return True


def stop_child(process: subprocess.Popen | None, immediate: bool, timeout: float) -> int | None:
    """SIGTERM (SIGKILL when ``immediate``), SIGKILL after ``timeout`` seconds; its exit code
    (None: there was no process)."""
    if process is None:
        return None
    if process.poll() is None:
        process.send_signal(signal.SIGKILL if immediate else signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


def last_lines(path: Path, count: int = 5) -> list[str]:
    """The last non-empty lines of a log file, for error messages."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    return [line for line in lines if line.strip()][-count:]
