"""Request bodies and query strings: one strict JSON reader for every endpoint that takes a
body, one reader of query strings into their ``routefarm.contract`` models."""

from __future__ import annotations

from typing import Any, TypeVar

from flask import current_app, request
from pydantic import BaseModel
from werkzeug.exceptions import RequestEntityTooLarge

from routefarm.contract.requests import parse_query
from routefarm.errors import BadRequest, InvalidInput
from routefarm.untrusted import MAX_CONTAINERS, containers, loads, storage_findings

NOT_JSON = "the body must be JSON (Content-Type: application/json)"


def json_body() -> Any:
    """The decoded body: 400 unless it is JSON, 413 above the size limit, 422 (with pointers)
    for strings the database cannot store or values nested too deeply."""
    raw = request.get_data(cache=True)  # above the limit: 413, whatever the content type
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if request.content_length is None and limit is not None and len(raw) >= limit:
        raise RequestEntityTooLarge()  # a chunked body, which the reader cuts at the limit
    if not request.is_json:
        raise BadRequest(NOT_JSON)
    if containers(raw) > MAX_CONTAINERS:
        raise RequestEntityTooLarge(f"the body holds more than {MAX_CONTAINERS:,} JSON arrays and objects")
    try:
        body = loads(raw)
    except ValueError as exc:
        raise BadRequest(f"{NOT_JSON}: {exc}") from None
    issues = storage_findings(body)
    if issues:
        raise InvalidInput(issues)
    return body


Query = TypeVar("Query", bound=BaseModel)


def query(model: type[Query]) -> Query:
    """The request's query string as ``model`` (400 naming a bad parameter); a parameter
    given empty (``?include=``) is taken as left out."""
    try:
        return parse_query({k: v for k, v in request.args.items() if v != ""}, model)
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
