"""Rate limits: past its burst a client gets 429 problem+json with Retry-After on every
authenticated endpoint, and gets through again once it waited that long; the bucket is the
client's alone (one client's burst never limits another) and is shared by every process
of the farm (gunicorn with two workers)."""

from __future__ import annotations

import time
from http.client import HTTPConnection

import pytest
from support import assert_problem_json, problem_details

RATE, BURST = 2.0, 5
LIMITED = ["/v1/jobs", "/v1/jobs/{job}", "/v1/jobs/{job}/deliveries", "/v1/jobs/{job}/routes.svg",
           "/v1/batches/{job}", "/v1/batches/{job}/deliveries", "/v1/webhooks/endpoints", "/v1/webhooks/secret",
           "/v1/deliveries/{job}", "/v1/farm"]
JOB = "01a20000-0000-7000-8000-000000000001"


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"rate_limit": RATE, "rate_burst": BURST})


def until_limited(http, headers, path="/v1/jobs") -> list[int]:
    codes = []
    while not codes or codes[-1] != 429:
        codes.append(http.get(path, headers=headers).status_code)
        assert len(codes) <= BURST + 3, codes
    return codes


def test_past_the_burst_every_endpoint_answers_429_with_retry_after(http, auth):
    _, a = auth("a")
    codes = until_limited(http, a)
    assert codes[:BURST] == [200] * BURST
    for path in LIMITED:
        response = http.get(path.format(job=JOB), headers=a)
        problem = assert_problem_json(response, 429)
        assert problem["type"].endswith("/too-many-requests")
        assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert http.post("/v1/jobs", json={}, headers=a).status_code == 429  # before the body is read
    assert http.get("/healthz").status_code == 200  # unauthenticated probes are not limited
    time.sleep(int(response.headers["Retry-After"]))
    assert http.get("/v1/jobs", headers=a).status_code == 200


def test_one_clients_burst_does_not_limit_another(http, auth):
    _, a = auth("a")
    _, b = auth("b")
    until_limited(http, a)
    assert [http.get("/v1/jobs", headers=b).status_code for _ in range(BURST)] == [200] * BURST
    assert http.get("/v1/jobs", headers=a).status_code == 429
    # unknown keys are refused before the limit is counted: they spend nobody's tokens
    for _ in range(BURST * 2):
        assert http.get("/v1/jobs", headers={"Authorization": "Bearer rf_unknown"}).status_code == 401


def get(port: int, key: str) -> tuple[int, str, str | None, bytes]:
    """GET /v1/jobs on a new connection: (status, content type, Retry-After, body)."""
    conn = HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/v1/jobs", headers={"Authorization": f"Bearer {key}"})
        response = conn.getresponse()
        return response.status, response.getheader("Content-Type"), response.getheader("Retry-After"), response.read()
    finally:
        conn.close()


def test_the_limit_holds_across_the_processes_of_the_farm(processes, client_factory):
    processes.web()  # two gunicorn workers, one bucket per client in Redis
    _, a = client_factory("a")
    _, b = client_factory("b")
    started = time.monotonic()
    answers = [get(processes.port, a) for _ in range(BURST * 3)]
    elapsed = time.monotonic() - started
    allowed = [status for status, *_ in answers].count(200)
    assert BURST <= allowed <= BURST + int(elapsed * RATE) + 1, [status for status, *_ in answers]
    for status, content_type, retry_after, raw in answers:
        if status != 200:
            problem_details(status, content_type, raw)
            assert status == 429 and int(retry_after) >= 1
    assert [get(processes.port, b)[0] for _ in range(BURST)] == [200] * BURST
