"""What one worker process holds: its farm resources, its solve runner and the shutdown signal.

``install(settings)`` runs before the actor modules are imported (Dramatiq needs the broker
first). Database pools open only in worker processes, after boot; so does the runner's
forkserver, in processes that consume the ``solve`` queue. A SIGTERM sets ``shutdown`` so
that a running solve stops and stores its result or hands the job back.
"""

from __future__ import annotations

import threading

import dramatiq

from routefarm.broker import SOLVE_QUEUE
from routefarm.farm import Farm
from routefarm.runner import Runner
from routefarm.runner.memory import resolve_limit
from routefarm.settings import Settings

from .metrics import Metrics


class Runtime:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.farm = Farm(settings)
        self.runner = Runner(resolve_limit(settings.solver_memory_mib))
        self.shutdown = threading.Event()


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
    broker = _current.farm.broker
    broker.add_middleware(Lifecycle())
    broker.add_middleware(Metrics(settings.metrics_port))
    dramatiq.set_broker(broker)
    return _current
