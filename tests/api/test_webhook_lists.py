"""Webhook endpoints are capped per client (one more: 409, however many are created at once),
and the lists of endpoints and of deliveries are pages (limit + cursor, as GET /v1/jobs)."""

from __future__ import annotations

import threading

import pytest
import redis
from support import SMALL_PROBLEM, assert_problem_json, make_settings

RECEIVER = "http://127.0.0.1:9/hooks"  # admitted by this module's allowlist; never called
CAP = 3


@pytest.fixture
def settings(databases, redis_server):
    for db in (10, 11):
        redis.Redis.from_url(f"{redis_server}/{db}").flushdb()
    return make_settings(databases, redis_server, webhook_allowlist="127.0.0.0/8", max_webhook_endpoints=CAP)


def create(http, headers, n: int):
    return http.post("/v1/webhooks/endpoints", json={"url": f"{RECEIVER}/{n}", "event_types": ["job.cancelled"]},
                     headers=headers)


def walk(http, headers, path: str, key: str, limit: int) -> list[list[str]]:
    """Every page of a list: the ids on each."""
    pages, cursor = [], None
    while True:
        got = http.get(f"{path}?limit={limit}" + (f"&cursor={cursor}" if cursor else ""), headers=headers)
        assert got.status_code == 200, got.get_json()
        body = got.get_json()
        pages.append([item["id"] for item in body[key]])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) < 10


def test_one_endpoint_more_than_the_cap_is_a_conflict(http, auth):
    _, headers = auth("many-hooks")
    made = [create(http, headers, n).get_json()["id"] for n in range(CAP)]
    refused = create(http, headers, CAP)
    problem = assert_problem_json(refused, 409)
    assert problem["type"].endswith("/too-many-endpoints") and problem["limit"] == CAP
    assert f"the most it may have ({CAP})" in problem["detail"]
    _, other = auth("other-hooks")  # the cap is per client
    assert create(http, other, 0).status_code == 201
    assert http.delete(f"/v1/webhooks/endpoints/{made[0]}", headers=headers).status_code == 204
    assert create(http, headers, CAP).status_code == 201


def test_the_cap_holds_when_endpoints_are_created_at_once(app, auth):
    _, headers = auth("racing-hooks")
    statuses: list[int] = []

    def one(n: int) -> None:
        statuses.append(create(app.test_client(), headers, n).status_code)

    threads = [threading.Thread(target=one, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(statuses) == [201] * CAP + [409] * (8 - CAP)
    listed = app.test_client().get("/v1/webhooks/endpoints", headers=headers).get_json()["endpoints"]
    assert len(listed) == CAP


def test_endpoints_and_deliveries_are_listed_by_pages(http, auth):
    _, headers = auth("paged")
    made = [create(http, headers, n).get_json()["id"] for n in range(CAP)]
    assert walk(http, headers, "/v1/webhooks/endpoints", "endpoints", 2) == [made[:2], made[2:]]
    assert walk(http, headers, "/v1/webhooks/endpoints", "endpoints", 3) == [made]

    job = http.post("/v1/jobs", json={"problem": SMALL_PROBLEM}, headers=headers).get_json()
    assert http.delete(f"/v1/jobs/{job['id']}", headers=headers).status_code == 200  # one delivery per endpoint
    pages = walk(http, headers, f"/v1/jobs/{job['id']}/deliveries", "deliveries", 2)
    assert [len(p) for p in pages] == [2, 1] and len({d for p in pages for d in p}) == CAP
    whole = http.get(f"/v1/jobs/{job['id']}/deliveries", headers=headers).get_json()
    assert [d["id"] for d in whole["deliveries"]] == pages[0] + pages[1] and whole["next_cursor"] is None
    assert {d["endpoint_id"] for d in whole["deliveries"]} == set(made)

    for bad in ("?cursor=nonsense!", "?limit=0", "?limit=101"):
        assert_problem_json(http.get(f"/v1/webhooks/endpoints{bad}", headers=headers), 400)
        assert_problem_json(http.get(f"/v1/jobs/{job['id']}/deliveries{bad}", headers=headers), 400)
