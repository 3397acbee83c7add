"""The chaos run's fault injector: workers killed, Redis restarted, Kafka frozen, a shard cut."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field

import psycopg
from pipeline_support import (
    kill_group,
    shard_dsns,
)

WORKER = "solve-"  # solve workers' process names: solve-1, solve-2, ...


@dataclass
class FaultLog:
    killed: int = 0  # workers killed with SIGKILL
    terminated: int = 0  # workers stopped with SIGTERM in the middle of a solve
    terminated_mid_solve: bool = False
    others_killed: list[str] = field(default_factory=list)  # webhook sender, stream
    redis_restarts: int = 0
    kafka_paused: float = 0.0  # seconds the broker was stopped (SIGSTOP)
    shard_cut: float = 0.0  # seconds the shard was unreachable
    lines: list[str] = field(default_factory=list)


def default_plan(
    rng: random.Random, kill_every: float = 4.0, kill_until: float = 44.0
) -> list[tuple[float, str]]:
    """(seconds after the start, fault): a kill -9 of a solve worker every ``kill_every`` s (give
    or take 1 s) until ``kill_until``; Redis killed and started again; Kafka stopped for 10 s;
    kill -9 of the webhook sender and of the stream process (each started again at once);
    shard1 cut for 8 s; a SIGTERM to a worker mid-solve."""
    kills = [
        (3.0 + kill_every * i + rng.uniform(-1, 1), "kill_worker")
        for i in range(int((kill_until - 3) / kill_every))
    ]
    return [
        *kills,
        (12.0, "restart_redis"),
        (17.0, "pause_kafka"),
        (27.0, "resume_kafka"),
        (20.0, "kill_webhook_sender"),
        (24.0, "cut_shard"),
        (30.0, "kill_stream"),
        (32.0, "restore_shard"),
        (36.0, "terminate_worker_mid_solve"),
    ]


class Faults(threading.Thread):
    """Runs a fixed schedule of faults (seconds after ``start_at``), then ends by itself."""

    def __init__(
        self,
        procs,
        databases,
        redis_server,
        kafka_broker,
        proxy,
        start_at: float,
        seed: int,
        plan: list[tuple[float, str]] | None = None,
    ):
        super().__init__(name="faults", daemon=True)
        self.procs, self.databases = procs, databases
        self.redis, self.kafka, self.proxy = redis_server, kafka_broker, proxy
        self.start_at = start_at
        self.rng = random.Random(seed)
        self.log = FaultLog()
        self.next_worker = 1 + len(self.workers())
        self.stopping = threading.Event()
        self.error: BaseException | None = None
        self._paused_at = self._cut_at = 0.0
        plan = plan if plan is not None else default_plan(self.rng)
        self.schedule = sorted(
            ((at, getattr(self, action)) for at, action in plan), key=lambda item: item[0]
        )

    def run(self) -> None:
        try:
            for at, action in self.schedule:
                if self.stopping.wait(max(0.0, self.start_at + at - time.monotonic())):
                    break
                action()
        except Exception as exc:  # noqa: BLE001 - reported by the test
            self.error = exc
        finally:
            self.resume_kafka()  # never leave the broker stopped or the shard cut
            self.restore_shard()

    def note(self, text: str) -> None:
        self.log.lines.append(f"{time.monotonic() - self.start_at:6.1f} s  {text}")

    def workers(self) -> dict[str, object]:
        return {
            name: proc
            for name, proc in self.procs.children.items()
            if name.startswith(WORKER) and proc.poll() is None
        }

    def add_worker(self) -> str:
        name = f"{WORKER}{self.next_worker}"
        self.next_worker += 1
        self.procs.worker(name)
        return name

    def kill_worker(self) -> None:
        workers = self.workers()
        if not workers:
            return
        name = self.rng.choice(sorted(workers))
        proc = self.procs.children.pop(name)
        kill_group(proc, signal.SIGKILL)
        proc.wait(10)
        self.log.killed += 1
        self.note(f"kill -9 {name}; started {self.add_worker()}")

    def terminate_worker_mid_solve(self) -> None:
        """SIGTERM (a scale-down) to a worker while it solves a job; another one starts."""
        deadline = time.monotonic() + 8
        name = None
        while name is None and time.monotonic() < deadline:
            name = self._solving_worker()
            if name is None:
                time.sleep(0.05)
        self.log.terminated_mid_solve = name is not None
        name = name or self.rng.choice(sorted(self.workers()))
        proc = self.procs.children.pop(name)
        kill_group(proc, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:  # a worker that does not stop is killed, and reported
            kill_group(proc, signal.SIGKILL)
            proc.wait(5)
            self.note(f"{name} did not stop within 20 s of SIGTERM")
        self.log.terminated += 1
        self.note(
            f"SIGTERM {name} ({'mid-solve' if self.log.terminated_mid_solve else 'idle'}, exit "
            f"{proc.returncode}); started {self.add_worker()}"
        )

    def _solving_worker(self) -> str | None:
        """A live worker whose process holds a running job right now (its row's ``worker``)."""
        groups = {proc.pid: name for name, proc in self.workers().items()}
        for url in shard_dsns(self.databases).values():
            with psycopg.connect(url) as conn:
                rows = conn.execute(
                    "SELECT worker FROM jobs WHERE status = 'running'"
                    " AND lease_until > now() AND worker IS NOT NULL"
                ).fetchall()
            for (worker,) in rows:
                with contextlib.suppress(ValueError, ProcessLookupError):
                    group = os.getpgid(int(worker.rsplit(":", 1)[1]))
                    if group in groups:
                        return groups[group]
        return None

    def kill_webhook_sender(self) -> None:
        self._kill_and_restart("webhook", self.procs.webhook)

    def kill_stream(self) -> None:
        self._kill_and_restart("stream", self.procs.stream)

    def _kill_and_restart(self, name: str, start) -> None:
        proc = self.procs.children.pop(name)
        kill_group(proc, signal.SIGKILL)
        proc.wait(10)
        start()
        self.log.others_killed.append(name)
        self.note(f"kill -9 {name}; started again")

    def restart_redis(self) -> None:
        # a crash: what the append-only file had not written yet (up to a second) is lost
        self.redis.stop(immediate=True)
        time.sleep(2.0)
        self.redis.start()  # same port, same files
        self.log.redis_restarts += 1
        self.note("Redis killed (SIGKILL) and started again 2 s later")

    def pause_kafka(self) -> None:
        self.kafka.process.send_signal(signal.SIGSTOP)
        self._paused_at = time.monotonic()
        self.note("Kafka broker stopped (SIGSTOP)")

    def resume_kafka(self) -> None:
        if self._paused_at:
            self.kafka.process.send_signal(signal.SIGCONT)
            self.log.kafka_paused += time.monotonic() - self._paused_at
            self._paused_at = 0.0
            self.note("Kafka broker resumed (SIGCONT)")

    def cut_shard(self) -> None:
        self.proxy.stop()
        self._cut_at = time.monotonic()
        self.note("shard1 cut")

    def restore_shard(self) -> None:
        if self._cut_at:
            self.proxy.start()
            self.log.shard_cut += time.monotonic() - self._cut_at
            self._cut_at = 0.0
            self.note("shard1 back")


# -- the auditor ----------------------------------------------------------------------------
