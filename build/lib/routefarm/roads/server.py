"""The OSRM-compatible HTTP server over the road engines (Flask; graphs load once per process).

``GET /table/v1/{profile}/{coordinates}`` and ``GET /route/v1/{profile}/{coordinates}``
answer as osrm-routed does; ``GET /health`` names the profiles, the limits and the data
version (the OSM file's SHA-256), which every answer also carries in ``X-Data-Version``.
Errors are ``{"code", "message"}`` with status 400 (OSRM's codes), never a traceback.
Answers are kept in an in-process LRU keyed by the whole request (profile, coordinates,
options), so a table asked twice is served from memory the second time.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import OrderedDict

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from ..errors import RoadSnapError
from . import osrm_request as parse
from . import osrm_response as shape
from .engine import RoadEngine
from .settings import ServerSettings

log = logging.getLogger(__name__)
VERSION_HEADER = "X-Data-Version"


class AnswerCache:
    """A bounded LRU of response bodies; thread-safe."""

    def __init__(self, entries: int):
        self.entries = entries
        self._items: OrderedDict[tuple, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> bytes | None:
        with self._lock:
            body = self._items.get(key)
            if body is not None:
                self._items.move_to_end(key)
            return body

    def put(self, key: tuple, body: bytes) -> None:
        if self.entries <= 0:
            return
        with self._lock:
            self._items[key] = body
            self._items.move_to_end(key)
            while len(self._items) > self.entries:
                self._items.popitem(last=False)


def create_app(engines: dict[str, RoadEngine], settings: ServerSettings) -> Flask:
    app = Flask("routefarm.roads")
    cache = AnswerCache(settings.cache_entries)
    version = next(iter(engines.values())).data_version if engines else ""

    def answer(document: dict, status: int = 200) -> Response:
        return _response(json.dumps(document, separators=(",", ":")).encode(), status)

    def _response(body: bytes, status: int = 200) -> Response:
        response = Response(body, status=status, mimetype="application/json")
        response.headers[VERSION_HEADER] = version
        return response

    def engine_for(profile: str) -> RoadEngine:
        if profile not in engines:
            raise parse.OsrmError("InvalidUrl", f"unknown profile {profile!r}; this server has "
                                  + ", ".join(sorted(engines)))
        return engines[profile]

    def cached(service: str, profile: str, coordinates: str, compute) -> Response:
        """compute(engine, points) once per distinct request, after the checks both services share."""
        key = (service, profile, coordinates, tuple(sorted(request.args.items(multi=True))))
        body = cache.get(key)
        if body is None:
            engine = engine_for(profile)
            known, limit = ((parse.TABLE_OPTIONS, settings.max_table_size) if service == "table"
                            else (parse.ROUTE_OPTIONS, settings.max_route_size))
            parse.check_options(request.args, known)
            points = parse.coordinates(coordinates, limit, service)
            body = json.dumps(compute(engine, points), separators=(",", ":")).encode()
            cache.put(key, body)
        return _response(body)

    @app.get("/table/v1/<profile>/<path:coordinates>")
    def table(profile: str, coordinates: str):
        def compute(engine: RoadEngine, points) -> dict:
            sources = parse.indices(request.args.get("sources"), len(points), "sources")
            destinations = parse.indices(request.args.get("destinations"), len(points), "destinations")
            want_durations, want_distances = parse.annotations(request.args.get("annotations"))
            snapped = engine.snap(points)
            durations, distances = engine.table(snapped, sources, destinations)
            document = {"code": "Ok"}
            if want_durations:
                document["durations"] = shape.matrix(durations)
            if want_distances:
                document["distances"] = shape.matrix(distances)
            if request.args.get("skip_waypoints") != "true":
                document["sources"] = shape.waypoints(snapped, sources)
                document["destinations"] = shape.waypoints(snapped, destinations)
            return document

        return cached("table", profile, coordinates, compute)

    @app.get("/route/v1/<profile>/<path:coordinates>")
    def route(profile: str, coordinates: str):
        def compute(engine: RoadEngine, points) -> dict:
            if len(points) < 2:
                raise parse.OsrmError("InvalidQuery", "a route needs at least two coordinates")
            overview = parse.choice(request.args, "overview", ("simplified", "full", "false"), "simplified")
            kind = parse.choice(request.args, "geometries", ("polyline", "polyline6", "geojson"), "polyline")
            steps = parse.choice(request.args, "steps", ("true", "false"), "false") == "true"
            snapped = engine.snap(points)
            legs = engine.legs(snapped)
            if any(leg is None for leg in legs):
                raise parse.OsrmError("NoRoute", "Impossible route between points")
            return {"code": "Ok", "routes": [shape.route(legs, overview, kind, steps)],
                    "waypoints": shape.waypoints(snapped, range(len(points)))}

        return cached("route", profile, coordinates, compute)

    @app.get("/health")
    def health():
        return answer({"code": "Ok", "data_version": version, "profiles": sorted(engines),
                       "max_table_size": settings.max_table_size,
                       "max_route_size": settings.max_route_size,
                       "nodes": {name: engine.graph.nodes for name, engine in engines.items()}})

    @app.errorhandler(parse.OsrmError)
    def osrm_error(exc: parse.OsrmError):
        return answer({"code": exc.code, "message": exc.message}, 400)

    @app.errorhandler(RoadSnapError)
    def no_segment(exc: RoadSnapError):
        return answer({"code": "NoSegment",
                       "message": f"Could not find a matching segment for coordinate {exc.index}"
                                  f" ({exc.distance_m:.0f} m from the nearest road,"
                                  f" limit {exc.limit_m:.0f} m)"}, 400)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        code = "InvalidService" if exc.code == 404 else "InvalidUrl"
        return answer({"code": code, "message": f"{exc.name}: {request.path[:80]}"}, 400)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("road request failed: %s", request.path[:200])
        return answer({"code": "InternalError", "message": f"{type(exc).__name__}: {exc}"[:300]}, 500)

    return app
