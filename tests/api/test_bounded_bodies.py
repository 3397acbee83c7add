"""Bad bodies cost a bounded answer on every door (the Flask app over real Postgres and Redis):
at most MAX_ISSUES errors listed and the number of the others, a limit on every field."""

from __future__ import annotations

import copy
import json
import uuid

import pytest
from support import SMALL_PROBLEM

from optimizer import MAX_ISSUES
from optimizer import model as m
from routefarm.contract.requests import MAX_METADATA_BYTES, MAX_URL

PROBLEM_JSON = "application/problem+json"
BIG_METADATA = {"notes": "x" * MAX_METADATA_BYTES}


def refused(response) -> dict:
    assert response.status_code == 422, response.get_json()
    assert response.mimetype == PROBLEM_JSON
    return response.get_json()


def pointers(body: dict) -> dict[str, str]:
    return {e["pointer"]: e["detail"] for e in body["errors"]}


def test_a_matrix_of_bad_cells_answers_with_the_first_errors_and_their_count(http, auth):
    _, headers = auth()
    n = 800
    problem = {"vehicles": [{"id": "v", "start_index": 0}],
               "stops": [{"id": f"s{i}", "location_index": i} for i in range(1, n)],
               "matrix": {"distances": [[-1] * n for _ in range(n)]}}
    response = http.post("/v1/jobs", json={"problem": problem}, headers=headers)
    body = refused(response)
    assert len(response.data) < 256 * 1024
    assert len(body["errors"]) == MAX_ISSUES
    assert body["errors_omitted"] == n * n - MAX_ISSUES
    assert body["detail"] == f"{n * n} error(s) in the request body; the first {MAX_ISSUES} are listed"
    assert body["errors"][0] == {"pointer": "/problem/matrix/distances/0/0", "detail": "must not be negative (got -1)"}


def test_few_errors_have_no_omitted_count(http, auth):
    _, headers = auth()
    bad = copy.deepcopy(SMALL_PROBLEM)
    bad["stops"][0]["service"] = -1
    body = refused(http.post("/v1/jobs", json={"problem": bad}, headers=headers))
    assert "errors_omitted" not in body and len(body["errors"]) == 1


def test_thirty_thousand_bad_cancel_stops_are_answered_capped(http, auth):
    _, headers = auth()
    body = {"at": 0, "cancel_stops": [1] * 30_000}
    answer = refused(http.post(f"/v1/jobs/{uuid.uuid4()}/reoptimize", json=body, headers=headers))
    assert len(answer["errors"]) == MAX_ISSUES and answer["errors_omitted"] == 30_000 - MAX_ISSUES
    assert answer["errors"][0]["pointer"] == "/cancel_stops/0"


@pytest.mark.parametrize("path, value, pointer", [
    (("stops", 0, "demand"), [10**30], "/problem/stops/0/demand/0"),
    (("stops", 0, "time_windows"), [[0, 1e300]], "/problem/stops/0/time_windows/0/1"),
    (("vehicles", 0, "capacity"), [m.MAX_AMOUNT + 1], "/problem/vehicles/0/capacity/0"),
    (("vehicles", 0, "fixed_cost"), m.MAX_FIXED_COST * 10, "/problem/vehicles/0/fixed_cost"),
    (("options", "seed"), 2**40, "/problem/options/seed"),
])
def test_a_number_a_worker_cannot_handle_is_refused_at_the_door(http, auth, path, value, pointer):
    _, headers = auth()
    problem = copy.deepcopy(SMALL_PROBLEM)
    here = problem
    for part in path[:-1]:
        here = here.setdefault(part, {}) if isinstance(here, dict) else here[part]
    here[path[-1]] = value
    body = refused(http.post("/v1/jobs", json={"problem": problem}, headers=headers))
    assert pointer in pointers(body), body["errors"]


def test_metadata_and_webhook_urls_have_limits(http, auth):
    _, headers = auth()
    small = json.loads(json.dumps(SMALL_PROBLEM))
    found = pointers(refused(http.post("/v1/jobs", json={"problem": small, "metadata": BIG_METADATA},
                                       headers=headers)))
    assert "bytes as compact JSON" in found["/metadata"]
    just = {"notes": "x" * (MAX_METADATA_BYTES - len('{"notes":""}'))}
    assert http.post("/v1/jobs", json={"problem": small, "metadata": just}, headers=headers).status_code == 202
    url = "https://example.com/" + "a" * MAX_URL
    found = pointers(refused(http.post("/v1/jobs", json={"problem": small, "webhook": {"url": url}},
                                       headers=headers)))
    assert found["/webhook/url"] == f"must have at most {MAX_URL} characters (it has {len(url)})"


