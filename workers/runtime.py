"""What one worker process holds: its farm resources, its solve runner and the shutdown signal.

``install(settings)`` runs before the actor modules are imported (Dramatiq needs the broker
first). Database pools open only in worker processes, after boot; so does the runner's
forkserver, in processes that consume the ``solve`` queue. A SIGTERM sets ``shutdown`` so
that a running solve stops and stores its result or hands the job back. A second SIGTERM
(a SIGTERM to the process group reaches a worker process twice: once from the sender, once
forwarded by Dramatiq's main process) makes Dramatiq exit the process at once, before its
worker shuts down; on the way out it still waits up to ``HAND_BACK_WAIT_S`` for running
solves to end that way, then kills what is left of them.
"""

from __future__ import annotations

import contextlib
import multiprocessing.util
import threading
from collections.abc import Iterator

import dramatiq

from routefarm.broker import SOLVE_QUEUE
from routefarm.farm import Farm
from routefarm.runner import Runner
from routefarm.runner.memory import resolve_limit
from routefarm.settings import Settings

from .metrics import Metrics

HAND_BACK_WAIT_S = 10.0  # at exit, seconds running solves get to store or hand back their job


class Runtime:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.farm = Farm(settings)
        self.runner = Runner(resolve_limit(settings.solver_memory_mib), limits=self.farm.limits,
                             explain=(settings.explain_max_tasks, settings.explain_budget_s))
        self.shutdown = threading.Event()
        self._solves = 0
        self._idle = threading.Condition()

    @contextlib.contextmanager
    def solving(self) -> Iterator[None]:
        """Around one job's solve, from claim to stored result."""
        with self._idle:
            self._solves += 1
        try:
            yield
        finally:
            with self._idle:
                self._solves -= 1
                self._idle.notify_all()

    def wait_idle(self, timeout_s: float) -> bool:
        with self._idle:
            return self._idle.wait_for(lambda: self._solves == 0, timeout_s)

    def exiting(self) -> None:
        """The process is exiting: let running solves end as on SIGTERM, then kill the rest."""
        self.shutdown.set()
        self.wait_idle(HAND_BACK_WAIT_S)
        self.runner.kill_all()


_current: Runtime | None = None


def current() -> Runtime:
    if _current is None:
        raise RuntimeError("workers.runtime.install() has not been called in this process")
    return _current


class Lifecycle(dramatiq.Middleware):
    def after_process_boot(self, broker):
        current().farm.open(wait=False)

    def after_worker_boot(self, broker, worker):
        queues = worker.consumer_whitelist
        if not queues or SOLVE_QUEUE in queues:
            current().runner.start()

    def before_worker_shutdown(self, broker, worker):
        current().shutdown.set()

    def after_worker_shutdown(self, broker, worker):
        current().farm.db.close()


def install(settings: Settings) -> Runtime:
    global _current
    _current = Runtime(settings)
    # A worker process is a multiprocessing child of Dramatiq's main process: it ends through
    # multiprocessing's exit function, not atexit. That function runs the finalizers of
    # priority >= 0 first, then joins every child (solver children ignore SIGTERM, so without
    # this it would wait for the whole solve), and it runs the same way in a main process.
    multiprocessing.util.Finalize(None, _current.exiting, exitpriority=10)
    broker = _current.farm.broker
    broker.add_middleware(Lifecycle())
    broker.add_middleware(Metrics(settings.metrics_port, settings.metrics_host))
    dramatiq.set_broker(broker)
    return _current
