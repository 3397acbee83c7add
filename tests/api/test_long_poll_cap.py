"""A client holds at most ``max_long_polls_per_client`` long-polls open at once, farm-wide:
the next one is refused at once (429 problem+json with Retry-After) while other clients' waits
and the client's plain reads go on. Real concurrent HTTP requests against a real gunicorn
(two processes: the count is shared through Redis)."""

from __future__ import annotations

import http.client
import json
import threading
import time

import pytest
import redis
from support import SMALL_PROBLEM, call_api, problem_details

CAP = 2


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"max_long_polls_per_client": CAP})


def get(port: int, key: str, path: str, timeout: float = 30.0) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Authorization": f"Bearer {key}"})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def held(settings, client_id: str) -> int:
    return redis.Redis.from_url(settings.cache_url).zcard(f"rf:slots:held-open:{client_id}")


def test_past_its_share_a_clients_long_poll_is_refused_and_others_wait(processes, client_factory, settings):
    alice, a = client_factory("alice")
    _, b = client_factory("bob")
    processes.web()
    port = processes.port
    _, job = call_api(port, "POST", "/v1/jobs", a, {"problem": SMALL_PROBLEM})  # queued: no worker runs
    _, other = call_api(port, "POST", "/v1/jobs", b, {"problem": SMALL_PROBLEM})

    answers: list[tuple[int, dict]] = []
    waiting = [threading.Thread(target=lambda: answers.append(
        (lambda s, h, raw: (s, json.loads(raw)))(*get(port, a, f"/v1/jobs/{job['id']}?wait=20"))))
        for _ in range(CAP)]
    for thread in waiting:
        thread.start()
    deadline = time.monotonic() + 10
    while held(settings, alice) < CAP:
        assert time.monotonic() < deadline, "the long-polls did not reach the server"
        time.sleep(0.05)

    status, headers, raw = get(port, a, f"/v1/jobs/{job['id']}?wait=20")
    body = problem_details(status, headers["content-type"], raw)
    assert status == 429 and body["type"].endswith("/too-many-requests")
    assert f"{CAP} long-polls of this client are in progress" in body["detail"]
    assert int(headers["retry-after"]) >= 1
    # another client's wait is served, and so are this client's reads that do not wait
    status, _, raw = get(port, b, f"/v1/jobs/{other['id']}?wait=0.5")
    assert status == 200 and json.loads(raw)["status"] == "queued"
    assert get(port, a, f"/v1/jobs/{job['id']}")[0] == 200
    assert answers == []  # the held ones are still waiting

    assert call_api(port, "DELETE", f"/v1/jobs/{job['id']}", a)[0] == 200  # wakes them
    for thread in waiting:
        thread.join(15)
    assert [(s, d["status"]) for s, d in answers] == [(200, "cancelled")] * CAP
    assert held(settings, alice) == 0  # given back as they ended
    status, _, raw = get(port, a, f"/v1/jobs/{job['id']}?wait=20")
    assert status == 200 and json.loads(raw)["status"] == "cancelled"


def test_the_get_operation_documents_the_refusal(http):
    spec = http.get("/openapi.json").get_json()
    refused = spec["paths"]["/v1/jobs/{job_id}"]["get"]["responses"]["429"]
    assert "long-polls" in refused["description"] and "Retry-After" in refused["headers"]