def test_a_batch_bounds_its_metadata_and_each_job_s(http, auth):
    _, headers = auth()
    body = {"jobs": [{"problem": SMALL_PROBLEM, "metadata": BIG_METADATA}], "metadata": BIG_METADATA}
    found = pointers(refused(http.post("/v1/batches", json=body, headers=headers)))
    assert {"/metadata", "/jobs/0/metadata"} <= set(found)


def test_a_batch_of_many_invalid_jobs_stops_at_the_cap_and_says_how_many_were_not_checked(http, auth, farm):
    client_id, headers = auth()
    bad = copy.deepcopy(SMALL_PROBLEM)
    bad["stops"][0]["service"] = -1
    bad["stops"][1]["service"] = -1
    jobs = 300
    body = refused(http.post("/v1/batches", json={"jobs": [{"problem": bad}] * jobs}, headers=headers))
    assert len(body["errors"]) == MAX_ISSUES and "errors_omitted" not in body
    checked = MAX_ISSUES // 2  # two errors a job
    assert body["jobs_unchecked"] == jobs - checked
    assert body["errors"][-1]["pointer"] == f"/jobs/{checked - 1}/problem/stops/1/service"
    assert f"{jobs - checked} job(s) not checked" in body["detail"]
    with farm.db.shard(farm.directory.shard_of(client_id)) as conn:
        assert conn.execute("SELECT count(*) FROM batches WHERE client_id = %s", (client_id,)).fetchone()[0] == 0


def test_a_batch_re_plan_of_unknown_jobs_stops_at_the_cap(http, auth):
    _, headers = auth()
    entries = [{"job_id": str(uuid.uuid4())} for _ in range(MAX_ISSUES + 20)]
    body = refused(http.post("/v1/batches/reoptimize", json={"jobs": entries, "changes": {"at": 0}},
                             headers=headers))
    # every entry is looked up (one read for all of them); the errors past the cap are counted
    assert len(body["errors"]) == MAX_ISSUES and body["errors_omitted"] == 20 and "jobs_unchecked" not in body
    assert body["errors"][0]["pointer"] == "/jobs/0/job_id"


def test_the_limits_are_documented(http):
    spec = http.get("/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    assert "errors_omitted" in schemas["ProblemDetails"]["properties"]
    assert schemas["ProblemDetails"]["properties"]["errors"]["anyOf"][0]["maxItems"] == MAX_ISSUES
    assert schemas["WebhookTarget"]["properties"]["url"]["maxLength"] == MAX_URL
    assert "16 KiB" in schemas["JobRequest"]["properties"]["metadata"]["description"]
    changes = schemas["ReoptimizeBody"]["properties"]
    assert all("maxItems" in changes[k] for k in ("vehicles", "add_stops", "cancel_stops", "update_stops"))


def test_a_body_of_too_many_arrays_is_refused_before_it_is_decoded(http, auth):
    from routefarm.untrusted import MAX_CONTAINERS

    _, headers = auth()
    problem = copy.deepcopy(SMALL_PROBLEM)
    problem["stops"][0]["time_windows"] = [[]] * MAX_CONTAINERS  # 3 bytes of text an array
    raw = json.dumps({"problem": problem}, separators=(",", ":")).encode()
    assert len(raw) < 4 * MAX_CONTAINERS  # well within the body size limit
    response = http.post("/v1/jobs", data=raw, headers={**headers, "Content-Type": "application/json"})
    assert response.status_code == 413 and response.mimetype == PROBLEM_JSON
    assert f"more than {MAX_CONTAINERS:,} JSON arrays and objects" in response.get_json()["detail"]
    problem["stops"][0]["time_windows"] = [[0, 10]] * 1000  # many, but not too many: the contract's 422
    assert pointers(refused(http.post("/v1/jobs", json={"problem": problem}, headers=headers))) == {
        "/problem/stops/0/time_windows": f"must have at most {m.MAX_WINDOWS} items (it has 1000)"}
