"""The local autoscaler of ``routefarm up``: KEDA's rules applied to ``worker`` processes.

Given the workers' ScaledObject (``worker_rules``), it measures its triggers on the farm's
own Redis and Kafka, and decides with ``routefarm.autoscale.rules`` once per polling interval. Its thread
measures every second (so the status line and ``GET /v1/farm`` stay fresh) and publishes
``routefarm.observability.scaler``; the main loop of ``up`` applies ``desired`` through
``WorkerPool``: a new ``worker.N`` process per missing replica, SIGTERM to the newest
ones when there are too many (a worker stops its solve and stores the best solution or
hands the job back).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from routefarm.autoscale.rules import Decider, Measurement
from routefarm.autoscale.scaledobject import ScalerSpec

from .common import free_port
from .supervisor import ProcessSpec, Supervisor

METRICS_PORT = "ROUTEFARM_METRICS_PORT"
WORKER = "worker"
SOURCE = "autoscaler"  # the name its lines carry in the output


@dataclass(frozen=True)
class Reading:
    measurements: list[Measurement | None]
    queue_depth: int | None
    kafka_lag: int | None
    jobs_per_s: float | None


class WorkerPool:
    """``worker.N`` processes under the supervisor, as many as asked (main thread only)."""

    def __init__(self, supervisor: Supervisor, command: str):
        self.supervisor = supervisor
        self.command = command

    def running(self) -> int:
        return sum(1 for c in self.supervisor.serving(WORKER) if c.process is not None)

    def scale_to(self, desired: int) -> None:
        serving = self.supervisor.serving(WORKER)
        for _ in range(desired - len(serving)):
            self.supervisor.add(ProcessSpec(self._free_name(), self.command, {METRICS_PORT: str(free_port())}))
        newest_first = sorted(serving, key=lambda child: child.started, reverse=True)
        for child in newest_first[:max(0, len(serving) - desired)]:
            self.supervisor.retire(child.spec.name)

    def _free_name(self) -> str:
        taken = {child.spec.name for child in self.supervisor.children}
        n = 1
        while f"{WORKER}.{n}" in taken:
            n += 1
        return f"{WORKER}.{n}"


class LocalAutoscaler:
    """Measures every ``tick`` seconds, decides every polling interval, publishes each tick."""

    def __init__(self, spec: ScalerSpec, settings, say: Callable[[str], None],
                 running: Callable[[], int], clock: Callable[[], float] = time.monotonic):
        self.spec = spec
        self.settings = settings
        self.say = say
        self.running = running
        self.clock = clock
        self.decider = Decider(spec)
        self.desired = 0
        self.reading: Reading | None = None
        self.tick = min(1.0, spec.polling_interval)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> LocalAutoscaler:
        self._thread = threading.Thread(target=self._run, name="autoscaler", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=15)

    def _run(self) -> None:
        import redis

        from routefarm.autoscale.sources import TriggerSources
        from routefarm.broker import make_broker
        from routefarm.observability import scaler as record

        broker = make_broker(self.settings)
        cache = redis.Redis.from_url(self.settings.cache_url, socket_timeout=2, socket_connect_timeout=2)
        sources = TriggerSources(broker.client, self.settings.kafka_bootstrap)
        next_poll = self.clock()
        try:
            while not self._stop.is_set():
                self.reading = reading = self._measure(sources, broker, cache)
                now = self.clock()
                if now >= next_poll:
                    self._decide(reading, now)
                    next_poll = max(next_poll + self.spec.polling_interval, now)
                record.publish(cache, record.ScalerRecord(
                    current=self.running(), desired=self.desired, max=self.spec.max_replicas,
                    queue_depth=reading.queue_depth, kafka_lag=reading.kafka_lag,
                    jobs_per_s=reading.jobs_per_s))
                self._stop.wait(max(0.0, min(self.tick, next_poll - self.clock())))
        except Exception as exc:  # noqa: BLE001 - say why scaling stopped; the farm keeps running
            self.say(f"stopped after an error: {type(exc).__name__}: {exc}; workers stay at {self.desired}")
            raise
        finally:
            record.clear(cache)
            sources.close()
            cache.close()
            broker.close()

    def _measure(self, sources, broker, cache) -> Reading:
        from routefarm.broker import SOLVE_QUEUE, queue_depth
        from routefarm.observability import throughput

        measurements = [sources.measure(trigger) for trigger in self.spec.triggers]
        lags = [m for t, m in zip(self.spec.triggers, measurements, strict=True) if t.type == "kafka"]
        lag = int(sum(m.value for m in lags)) if lags and None not in lags else None
        try:
            depth = queue_depth(broker, SOLVE_QUEUE)
        except Exception:  # noqa: BLE001 - the broker is down: the trigger says so already
            depth = None
        return Reading(measurements, depth, lag, throughput.jobs_per_second(cache))

    def _decide(self, reading: Reading, now: float) -> None:
        decision = self.decider.decide(reading.measurements, now)
        self.desired = decision.desired
        if decision.changed:
            self.say(f"workers {decision.replicas} -> {decision.desired}: {decision.reason}")


def status_text(reading: Reading | None, running: int, desired: int, maximum: int) -> str:
    """``queue 12 | kafka lag 0 | workers 3/4 (max 4) | 2.40 jobs/s`` (``?``: not measured)."""
    def shown(value, fmt="{}"):
        return "?" if value is None else fmt.format(value)

    reading = reading or Reading([], None, None, None)
    return (f"queue {shown(reading.queue_depth)} | kafka lag {shown(reading.kafka_lag)} | "
            f"workers {running}/{desired} (max {maximum}) | {shown(reading.jobs_per_s, '{:.2f}')} jobs/s")


class LogToOutput(logging.Handler):
    """Warnings of the autoscaler's own modules (and of the Kafka client) as output lines."""

    LOGGERS = ("routefarm.autoscale", "routefarm.kafka", "routefarm.observability.throughput")

    def __init__(self, say: Callable[[str], None]):
        super().__init__(logging.WARNING)
        self.say = say

    def emit(self, record: logging.LogRecord) -> None:
        self.say(record.getMessage())

    def install(self) -> LogToOutput:
        for name in self.LOGGERS:
            logging.getLogger(name).addHandler(self)
        return self

    def remove(self) -> None:
        for name in self.LOGGERS:
            logging.getLogger(name).removeHandler(self)
