"""Run a set of processes the way Kubernetes runs pods.

Each process runs through ``/bin/sh -c`` (so ``$PORT`` and friends expand) in its own
process group; a simple command is ``exec``-ed so the process we signal is the command
itself, not a shell. Output goes line by line to ``Output`` with the process name in front.
A process that exits is restarted after a back-off (1 s, doubling to 30 s; reset once it
has stayed up for a minute). ``stop()`` sends SIGTERM to each process (only to the
process, as the kubelet does: Dramatiq and gunicorn forward it to their own children, and
a second SIGTERM would make them hurry), waits out a grace period, then SIGKILLs whatever
is left in each process group.

Processes can be added and retired while the others run (the autoscaler's replicas): a
retired process gets SIGTERM at once, SIGKILL after the grace period, and is not restarted.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .output import Output

MIN_BACKOFF = 1.0
MAX_BACKOFF = 30.0
STABLE_AFTER = 60.0  # seconds of uptime after which the back-off starts again at MIN_BACKOFF
GRACE = 30.0
TICK = 0.1
ASSIGNMENTS = re.compile(r"""(?:[A-Za-z_][A-Za-z0-9_]*=(?:'[^']*'|"(?:[^"\\]|\\.)*"|[^\s'"])*\s+)+""")


@dataclass(frozen=True)
class ProcessSpec:
    name: str  # "web.1", "worker.2"
    command: str
    env: dict[str, str] = field(default_factory=dict)


def shell_command(command: str) -> list[str]:
    """``sh -c``, with ``exec`` in front when the line is one simple command."""
    lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
    try:
        simple = not any(set(token) <= set("();|&") for token in lexer)  # no list, pipe or subshell
    except ValueError:  # unbalanced quotes: let the shell report it
        simple = False
    if not simple:
        return ["/bin/sh", "-c", command]
    match = ASSIGNMENTS.match(command)  # "A=1 B=2 cmd": exec goes after the assignments
    head, rest = (match.group(0), command[match.end():]) if match else ("", command)
    return ["/bin/sh", "-c", f"{head}exec {rest}"]


def describe_exit(code: int) -> str:
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"killed by {signal.Signals(-code).name}"
        return f"killed by signal {-code}"
    return f"exit code {code}"


class Child:
    def __init__(self, spec: ProcessSpec):
        self.spec = spec
        self.process: subprocess.Popen | None = None
        self.reader: threading.Thread | None = None
        self.started = 0.0
        self.backoff = MIN_BACKOFF
        self.restart_at: float | None = None
        self.restarts = 0
        self.retire_by: float | None = None  # retired: SIGKILL at this time if still running


