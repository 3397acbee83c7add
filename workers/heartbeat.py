"""The lease and the stop signals of one running job, kept by a thread of the worker.

Every ``CANCEL_POLL_S`` it looks for a cancel request (and lets the job's progress
publisher write what is due); every quarter of the lease it renews the lease. A lost lease,
a cancel request or the worker's shutdown becomes the stop reason the solve runner asks for.
The search runs in a child process, so nothing holds this thread back: ``max_gap_s`` (the
longest time between two renewals) stays near a quarter of the lease whatever the problem.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable

from routefarm.errors import RoutefarmError

log = logging.getLogger(__name__)
CANCEL_POLL_S = 0.2  # seconds between two looks at the cancel flag
RENEW_SHARE = 0.25  # the lease is renewed when this share of it has passed


class Heartbeat(threading.Thread):
    def __init__(self, rt, job_id: uuid.UUID, client_id: str, worker: str,
                 tick: Callable[[], None] | None = None):
        super().__init__(name=f"heartbeat-{job_id}", daemon=True)
        self.rt, self.job_id, self.client_id, self.worker = rt, job_id, client_id, worker
        self.tick = tick
        self.cancelled = threading.Event()
        self.lost = threading.Event()
        self.done = threading.Event()
        self.renewals = 0
        self.max_gap_s = 0.0  # longest time between two lease renewals (claim included)

    def reason(self) -> str | None:
        """Why the solve must stop now, or None."""
        if self.lost.is_set():
            return "lease_lost"
        if self.cancelled.is_set():
            return "cancelled"
        if self.rt.shutdown.is_set():
            return "shutdown"
        return None

    def run(self) -> None:
        farm, lease = self.rt.farm, self.rt.settings.lease_s
        last_renewal = time.monotonic()
        while not self.done.wait(CANCEL_POLL_S):
            if farm.cache.cancel_requested(str(self.job_id)):
                self.cancelled.set()
            if self.tick is not None:
                self.tick()
            if time.monotonic() - last_renewal < lease * RENEW_SHARE:
                continue
            try:
                row = farm.store.renew(self.client_id, self.job_id, self.worker, lease)
            except RoutefarmError as exc:
                log.warning("lease renewal failed: %s", exc, extra={"job_id": self.job_id})
                continue
            now = time.monotonic()
            self.max_gap_s = max(self.max_gap_s, now - last_renewal)
            last_renewal = now
            self.renewals += 1
            if row is None:
                log.warning("lease lost; stopping", extra={"job_id": self.job_id})
                self.lost.set()
            elif row["cancel_requested"]:
                self.cancelled.set()
