"""The travel-time client: tables and route legs from any OSRM-compatible server.

Standard library and numpy only, so a worker needs no graph library. ``table(points)``
gives float matrices of seconds and metres (``inf`` where no route) for (lon, lat)
points, asking in blocks of sources x destinations that fit the server's
``max_table_size`` coordinates per request. ``route(points)`` gives each leg's seconds,
metres and GeoJSON LineString.

Bounds: every request waits at most ``timeout_s`` (connect, and each read), a failed
request (no connection, timeout, 5xx, an answer that is not OSRM's) is tried again at
most ``retries`` times after ``backoff_s``, and no call lasts past ``deadline_s``: then
it raises ``TravelSourceUnavailable``. So a stopped server fails a call in about
``retries * backoff_s``, and a paused one in at most ``deadline_s``. A point farther
than ``snap_limit_m`` from every road (by the server's NoSegment answer or by the snap
distance of its waypoint) raises ``RoadSnapError`` with that point's index instead.
"""

from __future__ import annotations

import http.client
import json
import re
import time
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

import numpy as np

from ..errors import RoadSnapError, TravelSourceUnavailable

_COORDINATE = re.compile(r"coordinate (\d+)")


@dataclass(frozen=True)
class ClientSettings:
    timeout_s: float = 10.0
    retries: int = 2
    backoff_s: float = 0.5
    deadline_s: float = 60.0
    max_table_size: int = 100  # osrm-routed's default --max-table-size
    max_route_size: int = 100
    snap_limit_m: float | None = 1000.0


