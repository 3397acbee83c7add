"""Road travel matrices for a job, computed in the worker before its search, kept in Redis.

``RoadMatrices.of(problem)`` asks the farm's road source (``ROUTEFARM_ROADS_URL``: any
OSRM-compatible server) for the durations and distances between the problem's places
(``optimizer.places``) with the problem's profile, through ``client.RoadClient`` (bounded
timeouts and retries). The answer is cached under ``rf:travel:<hash of source, profile and
places>`` for ``ROADS_CACHE_TTL_S`` (float64 seconds and metres, with the source's data
version), so a job asked again, or a re-optimization over the same places, reuses it at once.
``snap_issues`` checks, at submission, that every place lies within the snapping limit of a
road, pointing at the stop or vehicle that does not.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass

import numpy as np
import redis

from optimizer import Issue, Problem, places

from ..errors import RoadSnapError
from .client import ClientSettings, RoadClient

log = logging.getLogger(__name__)
SNAP_DEADLINE_S = 2.0  # at submission: a source slower than this is asked again by the worker


@dataclass(frozen=True)
class RoadMatrices:
    durations: np.ndarray  # seconds between places; inf where no road leads
    distances: np.ndarray  # metres
    source: str
    profile: str
    data_version: str | None
    cached: bool = False

    def record(self) -> dict:
        """What the solution records of the roads it was priced on."""
        return {"source": self.source, "profile": self.profile, "data_version": self.data_version}


def client(settings, profile: str, deadline_s: float | None = None) -> RoadClient:
    return RoadClient(settings.roads_url, profile, ClientSettings(
        timeout_s=min(settings.roads_timeout_s, deadline_s or settings.roads_timeout_s),
        retries=settings.roads_retries, deadline_s=deadline_s or settings.roads_deadline_s,
        max_table_size=settings.roads_max_table_size, snap_limit_m=settings.roads_snap_limit_m))


def cache_key(source: str, profile: str, points: list[tuple[float, float]]) -> str:
    text = json.dumps([source, profile, points], separators=(",", ":"))
    return "rf:travel:" + hashlib.sha256(text.encode()).hexdigest()


def matrices(settings, cache: redis.Redis | None, problem: Problem) -> RoadMatrices:
    """The problem's road matrices: from the cache, else from the source (then cached).
    Raises ``TravelSourceUnavailable`` or ``RoadSnapError`` (the index of a place)."""
    profile = problem.travel.profile
    points = places(problem)
    key = cache_key(settings.roads_url, profile, points)
    found = _read(cache, key, len(points))
    if found is not None:
        durations, distances, version = found
        return RoadMatrices(durations, distances, settings.roads_url, profile, version, cached=True)
    road = client(settings, profile)
    durations, distances = road.table(points)
    result = RoadMatrices(durations, distances, settings.roads_url, profile, road.data_version)
    if settings.roads_cache_ttl_s > 0 and len(points) <= settings.roads_cache_max_places:
        _write(cache, key, result, settings.roads_cache_ttl_s)
    return result


def snap_issues(settings, problem: Problem) -> list[Issue]:
    """The stops and vehicles whose place lies farther from every road than the limit (one
    issue each, at its ``location``, ``start`` or ``end``)."""
    points = places(problem)
    road = client(settings, problem.travel.profile, deadline_s=SNAP_DEADLINE_S)
    issues: list[Issue] = []
    try:
        road.snapping(points)
    except RoadSnapError as exc:
        issues = [Issue(pointer, f"{exc}") for pointer in _pointers(problem, points[exc.index])]
    return issues


def _pointers(problem: Problem, point: tuple[float, float]) -> list[str]:
    out = [f"/stops/{i}/location" for i, s in enumerate(problem.stops) if s.location and tuple(s.location) == point]
    for i, s in enumerate(problem.shipments):
        for end in ("pickup", "delivery"):
            task = getattr(s, end)
            if task.location and tuple(task.location) == point:
                out.append(f"/shipments/{i}/{end}/location")
    for i, v in enumerate(problem.vehicles):
        out += [f"/vehicles/{i}/{end}" for end in ("start", "end") if getattr(v, end) and tuple(getattr(v, end)) == point]
    return out


def _read(cache: redis.Redis | None, key: str, n: int):
    if cache is None:
        return None
    try:
        raw = cache.hgetall(key)
    except (redis.RedisError, OSError) as exc:
        log.warning("road matrices cache unavailable: %s", exc)
        return None
    if not raw or b"durations" not in raw:
        return None
    durations = np.frombuffer(raw[b"durations"], dtype=np.float64)
    distances = np.frombuffer(raw[b"distances"], dtype=np.float64)
    if durations.size != n * n or distances.size != n * n:
        return None
    version = raw.get(b"data_version", b"").decode() or None
    return durations.reshape(n, n), distances.reshape(n, n), version


def _write(cache: redis.Redis | None, key: str, found: RoadMatrices, ttl_s: float) -> None:
    if cache is None:
        return
    try:
        pipe = cache.pipeline(transaction=True)
        pipe.hset(key, mapping={"durations": found.durations.astype(np.float64).tobytes(),
                                "distances": found.distances.astype(np.float64).tobytes(),
                                "data_version": found.data_version or ""})
        pipe.expire(key, max(1, int(ttl_s)))
        pipe.execute()
    except (redis.RedisError, OSError) as exc:
        log.warning("road matrices not cached: %s", exc)
