"""GET /v1/jobs/{id}/routes.svg: a job's solution drawn over its problem's places
(``?geometry=true``: a job priced on roads is drawn along them, asked of its road source)."""

from __future__ import annotations

import uuid

from flask import Blueprint, Response, g

from optimizer import Problem
from optimizer.render import render_svg
from routefarm.contract.requests import PictureQuery
from routefarm.errors import Conflict
from routefarm.jobs.retention import absent
from routefarm.roads.geometry import route_geometry

from .auth import farm, require_client, resource_id
from .bodies import query
from .openapi import documented, text

bp = Blueprint("pictures", __name__, url_prefix="/v1/jobs")
require_client(bp)
SVG = "image/svg+xml"


def _problem_and_solution(client_id: str, job_id: uuid.UUID) -> tuple[str, dict, dict | None]:
    def read(conn):
        return conn.execute("SELECT status, problem, solution FROM jobs WHERE id = %s AND client_id = %s",
                            (job_id, client_id)).fetchone()

    row = farm().store.on_shard(client_id, read)
    if row is None:
        raise absent(farm(), client_id, "job", job_id)
    return row


@bp.get("/<job_id>/routes.svg")
@documented("The job's solution drawn as SVG: depots, stops, one path per route, unassigned crossed", {
    200: text(SVG, "The picture"), 400: "Bad parameter", 404: "No such job", 409: "The job has no solution yet",
    503: "The job's shard, or (geometry) its road source, cannot be reached"}, query=PictureQuery,
    description=("Coordinate problems are drawn in an equirectangular projection; matrix problems have no "
                 "coordinates, so their places are laid out by classical multidimensional scaling of the "
                 "distance matrix (the picture's title says so). No map tiles."))
def routes_svg(job_id: str):
    jid = resource_id(job_id, "job")
    asked = query(PictureQuery)
    status, problem, solution = _problem_and_solution(g.client_id, jid)
    if solution is None:
        raise Conflict(f"job {jid} is {status} and has no solution to draw yet", "job-has-no-solution",
                       job_status=status)
    # The problem was validated when it was submitted; the structure is enough here.
    parsed = Problem.model_validate(problem)
    geometry = None
    if asked.geometry and solution.get("travel") and parsed.travel:
        geometry = route_geometry(farm().settings, parsed, solution)  # on the roads it was priced on
    svg = render_svg(parsed, solution, geometry)
    response = Response(svg, mimetype=SVG)
    response.headers["Cache-Control"] = "private, max-age=60"
    # An SVG opened on its own is a document: it may run no script and load nothing.
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
