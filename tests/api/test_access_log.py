"""Logs while serving a request: one access line per request (method, route template, status,
duration, bytes) and every line carrying the request id and, once the key is checked, the
client id; nothing of one request leaks into the next."""

from __future__ import annotations

import io
import json
import logging

import pytest

from routefarm.observability.logs import JsonFormatter


@pytest.fixture
def lines():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("web"))
    root = logging.getLogger()
    root.addHandler(handler)
    previous = root.level
    root.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    root.removeHandler(handler)
    root.setLevel(previous)


def test_one_access_line_per_request_with_request_and_client(http, auth, lines):
    client_id, headers = auth("logs")
    missing = "01a2b3c4-0000-7000-8000-000000000000"
    http.get(f"/v1/jobs/{missing}", headers={**headers, "X-Request-ID": "req-42"})
    http.get("/healthz")
    access = [line for line in lines() if line["logger"] == "routefarm.access"]
    assert len(access) == 2, access
    first, second = access
    assert first["route"] == "/v1/jobs/<job_id>" and first["method"] == "GET" and first["status"] == 404
    assert first["request_id"] == "req-42" and first["client_id"] == client_id
    assert isinstance(first["duration_ms"], float) and first["bytes"] > 0
    assert first["message"] == "GET /v1/jobs/<job_id> 404"
    assert second["route"] == "/healthz" and second["status"] == 200
    assert "client_id" not in second and second["request_id"] != "req-42", "one request's context is its own"


def test_lines_written_while_serving_carry_the_request(http, lines, app):
    @app.get("/_test_log")
    def _log():  # a line written by code that knows nothing of the request
        logging.getLogger("some.library").warning("inside")
        return "ok"

    http.get("/_test_log", headers={"X-Request-ID": "inner-1"})
    (inner,) = [line for line in lines() if line["logger"] == "some.library"]
    assert inner["request_id"] == "inner-1" and inner["level"] == "warning"
