"""What a running job shows: its best objective so far, when it was found, and its routes.

The solve runner hands every incumbent it receives to ``offer`` (the worker's solve
thread); the heartbeat thread calls ``flush`` a few times a second, so writes to Redis
never wait on the search and are coalesced: the progress document at most every
``PROGRESS_EVERY_S``, the incumbent's whole solution (``GET /v1/jobs/{id}?include=incumbent``)
at most every ``INCUMBENT_EVERY_S``. The last incumbent is always written.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

from routefarm.jobs.documents import iso_time

PROGRESS_EVERY_S = 0.25
INCUMBENT_EVERY_S = 1.0
TIMELINE = 20  # improvements kept in the progress document


class Progress:
    def __init__(self, cache, job_id: str):
        self.cache, self.job_id = cache, job_id
        self._lock = threading.Lock()
        self._latest: dict | None = None
        self._progress_due = self._incumbent_due = False
        self._progress_at = self._incumbent_at = 0.0
        self.count = 0

    def offer(self, incumbent: dict) -> None:
        """An incumbent from the runner: {"objective", "elapsed", "solution"}."""
        found_at = datetime.now(UTC)
        with self._lock:
            self._latest = {**incumbent, "found_at": iso_time(found_at)}
            self._progress_due = self._incumbent_due = True
            self.count += 1
        self.flush()

    def flush(self, force: bool = False) -> None:
        now = time.monotonic()
        with self._lock:
            latest = self._latest
            if latest is None:
                return
            progress = self._progress_due and (force or now - self._progress_at >= PROGRESS_EVERY_S)
            incumbent = self._incumbent_due and (force or now - self._incumbent_at >= INCUMBENT_EVERY_S)
            if progress:
                self._progress_due, self._progress_at = False, now
            if incumbent:
                self._incumbent_due, self._incumbent_at = False, now
            count = self.count
        if incumbent:  # first, so a reader who sees the objective can read its routes
            self.cache.put_incumbent(self.job_id, latest["solution"])
        if progress:
            solution = latest["solution"]
            self.cache.put_progress(self.job_id, {
                "objective": latest["objective"],
                "engine": latest.get("engine"),
                "elapsed": latest["elapsed"],
                "found_at": latest["found_at"],
                "summary": solution["summary"],
                "incumbents": count,
                "improvements": solution["solver"]["improvements"][-TIMELINE:],
            })
