"""The solver child: one search (``optimizer.solve``: the engines ``options.engine`` asks for,
``auto`` by default), its improving solutions streamed to the parent.

Runs in a process forked for one solve (from a forkserver that has already imported
OR-Tools, or from the CLI's own process). It sends, over a one-way pipe:

- ``("incumbent", {"objective", "elapsed", "solution"})`` for improving solutions, each
  decoded into a solution document. Decoding a large plan takes milliseconds, so
  improvements that follow each other faster than that are coalesced: at most
  ``DECODE_SHARE`` of the child's time goes to decoding, and the best one is always sent
  before the child ends (at its time limit, or on SIGTERM).
- ``("rejected", detail)`` for each engine whose result the checker refused (or that refused
  the problem, or failed): the engine, a short problem hash and why; the search went on
  with another engine.
- ``("done", solution)`` once the search has run to its time limit, its unassigned work
  explained (``optimizer.decisions.explain``, within the request's ``explain`` bounds).
- ``("failed", reason, detail)`` when it cannot solve: ``invalid_problem``,
  ``memory_limit`` (its address space limit was reached) or ``solver_error``.

The child dies with its parent (``PR_SET_PDEATHSIG``) and exits when its pipe breaks. It
answers ``STOP_SIGNAL`` (SIGUSR1, the parent's "stop now") by sending its pending incumbent
and exiting at once. It ignores SIGINT and SIGTERM: Ctrl-C in a terminal and a SIGTERM to
the whole process group reach the parent too, and the parent decides what they mean (a
worker's shutdown keeps or hands back the job), then stops the child itself.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import resource
import signal
import sys
import time

from optimizer import InvalidProblem, on_roads, parse_problem, solve
from optimizer.decisions import explain
from optimizer.engines import rejections
from optimizer.travel import Travel

DECODE_SHARE = 0.1  # most of the child's time spent decoding and sending incumbents
STOP_SIGNAL = signal.SIGUSR1
PR_SET_NAME, PR_SET_PDEATHSIG = 15, 1
NAME = b"rf-solve"  # the child's name in ps and /proc/<pid>/comm


def _prctl(option: int, value) -> None:
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0)


def _limit_memory(limit: int | None) -> None:
    if limit:
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        cap = limit if hard == resource.RLIM_INFINITY else min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))


class Stream:
    """Sends incumbents to the parent, decoding at most ``DECODE_SHARE`` of the time."""

    def __init__(self, conn):
        self.conn = conn
        self.pending = None
        self.sent_at = 0.0
        self.cost = 0.0  # seconds the last decode and send took

    def offer(self, incumbent) -> None:
        self.pending = incumbent
        if time.monotonic() - self.sent_at >= self.cost / DECODE_SHARE:
            self.flush()

    def flush(self) -> None:
        incumbent, self.pending = self.pending, None
        if incumbent is None:
            return
        begun = time.monotonic()
        solution = incumbent.solution().to_json_dict()
        self.send("incumbent", {"objective": incumbent.objective, "elapsed": incumbent.elapsed,
                                "engine": getattr(incumbent, "engine", None) or None, "solution": solution})
        self.sent_at = time.monotonic()
        self.cost = self.sent_at - begun

    def send(self, *message) -> None:
        try:
            self.conn.send(message)
        except (BrokenPipeError, ConnectionError, EOFError):
            os._exit(0)  # the parent is gone: nobody wants the result

    def stop(self, signum, frame) -> None:
        try:
            self.flush()
        finally:
            os._exit(0)


def main(conn, request: dict) -> None:
    """The child's entry point (``multiprocessing.Process`` target)."""
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    _prctl(PR_SET_NAME, NAME)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    stream = Stream(conn)
    signal.signal(STOP_SIGNAL, stream.stop)
    try:
        _limit_memory(request.get("memory_limit"))
        problem = parse_problem(request["problem"], request.get("limits"))
        if request.get("roads") is not None:  # priced on the farm's roads
            problem = on_roads(problem, *request["roads"])
        solution = solve(problem, time_limit=request["time_limit"], seed=request.get("seed"),
                         on_incumbent=stream.offer, started=request["started"])
        rejected = rejections(problem, solution)
        stream.flush()
        max_tasks, budget_s = request.get("explain") or (0, 0.0)
        if max_tasks and solution.unassigned and solution.status != "no_solution":
            began = time.monotonic()  # the budget covers pricing the travel again
            travel = Travel.of(problem)
            solution = explain(problem, travel, solution, max_tasks=max_tasks,
                               budget_s=budget_s - (time.monotonic() - began))
        for rejection in rejected:
            stream.send("rejected", str(rejection))
        stream.send("done", solution.to_json_dict())
    except MemoryError:
        stream.pending = None  # decoding needs memory too
        stream.send("failed", "memory_limit",
                    f"the search needed more than its memory limit of {_mib(request.get('memory_limit'))}")
    except InvalidProblem as exc:
        stream.send("failed", "invalid_problem", str(exc))
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which fails the job
        stream.send("failed", "solver_error", f"{type(exc).__name__}: {exc}")
    finally:
        with contextlib.suppress(OSError):
            conn.close()


def _mib(limit: int | None) -> str:
    return f"{limit / 2**20:.0f} MiB" if limit else "the machine's memory"
