"""Hostile request bodies on every endpoint that reads one: oversized (413), nested 100,000
levels deep, strings PostgreSQL cannot store (NUL, unpaired surrogates), numbers JSON does
not have (NaN, Infinity, 1e999), ids of the wrong type. Each answers 4xx problem+json
quickly, through the Flask app and through a real gunicorn; nothing is stored. Also the
headers that are stored (Idempotency-Key, X-Request-ID) and the same strings in a Kafka
re-optimization event.
"""

from __future__ import annotations

import json
import socket
import time

import pytest
from support import SMALL_PROBLEM, assert_problem_json, problem_details

from routefarm.untrusted import MAX_DEPTH

DEEP = 100_000
BODY_ENDPOINTS = [("post", "/v1/jobs"), ("post", "/v1/batches"), ("post", "/v1/batches/reoptimize"),
                  ("post", "/v1/jobs/{job_id}/reoptimize"), ("post", "/v1/webhooks/endpoints"),
                  ("patch", "/v1/webhooks/endpoints/{endpoint_id}")]


def send(http, method: str, path: str, seeded, raw: bytes | str, content_type="application/json"):
    headers, ids = seeded
    return getattr(http, method)(path.format(**ids), data=raw, headers={**headers, "Content-Type": content_type})


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize(("method", "path"), BODY_ENDPOINTS)
def test_a_body_over_the_limit_is_413(http, seeded, farm, method, path):
    too_big = b" " * (farm.settings.max_body_bytes + 1)
    for content_type in ("application/json", "text/plain"):
        assert_problem_json(send(http, method, path, seeded, too_big, content_type), 413)


@pytest.mark.parametrize(("method", "path"), BODY_ENDPOINTS)
def test_a_body_nested_100k_levels_is_400(http, seeded, method, path):
    started = time.monotonic()
    body = assert_problem_json(send(http, method, path, seeded, nested(DEEP)), 400)
    assert "nested too deeply" in body["detail"]
    assert time.monotonic() - started < 5


def a_job(**extra) -> dict:
    return {"problem": SMALL_PROBLEM, **extra}


# (endpoint, body, a pointer the 422 names); all but the nesting answered 500 before
HOSTILE = [
    (("post", "/v1/jobs"), a_job(metadata={"note": "a\x00b"}), "/metadata/note"),
    (("post", "/v1/jobs"), a_job(metadata={"a\x00": 1}), "/metadata/a\x00"),
    (("post", "/v1/jobs"), a_job(metadata={"note": "\ud800"}), "/metadata/note"),
    (("post", "/v1/jobs"), a_job(metadata={"deep": json.loads(nested(MAX_DEPTH))}),
     "/metadata/deep" + "/0" * (MAX_DEPTH - 2)),
    (("post", "/v1/jobs"), {"problem": {**SMALL_PROBLEM, "stops": [{"id": "a\x00", "location_index": 1}]}},
     "/problem/stops/0/id"),
    (("post", "/v1/batches"), {"jobs": [a_job()], "metadata": {"x": "\x00"}}, "/metadata/x"),
    (("post", "/v1/batches"), {"jobs": [a_job(metadata={"x": "\udfff"})]}, "/jobs/0/metadata/x"),
    # ids of the wrong type crashed the validator's route checks (TypeError: unhashable)
    (("post", "/v1/batches"), {"jobs": [{"problem": {**SMALL_PROBLEM, "stops": [
        {"id": {"x": 1}, "location_index": 1}], "initial_routes": [{"vehicle_id": "v1", "steps": ["a"]}]}}]},
     "/jobs/0/problem/stops/0/id"),
    (("post", "/v1/jobs"), {"problem": {**SMALL_PROBLEM, "vehicles": [
        {"id": ["v1"], "start_index": 0}], "locked": [{"vehicle_id": "v1", "steps": []}]}},
     "/problem/vehicles/0/id"),
    (("post", "/v1/jobs/{job_id}/reoptimize"), {"event_id": "e\x00"}, "/event_id"),
    (("post", "/v1/jobs/{job_id}/reoptimize"), {"add_stops": [{"id": "z\x00", "location_index": 1}]},
     "/add_stops/0/id"),
    (("post", "/v1/batches/reoptimize"), {"jobs": [{"job_id": "{job_id}"}], "metadata": {"\x00": 0}},
     "/metadata/\x00"),
    (("post", "/v1/webhooks/endpoints"), {"url": "https://93.184.216.34/", "description": "a\x00"},
     "/description"),
    (("post", "/v1/webhooks/endpoints"), {"url": "https://93.184.216.34/\ud800"}, "/url"),
    (("patch", "/v1/webhooks/endpoints/{endpoint_id}"), {"description": "\x00"}, "/description"),
]


@pytest.mark.parametrize(("endpoint", "document", "pointer"), HOSTILE)
def test_values_the_database_cannot_store_are_422_with_a_pointer(http, seeded, endpoint, document, pointer):
    method, path = endpoint
    raw = json.dumps(document).replace("{job_id}", seeded[1]["job_id"])
    body = assert_problem_json(send(http, method, path, seeded, raw), 422)
    assert pointer in {e["pointer"] for e in body["errors"]}, body["errors"]


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999"])
@pytest.mark.parametrize(("method", "path"), BODY_ENDPOINTS)
def test_numbers_json_does_not_have_are_400(http, seeded, method, path, number):
    raw = f'{{"problem": {json.dumps(SMALL_PROBLEM)}, "metadata": {{"x": {number}}}, "description": {number}}}'
    body = assert_problem_json(send(http, method, path, seeded, raw), 400)
    assert "JSON" in body["detail"]