class RoadClient:
    def __init__(self, base_url: str, profile: str, settings: ClientSettings | None = None):
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        self.base_url = base_url
        self.profile = profile
        self.settings = settings or ClientSettings()
        self._scheme = parts.scheme
        self._host = parts.hostname
        self._port = parts.port
        self._prefix = parts.path.rstrip("/")
        self.data_version: str | None = None  # X-Data-Version of the last answer, if any

    def table(self, points) -> tuple[np.ndarray, np.ndarray]:
        """(seconds, metres) between every pair of (lon, lat) points; inf where no route."""
        points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        n = len(points)
        durations = np.full((n, n), np.inf)
        distances = np.full((n, n), np.inf)
        deadline = time.monotonic() + self.settings.deadline_s
        block = n if n <= self.settings.max_table_size else max(1, self.settings.max_table_size // 2)
        for i in range(0, n, block):
            rows = np.arange(i, min(n, i + block))
            for j in range(0, n, block):
                cols = np.arange(j, min(n, j + block))
                if n <= self.settings.max_table_size:
                    asked, sources, targets = np.arange(n), rows, cols
                else:
                    asked = np.concatenate((rows, cols))
                    sources, targets = np.arange(len(rows)), len(rows) + np.arange(len(cols))
                query = (f"annotations=duration,distance&sources={_join(sources)}"
                         f"&destinations={_join(targets)}")
                document = self._get("table", points[asked], asked, query, deadline)
                d, m = self._cells(document, len(rows), len(cols))
                self._check_snaps(document, ("sources", "destinations"), (asked[sources], asked[targets]))
                durations[np.ix_(rows, cols)] = d
                distances[np.ix_(rows, cols)] = m
        return durations, distances

    def snapping(self, points) -> None:
        """Check that every point lies within the snapping limit of a road (one column of a
        table per block of points: cheap for the server); ``RoadSnapError`` names the first
        that does not."""
        points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        deadline = time.monotonic() + self.settings.deadline_s
        block = max(1, self.settings.max_table_size - 1)
        for start in range(0, len(points), block):
            asked = np.arange(start, min(len(points), start + block))
            document = self._get("table", points[asked], asked,
                                 f"annotations=duration&sources={_join(np.arange(len(asked)))}&destinations=0",
                                 deadline)
            self._check_snaps(document, ("sources",), (asked,))

    def route(self, points) -> list[dict]:
        """Legs between consecutive points: {"duration", "distance", "geometry"} (GeoJSON)."""
        points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        if len(points) < 2:
            raise ValueError("a route needs at least two points")
        deadline = time.monotonic() + self.settings.deadline_s
        step = max(1, self.settings.max_route_size - 1)
        legs: list[dict] = []
        for start in range(0, len(points) - 1, step):
            asked = np.arange(start, min(len(points), start + step + 1))
            document = self._get("route", points[asked], asked,
                                 "overview=full&geometries=geojson&steps=true", deadline)
            self._check_snaps(document, ("waypoints",), (asked,))
            try:
                for leg in document["routes"][0]["legs"]:
                    coordinates = []
                    for step_ in leg["steps"]:
                        line = step_["geometry"]["coordinates"]
                        coordinates.extend(line if not coordinates else line[1:])
                    legs.append({"duration": float(leg["duration"]), "distance": float(leg["distance"]),
                                 "geometry": {"type": "LineString", "coordinates": coordinates}})
            except (KeyError, IndexError, TypeError, ValueError) as exc:
                raise self._unavailable(f"not an OSRM route answer ({type(exc).__name__})") from None
        return legs

    def _get(self, service: str, points: np.ndarray, asked: np.ndarray, query: str,
             deadline: float) -> dict:
        text = ";".join(f"{lon:.6f},{lat:.6f}" for lon, lat in points)
        path = f"{self._prefix}/{service}/v1/{quote(self.profile)}/{text}?{query}"
        reason = "no attempt made"
        for attempt in range(self.settings.retries + 1):
            if attempt:
                time.sleep(min(self.settings.backoff_s, max(0.0, deadline - time.monotonic())))
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                status, body = self._request(path, min(self.settings.timeout_s, remaining))
            except (OSError, http.client.HTTPException) as exc:
                reason = f"{type(exc).__name__}: {exc}"[:200]
                continue
            try:
                document = json.loads(body)
                code = document["code"]
            except (ValueError, TypeError, KeyError):
                reason = f"HTTP {status}, not an OSRM answer: {body[:80]!r}"
                continue
            if code == "Ok" and status == 200:
                return document
            message = str(document.get("message", ""))[:200]
            if code == "NoSegment":
                found = _COORDINATE.search(message)
                index = int(asked[int(found.group(1))]) if found and int(found.group(1)) < len(asked) else -1
                raise RoadSnapError(index)
            if status >= 500:
                reason = f"HTTP {status} {code}: {message}"
                continue
            raise self._unavailable(f"refused ({code}): {message}")
        raise self._unavailable(reason)

    def _request(self, path: str, timeout: float) -> tuple[int, bytes]:
        kind = http.client.HTTPSConnection if self._scheme == "https" else http.client.HTTPConnection
        connection = kind(self._host, self._port, timeout=timeout)
        try:
            connection.request("GET", path, headers={"Accept": "application/json"})
            response = connection.getresponse()
            body = response.read()
            self.data_version = response.getheader("X-Data-Version") or self.data_version
            return response.status, body
        except TimeoutError as exc:
            raise TimeoutError(f"no answer within {timeout:.1f} s") from exc
        finally:
            connection.close()

    def _cells(self, document: dict, rows: int, cols: int) -> tuple[np.ndarray, np.ndarray]:
        out = []
        for name in ("durations", "distances"):
            try:
                cells = np.array(document[name], dtype=np.float64)  # null becomes NaN
            except (KeyError, TypeError, ValueError):
                raise self._unavailable(f"the table answer has no valid {name}") from None
            if cells.shape != (rows, cols) or (cells < 0).any():
                raise self._unavailable(f"the table answer's {name} are not {rows} x {cols} numbers >= 0")
            cells[np.isnan(cells)] = np.inf
            out.append(cells)
        return out[0], out[1]

    def _check_snaps(self, document: dict, keys: tuple[str, ...], indices: tuple[np.ndarray, ...]) -> None:
        limit = self.settings.snap_limit_m
        if limit is None:
            return
        for key, which in zip(keys, indices, strict=True):
            for waypoint, index in zip(document.get(key) or [], which, strict=False):
                distance = waypoint.get("distance") if isinstance(waypoint, dict) else None
                if isinstance(distance, int | float) and distance > limit:
                    raise RoadSnapError(int(index), float(distance), limit)

    def _unavailable(self, reason: str) -> TravelSourceUnavailable:
        return TravelSourceUnavailable(f"{self.base_url} ({self.profile})", reason)


def _join(values: np.ndarray) -> str:
    return ";".join(str(int(v)) for v in values)