class Supervisor:
    def __init__(self, specs: list[ProcessSpec], *, env: dict[str, str] | None = None,
                 cwd: Path | str | None = None, output: Output | None = None,
                 grace: float = GRACE, min_backoff: float = MIN_BACKOFF,
                 max_backoff: float = MAX_BACKOFF,
                 on_change: Callable[[dict[str, int]], None] | None = None):
        names = [spec.name for spec in specs]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate process names in {names}")
        self.children = [Child(spec) for spec in specs]
        self.env = dict(os.environ if env is None else env)
        self.cwd = str(cwd) if cwd is not None else None
        self.output = output or Output()
        self.output.register(names)
        self.grace = grace
        self.min_backoff = min_backoff
        self.max_backoff = max_backoff
        self.on_change = on_change
        self.stopping = False
        for child in self.children:
            child.backoff = min_backoff

    # -- starting and watching -------------------------------------------------------------

    def start(self) -> None:
        for child in self.children:
            self._spawn(child)
        self._changed()

    def pids(self) -> dict[str, int]:
        return {c.spec.name: c.process.pid for c in self.children
                if c.process is not None and c.process.poll() is None}

    def serving(self, kind: str) -> list[Child]:
        """The processes named ``kind.N`` that are not retired (running or about to restart)."""
        return [c for c in list(self.children)
                if c.spec.name.split(".", 1)[0] == kind and c.retire_by is None]

    def add(self, spec: ProcessSpec) -> None:
        """Start one more process."""
        if any(c.spec.name == spec.name for c in self.children):
            raise ValueError(f"a process named {spec.name} exists")
        child = Child(spec)
        child.backoff = self.min_backoff
        self.children.append(child)
        self.output.register([spec.name])
        self._spawn(child)
        self._changed()

    def retire(self, name: str) -> None:
        """SIGTERM ``name`` for good: it is not restarted, and SIGKILLed after the grace period."""
        child = next(c for c in self.children if c.spec.name == name)
        child.retire_by = time.monotonic() + self.grace
        if child.process is None:
            self._drop(child)
            return
        self.output.system(f"sending SIGTERM to {name}")
        with contextlib.suppress(ProcessLookupError):
            child.process.send_signal(signal.SIGTERM)

    def _drop(self, child: Child) -> None:
        self.children.remove(child)
        self._changed()

    def _spawn(self, child: Child) -> None:
        env = {**self.env, **child.spec.env, "PYTHONUNBUFFERED": "1"}
        child.restart_at = None
        child.started = time.monotonic()
        try:
            process = subprocess.Popen(shell_command(child.spec.command), cwd=self.cwd, env=env,
                                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                       stderr=subprocess.STDOUT, start_new_session=True)
        except OSError as exc:
            self.output.line(child.spec.name, f"cannot start: {exc}")
            self._schedule_restart(child, time.monotonic())
            return
        child.process = process
        self.output.system(f"{child.spec.name} started (pid {process.pid}): {child.spec.command}")
        child.reader = threading.Thread(target=self._relay, args=(child.spec.name, process),
                                        name=f"relay-{child.spec.name}", daemon=True)
        child.reader.start()

    def _relay(self, name: str, process: subprocess.Popen) -> None:
        assert process.stdout is not None
        with process.stdout:
            for raw in iter(process.stdout.readline, b""):
                self.output.line(name, raw.decode("utf-8", errors="replace"))

    def poll(self) -> None:
        """Reap exited processes and restart those whose back-off has passed."""
        now = time.monotonic()
        changed = False
        for child in list(self.children):
            if child.retire_by is not None:
                changed |= self._poll_retired(child, now)
                continue
            if child.process is not None and child.process.poll() is not None:
                code = child.process.returncode
                _kill_group(child.process.pid)  # what a dead pod leaves behind goes with it
                child.process = None
                changed = True
                if self.stopping:
                    continue
                if now - child.started >= STABLE_AFTER:
                    child.backoff = self.min_backoff
                self.output.system(f"{child.spec.name} exited ({describe_exit(code)}); "
                                   f"restarting in {child.backoff:g} s")
                self._schedule_restart(child, now)
            elif child.process is None and child.restart_at is not None and now >= child.restart_at \
                    and not self.stopping:
                child.restarts += 1
                self._spawn(child)
                changed = True
        if changed:
            self._changed()

    def _poll_retired(self, child: Child, now: float) -> bool:
        if child.process is None or self.stopping:
            return False
        if child.process.poll() is None:
            if now >= child.retire_by:
                self.output.system(f"sending SIGKILL to {child.spec.name}")
                _kill_group(child.process.pid)
                child.retire_by = float("inf")  # killed once; wait for the exit
            return False
        code = child.process.returncode
        _kill_group(child.process.pid)
        if child.reader is not None:
            child.reader.join(timeout=2)
        self.output.system(f"{child.spec.name} stopped ({describe_exit(code)})")
        self.children.remove(child)
        return True

    def _schedule_restart(self, child: Child, now: float) -> None:
        child.restart_at = now + child.backoff
        child.backoff = min(child.backoff * 2, self.max_backoff)

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change(self.pids())

    def run(self, stop: threading.Event, hurry: threading.Event | None = None) -> None:
        """Start, watch until ``stop`` is set, then stop gracefully."""
        self.start()
        while not stop.is_set():
            self.poll()
            stop.wait(TICK)
        self.stop(hurry)

    # -- stopping --------------------------------------------------------------------------

    def stop(self, hurry: threading.Event | None = None) -> dict[str, int]:
        """SIGTERM every process, wait up to ``grace`` (or until ``hurry``), SIGKILL the rest."""
        self.stopping = True
        running = [c for c in self.children if c.process is not None and c.process.poll() is None]
        if running:
            self.output.system(f"sending SIGTERM to {len(running)} process(es)")
        for child in running:
            if child.retire_by is not None:
                continue  # has had its SIGTERM (a second one would make it hurry)
            with contextlib.suppress(ProcessLookupError):
                child.process.send_signal(signal.SIGTERM)
        codes: dict[str, int] = {}
        deadline = time.monotonic() + self.grace
        while True:
            for child in running:
                if child.spec.name not in codes and child.process.poll() is not None:
                    codes[child.spec.name] = child.process.returncode
                    self.output.system(f"{child.spec.name} stopped ({describe_exit(child.process.returncode)})")
            if len(codes) == len(running):
                break
            if time.monotonic() >= deadline or (hurry is not None and hurry.is_set()):
                left = [c.spec.name for c in running if c.spec.name not in codes]
                self.output.system(f"sending SIGKILL to {', '.join(left)}")
                break
            time.sleep(TICK)
        for child in self.children:
            if child.process is None:
                continue
            _kill_group(child.process.pid)
            child.process.wait()
            if child.spec.name not in codes:
                codes[child.spec.name] = child.process.returncode
                self.output.system(f"{child.spec.name} stopped ({describe_exit(child.process.returncode)})")
            if child.reader is not None:
                child.reader.join(timeout=2)
            child.process = None
        self._changed()
        return codes


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)