def test_nothing_was_stored_and_moderate_nesting_is_fine(http, seeded, farm):
    headers, _ = seeded
    before = len(http.get("/v1/jobs?limit=100", headers=headers).get_json()["jobs"])
    for _, document, _ in HOSTILE[:3]:
        http.post("/v1/jobs", json=document, headers=headers)
    assert len(http.get("/v1/jobs?limit=100", headers=headers).get_json()["jobs"]) == before
    deep_enough = a_job(metadata={"deep": json.loads(nested(MAX_DEPTH - 2))})
    accepted = http.post("/v1/jobs", json=deep_enough, headers=headers)
    assert accepted.status_code == 202
    doc = http.get(accepted.get_json()["links"]["self"], headers=headers).get_json()
    assert doc["metadata"] == deep_enough["metadata"]


@pytest.mark.parametrize("value", ["a\x00b", "bell\x07", "tab\there", "x" * 201, ""])
def test_an_idempotency_key_with_control_characters_is_400(http, seeded, value):
    headers, _ = seeded
    response = http.post("/v1/jobs", json=a_job(), headers={**headers, "Idempotency-Key": value})
    assert_problem_json(response, 400)


@pytest.mark.parametrize("value", ["a\x00b", "esc\x1b[2J"])
def test_a_request_id_with_control_characters_is_replaced(http, seeded, value):
    headers, _ = seeded
    response = http.post("/v1/jobs", json=a_job(), headers={**headers, "X-Request-ID": value})
    assert response.status_code == 202
    assert response.headers["X-Request-ID"] != value and response.headers["X-Request-ID"].isalnum()


def test_a_kafka_event_the_database_cannot_store_goes_to_the_dead_letter_topic(farm, client_factory):
    """The same strings in a re-optimization event crashed the ingest loop (a DataError from
    PostgreSQL), which then read the event again forever; now they are dead letters."""
    from support import solved_job

    from routefarm.kafka.ingest import DeadLetter, take

    client_id, _ = client_factory()
    base_id, _ = solved_job(farm, client_id, SMALL_PROBLEM)
    event = {"event_id": "e1", "client_id": client_id, "base_job_id": base_id, "at": 0}
    for bad, pointer in [({"event_id": "e\x00"}, "/event_id"), ({"client_id": client_id + "\x00"}, "/client_id"),
                         ({"add_stops": [{"id": "z\x00", "location_index": 1}]}, "/add_stops/0/id")]:
        letter = take(farm, client_id, json.dumps({**event, **bad}).encode(), "test")
        assert isinstance(letter, DeadLetter) and letter.kind == "invalid-event"
        assert pointer in {e["pointer"] for e in letter.errors}
    malformed = take(farm, client_id, b'{"event_id": NaN}', "test")
    assert isinstance(malformed, DeadLetter) and malformed.kind == "malformed-event"
    assert take(farm, client_id, json.dumps(event).encode(), "test") == "created"


# -- through a real gunicorn: the limits hold on the wire, and nothing hangs ---------------

def exchange(port: int, head: str, body: bytes = b"", timeout: float = 10.0) -> tuple[int, str, bytes]:
    """Send a raw request; (status, content type, body) of the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(head.encode("latin-1") + body)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        header, _, rest = data.partition(b"\r\n\r\n")
        lines = header.decode("latin-1").split("\r\n")
        fields = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        length = int(fields.get("content-length", "0"))
        while len(rest) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            rest += chunk
    return int(lines[0].split()[1]), fields.get("content-type", ""), rest[:length]


def test_on_the_wire_oversized_and_deep_bodies_are_answered_at_once(processes, client_factory, farm):
    processes.web()
    _, key = client_factory("wire")
    auth = f"Authorization: Bearer {key}\r\nContent-Type: application/json\r\nConnection: close\r\n"
    started = time.monotonic()
    # a Content-Length over the limit is refused before the body is read (none is sent)
    status, content_type, raw = exchange(
        processes.port, f"POST /v1/jobs HTTP/1.1\r\nHost: x\r\n{auth}Content-Length: {10**10}\r\n\r\n")
    problem_details(status, content_type, raw)
    assert status == 413
    # a chunked body without a length is cut off at the limit
    chunk = b" " * 65536
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(farm.settings.max_body_bytes // 65536 + 2))
    status, content_type, raw = exchange(
        processes.port, f"POST /v1/batches HTTP/1.1\r\nHost: x\r\n{auth}Transfer-Encoding: chunked\r\n\r\n",
        body + b"0\r\n\r\n")
    problem_details(status, content_type, raw)
    assert status == 413, raw
    deep = nested(DEEP).encode()
    status, content_type, raw = exchange(
        processes.port, f"POST /v1/jobs HTTP/1.1\r\nHost: x\r\n{auth}Content-Length: {len(deep)}\r\n\r\n", deep)
    problem_details(status, content_type, raw)
    assert status == 400
    assert time.monotonic() - started < 20
    assert "Traceback" not in (processes.logs / "web.log").read_text()
