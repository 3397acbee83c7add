"""The Redis cache under ``rf:``: only what can be rebuilt from the shards.

Keys: ``rf:job:{id}`` status document (JSON, TTL), ``rf:svg:{id}`` an ended job's pictures
(a hash: one field per client and query, TTL), ``rf:progress:{id}`` the running
solve's best objective, ``rf:incumbent:{id}`` its best solution so far, ``rf:cancel:{id}``
a cancel request, ``rf:key:{sha256 of an API key}`` the client of a verified key (or ``""``:
refused); the rate-limit buckets ``rf:rate:`` and the slots ``rf:slots:`` are
``routefarm.fairness``'s. Channel ``rf:done:{id}`` wakes long-polls when a job ends. Every
call fails soft: a Redis outage makes the cache miss, never makes a request fail.
"""

from __future__ import annotations

import functools
import json
import logging

import redis

from .observability import metrics

log = logging.getLogger(__name__)

DONE_PATTERN = "rf:done:*"
RUNNING_TTL = 120  # seconds a running solve's progress and incumbent are kept
# seconds a queued or running status document may be served from the cache. Short: a reader
# that read "queued" from the shard just before a worker claimed the job (and dropped the
# cached document) may write it back after the drop; it must not be served for long.
OPEN_DOCUMENT_TTL = 2
# seconds a verified API key is trusted from ``rf:key:{sha256}`` (shared by every process, so a
# revocation, which overwrites the entry, is seen by all of them at once)
KEY_TTL = 30.0
REFUSED = ""  # the cached value of a key revoked or rotated out

