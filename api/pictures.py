"""GET /v1/jobs/{id}/routes.svg: a job's solution drawn over the places it uses
(``?geometry=true``: a job priced on roads is drawn along them, asked of its road source).

Drawing is bounded: a plan using more than ``PICTURE_MAX_PLACES`` places answers 422, and a
matrix problem's layout refines for at most ``PICTURE_LAYOUT_S``. An ended job's picture
cannot change: it is kept in Redis (``rf:svg:{id}``, per client and query, the cache TTL),
so drawing it again costs one GET.
"""

from __future__ import annotations

import time
import uuid

from flask import Blueprint, Response, g

from optimizer import Problem
from optimizer.render import TooManyPlaces, render_svg
from routefarm.contract.requests import PictureQuery
from routefarm.contract.statuses import TERMINAL
from routefarm.errors import Conflict, TooLarge
from routefarm.jobs.problems import COLUMNS, problem_of
from routefarm.jobs.retention import absent
from routefarm.roads.geometry import route_geometry

from .auth import farm, require_client, resource_id
from .bodies import query
from .openapi import documented, text

bp = Blueprint("pictures", __name__, url_prefix="/v1/jobs")
require_client(bp)
SVG = "image/svg+xml"


def _problem_and_solution(client_id: str, job_id: uuid.UUID) -> tuple[str, Problem, dict | None]:
    """The job's status, problem (its matrices as arrays: ``jobs.problems``) and solution."""
    def read(conn):
        return conn.execute(f"SELECT status, solution, {COLUMNS} FROM jobs WHERE id = %s AND client_id = %s",
                            (job_id, client_id)).fetchone()

    row = farm().store.on_shard(client_id, read)
    if row is None:
        raise absent(farm(), client_id, "job", job_id)
    status, solution, *problem = row
    return status, problem_of(job_id, *problem), solution


@bp.get("/<job_id>/routes.svg")
@documented("The job's solution drawn as SVG: depots, stops, one path per route, unassigned crossed", {
    200: text(SVG, "The picture"), 400: "Bad parameter", 404: "No such job", 409: "The job has no solution yet",
    422: "The plan uses more places than a picture draws (ROUTEFARM_PICTURE_MAX_PLACES)",
    503: "The job's shard, or (geometry) its road source, cannot be reached"}, query=PictureQuery,
    description=("Only the places the plan uses are drawn. Coordinate problems are drawn in an equirectangular "
                 "projection; matrix problems have no coordinates, so their places are laid out by "
                 "multidimensional scaling of the distance matrix (landmark MDS; the picture's title says so). "
                 "No map tiles. An ended job's picture is served from the cache after the first time."))
def routes_svg(job_id: str):
    jid = resource_id(job_id, "job")
    asked = query(PictureQuery)
    variant = g.client_id + "?" + "&".join(f"{k}={v}" for k, v in sorted(asked.model_dump().items()))
    cached = farm().cache.get_picture(str(jid), variant)
    if cached is not None:
        return _picture(cached)
    status, parsed, solution = _problem_and_solution(g.client_id, jid)
    if solution is None:
        raise Conflict(f"job {jid} is {status} and has no solution to draw yet", "job-has-no-solution",
                       job_status=status)
    geometry = None
    if asked.geometry and solution.get("travel") and parsed.travel:
        geometry = route_geometry(farm().settings, parsed, solution)  # on the roads it was priced on
    settings = farm().settings
    try:
        svg = render_svg(parsed, solution, geometry, max_places=settings.picture_max_places,
                         deadline=time.monotonic() + settings.picture_layout_s)
    except TooManyPlaces as exc:
        raise TooLarge(str(exc), "picture-too-large", places=exc.places, max_places=exc.limit) from None
    if status in TERMINAL:
        farm().cache.put_picture(str(jid), variant, svg)
    return _picture(svg)


def _picture(svg: str) -> Response:
    response = Response(svg, mimetype=SVG)
    response.headers["Cache-Control"] = "private, max-age=60"
    # An SVG opened on its own is a document: it may run no script and load nothing.
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
