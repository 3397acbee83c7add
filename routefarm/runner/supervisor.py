"""Run one search in a child process and supervise it, the way an arbiter supervises workers.

The parent (a solve worker's thread, or ``routefarm solve``) keeps everything that must stay
responsive: it asks ``stop()`` every ``POLL_S``, reads the child's incumbents as they come,
and watches the child's memory. The child is forked from a process that has imported
OR-Tools already, so starting one costs milliseconds:

- ``forkserver`` (solve workers): Python's forkserver, started once per worker process with
  ``routefarm.runner.child`` preloaded. A worker process has threads (Dramatiq's, the
  heartbeat, the metrics server), and forking a threaded process is unsafe; the forkserver
  is single-threaded. It exits when its worker dies, and its children die with it
  (``PR_SET_PDEATHSIG``), so a ``kill -9`` of a worker leaves no search running.
- ``fork`` (the CLI, single-threaded): a plain fork of the caller.

A stop ends the child at once: ``child.STOP_SIGNAL``, which makes it send its pending
incumbent and exit, then SIGKILL after ``GRACE_S``. Whatever happens, the caller gets the best solution received.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import wait

from optimizer import Limits
from optimizer.decisions.explain import BUDGET_S, MAX_TASKS

from . import child, memory

POLL_S = 0.05  # seconds between two looks at stop()
GRACE_S = 0.3  # seconds a stopped child has to send its incumbent before SIGKILL
MEMORY_POLL_S = 0.5  # seconds between two readings of the child's memory
OVERRUN_S = 10.0  # seconds past its time limit (or a quarter of it, if longer) before a child is killed
NEAR_LIMIT = 0.9  # a child that dies with this share of its memory limit in use ran out of it

Stop = Callable[[], str | None]  # a stop reason ("cancelled", "shutdown", ...), or None to go on
OnIncumbent = Callable[[dict], None]  # {"objective", "elapsed", "engine", "solution"}


@dataclass
class Result:
    """What a supervised solve gave."""

    solution: dict | None  # the final solution; when stopped or failed, the best incumbent
    stopped: str | None = None  # why the parent ended the child early (a stop reason, "deadline")
    failure: tuple[str, str] | None = None  # (reason, detail) when the child could not solve
    incumbents: int = 0  # incumbents received
    rejections: list[str] = field(default_factory=list)  # engines whose result the checker refused
    peak_rss: int | None = None  # bytes: the child's peak resident memory, as last read
    pid: int | None = None  # the child's process id (gone by the time the result is returned)


class Runner:
    """Starts solver children with one method, memory limit (bytes) and size ``limits``."""

    def __init__(self, memory_limit: int, method: str = "forkserver", limits: Limits | None = None,
                 explain: tuple[int, float] = (MAX_TASKS, BUDGET_S)):
        self.memory_limit = memory_limit
        self.method = method
        # the sizes the child validates a problem against (the farm's)
        self.limits = limits or Limits()
        self.explain = explain  # (unassigned tasks explained, seconds for it) after each solve
        self._context = multiprocessing.get_context(method)
        self._live: set = set()  # children running now

    def kill_all(self) -> None:
        """SIGKILL every child still running (a process that exits without waiting for its
        solves: multiprocessing would otherwise wait for children that ignore SIGTERM)."""
        for process in list(self._live):
            with contextlib.suppress(ProcessLookupError, ValueError, AttributeError):
                process.kill()

    def start(self) -> None:
        """Make the first solve fast: start the forkserver now, with OR-Tools imported.

        The forkserver (and every child it forks) starts with SIGTERM blocked: a SIGTERM sent
        to the worker's whole process group must reach the worker, which decides whether the
        running job is kept or handed back, not kill the search under it. The forkserver still
        exits when its worker does, and its children with it.
        """
        if self.method == "forkserver":
            from multiprocessing import forkserver, resource_tracker

            self._context.set_forkserver_preload([f"{__package__}.preload"])
            # first: starting the resource tracker unblocks SIGTERM in this thread
            resource_tracker.ensure_running()
            blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
            try:
                forkserver.ensure_running()
            finally:
                signal.pthread_sigmask(signal.SIG_SETMASK, blocked)

    def solve(self, problem: dict, *, time_limit: float, seed: int | None = None,
              started: float | None = None, stop: Stop | None = None,
              on_incumbent: OnIncumbent | None = None, roads=None) -> Result:
        """Solve ``problem`` (the contract's JSON) in a child; ``time_limit`` counts from
        ``started`` (a ``time.monotonic()`` instant, default now). ``roads``: the (durations,
        distances) matrices its coordinates are priced on (``optimizer.on_roads``)."""
        started = time.monotonic() if started is None else started
        request = {"problem": problem, "time_limit": time_limit, "seed": seed, "limits": self.limits,
                   "started": started, "memory_limit": self.memory_limit, "roads": roads, "explain": self.explain}
        reader, writer = self._context.Pipe(duplex=False)
        process = self._context.Process(target=child.main, args=(writer, request), daemon=True,
                                        name="rf-solve")
        watch = _Watch(process, reader, self.memory_limit, on_incumbent)
        try:
            process.start()
        finally:
            writer.close()
        watch.result.pid = process.pid
        self._live.add(process)
        try:
            return watch.run(started + time_limit + max(OVERRUN_S, time_limit / 4), stop)
        except BaseException:
            watch.end()  # KeyboardInterrupt or a failing callback: no child outlives its parent
            raise
        finally:
            self._live.discard(process)
            reader.close()


class _Watch:
    def __init__(self, process, reader, memory_limit: int, on_incumbent: OnIncumbent | None):
        self.process, self.reader = process, reader
        self.memory_limit = memory_limit
        self.on_incumbent = on_incumbent
        self.result = Result(None)
        self.final = False  # "done" or "failed" received
        self.closed = False  # the child's end of the pipe is closed
        self.usage: dict[str, int] = {}

    def run(self, deadline: float, stop: Stop | None) -> Result:
        next_reading = 0.0
        while not (self.final or self.closed):
            wait([self.reader, self.process.sentinel], POLL_S)
            self.drain()
            if self.final or self.closed:
                break
            now = time.monotonic()
            if now >= next_reading:
                next_reading = now + MEMORY_POLL_S
                self.read_memory()
                if self.usage.get("VmRSS", 0) > self.memory_limit:
                    self.end()
                    self.fail("memory_limit", f"the search used more than {_mib(self.memory_limit)}")
                    break
            reason = stop() if stop is not None else None
            if reason is None and now >= deadline:
                reason = "deadline"
            if reason is not None:
                self.result.stopped = reason
                self.end()
                break
            if not self.process.is_alive() and not self.reader.poll():
                break
        self.process.join(GRACE_S)
        if self.process.is_alive():
            self.end()
        self.explain_exit()
        self.process.close()
        return self.result

    def drain(self) -> None:
        try:
            while not self.closed and self.reader.poll():
                self.receive(self.reader.recv())
        except (EOFError, OSError):
            self.closed = True

    def receive(self, message: tuple) -> None:
        kind = message[0]
        if kind == "incumbent":
            payload = message[1]
            self.result.solution = payload["solution"]
            self.result.incumbents += 1
            if self.on_incumbent is not None:
                self.on_incumbent(payload)
        elif kind == "rejected":
            self.result.rejections.append(message[1])
        elif kind == "done":
            self.result.solution = message[1]
            self.final = True
        elif kind == "failed":
            self.fail(message[1], message[2])
            self.final = True

    def fail(self, reason: str, detail: str) -> None:
        if self.result.failure is None:
            self.result.failure = (reason, detail)

    def end(self) -> None:
        """The stop signal (the child sends its pending incumbent), then SIGKILL after the grace."""
        process = self.process
        if process.is_alive():
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, child.STOP_SIGNAL)
            deadline = time.monotonic() + GRACE_S
            while process.is_alive() and time.monotonic() < deadline:
                wait([self.reader, process.sentinel], deadline - time.monotonic())
                self.drain()
            if process.is_alive():
                process.kill()
                process.join(5)
        self.drain()

    def read_memory(self) -> None:
        reading = memory.usage(self.process.pid) if self.process.pid else {}
        if reading:
            self.usage = reading
            self.result.peak_rss = max(self.result.peak_rss or 0, reading.get("VmHWM", 0)) or None

    def explain_exit(self) -> None:
        """A child that ended without a final word, and not because it was told to, died."""
        code = self.process.exitcode
        if self.final or self.result.stopped is not None or self.result.failure is not None:
            return
        if code == 0:
            self.fail("solver_error", "the solver process ended without a result")
            return
        why = f"signal {signal.Signals(-code).name}" if code is not None and code < 0 else f"exit status {code}"
        if max(self.usage.get("VmSize", 0), self.usage.get("VmRSS", 0)) >= NEAR_LIMIT * self.memory_limit:
            self.fail("memory_limit", f"the search reached its memory limit of {_mib(self.memory_limit)} "
                                      f"and the solver process died ({why})")
        else:
            self.fail("solver_crashed", f"the solver process died ({why})")


def _mib(limit: int) -> str:
    return f"{limit / 2**20:.0f} MiB"