def _soft(default=None):
    """Turn a Redis failure into ``default`` (logged): the cache is never load-bearing."""

    def wrap(fn):
        @functools.wraps(fn)
        def inner(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except (redis.RedisError, OSError) as exc:
                log.warning("cache unavailable: %s", exc)
                return default

        return inner

    return wrap


class Cache:
    def __init__(self, url: str, ttl: float):
        self.client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2,
                                           health_check_interval=30)
        self.ttl = int(ttl)

    @_soft()
    def get_job(self, job_id: str) -> dict | None:
        raw = self.client.get(f"rf:job:{job_id}")
        metrics.CACHE_LOOKUPS.labels(result="hit" if raw else "miss").inc()
        return json.loads(raw) if raw else None

    @_soft()
    def put_job(self, job_id: str, document: dict, terminal: bool) -> None:
        ttl = self.ttl if terminal else min(self.ttl, OPEN_DOCUMENT_TTL)
        # a reader's stale running/queued document never replaces what a worker wrote since
        self.client.set(f"rf:job:{job_id}", json.dumps(document, default=str), ex=ttl, nx=not terminal)

    @_soft()
    def drop_job(self, job_id: str) -> None:
        self.client.delete(f"rf:job:{job_id}")

    @_soft()
    def forget(self, job_ids: list[str]) -> None:
        """Drop the cached documents (and pictures) of jobs that no longer exist (purged), in one
        round trip."""
        if job_ids:
            self.client.delete(*(f"rf:job:{i}" for i in job_ids), *(f"rf:svg:{i}" for i in job_ids))

    @_soft()
    def get_picture(self, job_id: str, variant: str) -> str | None:
        """An ended job's picture drawn for ``variant`` (its client and query), or None."""
        raw = self.client.hget(f"rf:svg:{job_id}", variant)
        return raw.decode() if raw is not None else None

    @_soft()
    def put_picture(self, job_id: str, variant: str, svg: str) -> None:
        """Keep an ended job's picture (it cannot change) for the cache TTL."""
        pipe = self.client.pipeline(transaction=False)
        pipe.hset(f"rf:svg:{job_id}", variant, svg.encode())
        pipe.expire(f"rf:svg:{job_id}", self.ttl)
        pipe.execute()

    @_soft()
    def finished(self, job_id: str, document: dict) -> None:
        """Store the terminal document and wake every long-poll waiting on the job."""
        pipe = self.client.pipeline(transaction=False)
        pipe.set(f"rf:job:{job_id}", json.dumps(document, default=str), ex=self.ttl)
        pipe.delete(f"rf:progress:{job_id}", f"rf:incumbent:{job_id}", f"rf:cancel:{job_id}")
        pipe.publish(f"rf:done:{job_id}", document.get("status", ""))
        pipe.execute()

    @_soft()
    def finished_many(self, documents: dict[str, dict]) -> None:
        """``finished`` for many jobs (a batch cancelled at once), in one round trip."""
        pipe = self.client.pipeline(transaction=False)
        for job_id, document in documents.items():
            pipe.set(f"rf:job:{job_id}", json.dumps(document, default=str), ex=self.ttl)
            pipe.delete(f"rf:progress:{job_id}", f"rf:incumbent:{job_id}", f"rf:cancel:{job_id}")
            pipe.publish(f"rf:done:{job_id}", document.get("status", ""))
        pipe.execute()

    @_soft()
    def put_progress(self, job_id: str, progress: dict) -> None:
        self.client.set(f"rf:progress:{job_id}", json.dumps(progress), ex=RUNNING_TTL)

    @_soft()
    def get_progress(self, job_id: str) -> dict | None:
        raw = self.client.get(f"rf:progress:{job_id}")
        return json.loads(raw) if raw else None

    @_soft()
    def put_incumbent(self, job_id: str, solution: dict) -> None:
        self.client.set(f"rf:incumbent:{job_id}", json.dumps(solution), ex=RUNNING_TTL)

    @_soft()
    def get_incumbent(self, job_id: str) -> dict | None:
        raw = self.client.get(f"rf:incumbent:{job_id}")
        return json.loads(raw) if raw else None

    @_soft()
    def request_cancel(self, job_id: str) -> None:
        self.client.set(f"rf:cancel:{job_id}", b"1", ex=RUNNING_TTL * 10)

    @_soft()
    def request_cancel_many(self, job_ids: list[str]) -> None:
        pipe = self.client.pipeline(transaction=False)
        for job_id in job_ids:
            pipe.set(f"rf:cancel:{job_id}", b"1", ex=RUNNING_TTL * 10)
            pipe.delete(f"rf:job:{job_id}")
        pipe.execute()

    @_soft(default=False)
    def cancel_requested(self, job_id: str) -> bool:
        return bool(self.client.exists(f"rf:cancel:{job_id}"))

    @_soft()
    def key_owner(self, digest: bytes) -> str | None:
        """The client of a verified key, ``REFUSED`` for a revoked one, None when not cached."""
        raw = self.client.get(f"rf:key:{digest.hex()}")
        return None if raw is None else raw.decode()

    @_soft()
    def remember_key(self, digest: bytes, client_id: str, seconds: float) -> None:
        """Trust a key just verified for ``seconds``, unless a revocation was written since."""
        self.client.set(f"rf:key:{digest.hex()}", client_id.encode(), px=max(1, int(seconds * 1000)), nx=True)

    @_soft(default=False)
    def pin_keys(self, client_id: str, ends: dict[bytes, float | None]) -> bool:
        """Overwrite what every process trusts of these keys (hash -> seconds each is still
        accepted; None or <= 0: refused now): the client until then, at most KEY_TTL, else
        ``REFUSED`` for KEY_TTL. False when Redis cannot be written (processes may then trust
        what they had for up to KEY_TTL)."""
        pipe = self.client.pipeline(transaction=False)
        for digest, left_s in ends.items():
            accepted = left_s is not None and left_s > 0
            value = client_id if accepted else REFUSED
            seconds = min(left_s, KEY_TTL) if accepted else KEY_TTL
            pipe.set(f"rf:key:{digest.hex()}", value.encode(), px=max(1, int(seconds * 1000)))
        pipe.execute()
        return True

    def ping(self) -> bool:
        try:
            return bool(self.client.ping())
        except (redis.RedisError, OSError):
            return False

    def close(self) -> None:
        self.client.close()

