"""GET /v1/jobs/{id}/routes.svg and GET /v1/farm against real Postgres and Redis (no worker)."""

import time

from picture_support import MATRIX_PROBLEM, SVG_NS, parse_svg, route_paths, title, unassigned_marks
from support import finish_job

from optimizer import parse_problem, solve

PROBLEM_JSON = "application/problem+json"


def submit(http, headers, problem=MATRIX_PROBLEM) -> str:
    response = http.post("/v1/jobs", json={"problem": problem}, headers=headers)
    assert response.status_code == 202, response.get_data(as_text=True)
    return response.get_json()["id"]


def test_a_solved_job_is_drawn(http, auth, farm):
    client_id, headers = auth()
    job_id = submit(http, headers)
    solution = solve(parse_problem(MATRIX_PROBLEM)).to_json_dict()
    finish_job(farm, client_id, job_id, solution)
    response = http.get(f"/v1/jobs/{job_id}/routes.svg", headers=headers)
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    root = parse_svg(response.get_data(as_text=True))
    assert len(route_paths(root)) == len(solution["routes"]) >= 1
    assert set(unassigned_marks(root)) == {u["id"] for u in solution["unassigned"]} == {"far"}
    assert "multidimensional scaling" in title(root)
    assert root.find(f"{SVG_NS}title") is not None


def test_before_a_solution_the_picture_is_a_conflict(http, auth):
    _, headers = auth()
    job_id = submit(http, headers)
    response = http.get(f"/v1/jobs/{job_id}/routes.svg", headers=headers)
    assert response.status_code == 409
    assert response.mimetype == PROBLEM_JSON
    body = response.get_json()
    assert body["job_status"] == "queued" and body["type"].endswith("job-has-no-solution")


def test_another_clients_picture_is_not_found(http, auth, farm):
    owner_id, owner = auth("owner")
    _, stranger = auth("stranger")
    job_id = submit(http, owner)
    finish_job(farm, owner_id, job_id, solve(parse_problem(MATRIX_PROBLEM)).to_json_dict())
    assert http.get(f"/v1/jobs/{job_id}/routes.svg", headers=owner).status_code == 200
    response = http.get(f"/v1/jobs/{job_id}/routes.svg", headers=stranger)
    assert response.status_code == 404 and response.mimetype == PROBLEM_JSON
    assert http.get("/v1/jobs/not-a-uuid/routes.svg", headers=owner).status_code == 404
    assert http.get(f"/v1/jobs/{job_id}/routes.svg").status_code == 401


def test_farm_status_reports_the_queue_and_nulls_what_is_not_measured(http, auth):
    """No autoscaler and no worker here: workers live 0, desired, max and lag unknown."""
    _, headers = auth()
    assert http.get("/v1/farm").status_code == 401
    before = http.get("/v1/farm", headers=headers).get_json()
    submit(http, headers)
    submit(http, headers, {**MATRIX_PROBLEM, "options": {"time_limit": 0.4}})
    body = http.get("/v1/farm", headers=headers).get_json()
    assert body == {"workers": {"current": 0, "desired": None, "max": None},
                    "queue_depth": before["queue_depth"] + 2, "kafka_lag": None, "jobs_per_s": 0.0}


def test_farm_status_reads_the_autoscaler_and_the_finished_jobs(http, auth, farm):
    from routefarm.autoscale import record
    from routefarm.observability import throughput

    _, headers = auth()
    for _ in range(3):
        throughput.count_finished(farm.cache.client, time.time() - 2)
    record.publish(farm.cache.client, record.ScalerRecord(current=2, desired=4, max=4, queue_depth=9,
                                                          kafka_lag=5, jobs_per_s=0.1))
    body = http.get("/v1/farm", headers=headers).get_json()
    assert body["workers"] == {"current": 2, "desired": 4, "max": 4}
    assert body["kafka_lag"] == 5 and body["jobs_per_s"] == round(3 / throughput.WINDOW, 3)
    record.clear(farm.cache.client)
    assert http.get("/v1/farm", headers=headers).get_json()["workers"]["desired"] is None


def test_the_status_page_is_self_contained(http):
    response = http.get("/")
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "http://" not in html and "https://" not in html  # nothing from a CDN
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'sha256-" in csp and "connect-src 'self'" in csp


def test_openapi_documents_the_picture_the_farm_and_the_page(http):
    paths = http.get("/openapi.json").get_json()["paths"]
    svg = paths["/v1/jobs/{job_id}/routes.svg"]["get"]["responses"]
    assert "image/svg+xml" in svg["200"]["content"] and "409" in svg
    assert "/v1/farm" in paths and "/" in paths
