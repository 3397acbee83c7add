"""Metrics in Dramatiq worker processes (not Dramatiq's own Prometheus middleware, which
would take port 9191): a presence mark in Redis while the worker runs, the group's
multiprocess metrics on ``ROUTEFARM_METRICS_PORT``, and a dead process's gauges dropped."""

from __future__ import annotations

import os

import dramatiq

from routefarm.observability.exposition import Presence, mark_dead, serve


class Metrics(dramatiq.Middleware):
    def __init__(self, port: int, host: str):
        self.port, self.host = port, host
        self.presence: Presence | None = None

    def after_worker_boot(self, broker, worker):
        queues = sorted(worker.consumer_whitelist or broker.get_declared_queues())
        self.presence = Presence(broker.client, broker.namespace, [q for q in queues if not q.endswith(".DQ")])
        self.presence.start()
        # the first process of the group to bind serves every process's files; with
        # --processes 1 it is the solving process, so process_cpu_seconds_total is its CPU
        serve(self.port, self.host, process=True)

    def before_worker_shutdown(self, broker, worker):
        if self.presence is not None:
            self.presence.stop()

    def after_worker_shutdown(self, broker, worker):
        mark_dead(os.getpid())
