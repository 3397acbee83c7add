"""The ``stream`` process: the reaper of lost jobs and webhook deliveries.

Safe to run in several replicas: every pass takes its rows with SKIP LOCKED.
Run: ``python -m workers.stream``.
"""

from __future__ import annotations

import logging
import signal
import threading

from routefarm.farm import Farm
from routefarm.logs import configure_logging
from routefarm.metrics import REAPER_ACTION_NAMES
from routefarm.metrics_runtime import serve as serve_metrics
from routefarm.reaper import reap
from routefarm.settings import Settings

log = logging.getLogger("routefarm.stream")


def serve(settings: Settings, stopping: threading.Event) -> None:
    farm = Farm(settings).open(wait=False)
    serve_metrics(settings.metrics_port, process=True)
    log.info("stream started: reaper every %.1f s", settings.reaper_interval)
    try:
        while not stopping.is_set():
            try:
                reaped = reap(farm)
            except Exception:  # noqa: BLE001 - one bad pass must not stop the reaper
                log.exception("reaper pass failed")
            else:
                _count(reaped)
            stopping.wait(settings.reaper_interval)
    finally:
        farm.close()
        log.info("stream stopped")


def _count(reaped) -> None:
    from routefarm import metrics

    for action in REAPER_ACTION_NAMES:
        done = len(getattr(reaped, action))
        metrics.REAPER_ACTIONS.labels(action=action).inc(done)  # 0 too: a sample from the first pass
    if reaped.failed:  # lease expired with no attempts left: failed (worker_lost)
        metrics.JOBS_FINISHED.labels(outcome="failed", reason="worker_lost").inc(len(reaped.failed))


def main() -> None:
    configure_logging("stream")
    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.set())
    serve(Settings(), stopping)


if __name__ == "__main__":
    main()
