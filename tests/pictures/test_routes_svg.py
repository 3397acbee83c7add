"""GET /v1/jobs/{id}/routes.svg and GET /v1/farm against real Postgres and Redis (no worker)."""

import time

from picture_support import MATRIX_PROBLEM, SVG_NS, parse_svg, route_paths, title, unassigned_marks
from support import finish_job

from optimizer import parse_problem
from optimizer.engines import engine

PROBLEM_JSON = "application/problem+json"


def submit(http, headers, problem=MATRIX_PROBLEM) -> str:
    response = http.post("/v1/jobs", json={"problem": problem}, headers=headers)
    assert response.status_code == 202, response.get_data(as_text=True)
    return response.get_json()["id"]


def solved_job(http, auth, farm) -> tuple[str, dict, str, dict]:
    """A new client's job, solved: (client id, headers, job id, solution)."""
    client_id, headers = auth()
    job_id = submit(http, headers)
    solution = engine("ortools").solve(parse_problem(MATRIX_PROBLEM)).to_json_dict()
    finish_job(farm, client_id, job_id, solution)
    return client_id, headers, job_id, solution


def test_a_solved_job_is_drawn(http, auth, farm):
    _, headers, job_id, solution = solved_job(http, auth, farm)
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
    finish_job(farm, owner_id, job_id, engine("ortools").solve(parse_problem(MATRIX_PROBLEM)).to_json_dict())
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
    from routefarm.observability import scaler as record
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


def _plan(problem: dict, vehicles: int = 1) -> dict:
    """A hand-made solution serving every stop, round-robin over the first ``vehicles``."""
    stops = [s["id"] for s in problem["stops"]]
    routes = [{"vehicle_id": problem["vehicles"][v]["id"], "distance": 0, "steps": [
        {"type": "start"}, *({"type": "stop", "id": s} for s in stops[v::vehicles]), {"type": "end"}]}
        for v in range(vehicles)]
    return {"status": "feasible", "summary": {}, "routes": routes, "unassigned": []}


def _grid_problem(places: int) -> dict:
    """``places`` places on a grid, as a matrix problem (integer metres)."""
    side = int(places ** 0.5) + 1
    xy = [(i % side * 100, i // side * 100) for i in range(places)]
    cells = [[round(((ax - bx) ** 2 + (ay - by) ** 2) ** 0.5) for bx, by in xy] for ax, ay in xy]
    return {"vehicles": [{"id": f"v{v}", "start_index": 0, "end_index": 0} for v in range(3)],
            "stops": [{"id": f"s{i}", "location_index": i} for i in range(1, places)],
            "matrix": {"distances": cells}, "options": {"time_limit": 0.3}}


def test_an_ended_jobs_picture_is_drawn_once_then_served_from_the_cache(http, auth, farm, databases):
    import psycopg
    from psycopg.types.json import Jsonb

    client_id, headers, job_id, solution = solved_job(http, auth, farm)
    first = http.get(f"/v1/jobs/{job_id}/routes.svg", headers=headers)
    assert first.status_code == 200
    key = f"rf:svg:{job_id}"
    assert farm.cache.client.exists(key) and 0 < farm.cache.client.ttl(key) <= farm.settings.cache_ttl_s
    # the drawing is not done again: a changed row (nothing changes an ended job's) is not read
    shard = farm.directory.shard_of(client_id)
    with psycopg.connect(databases[shard]) as conn:
        conn.execute("UPDATE jobs SET solution = %s WHERE id = %s",
                     (Jsonb({**solution, "routes": [], "unassigned": []}), job_id))
    for query in ("", "?geometry=false", "?cache_buster=1"):  # the same picture: one cache entry
        again = http.get(f"/v1/jobs/{job_id}/routes.svg{query}", headers=headers)
        assert again.status_code == 200 and again.get_data() == first.get_data()
        assert again.headers["Content-Security-Policy"] == first.headers["Content-Security-Policy"]
    assert farm.cache.client.hlen(key) == 1
    _, stranger = auth("stranger")  # a cached picture is its client's only
    assert http.get(f"/v1/jobs/{job_id}/routes.svg", headers=stranger).status_code == 404
    farm.cache.forget([job_id])  # purged with the job
    redrawn = http.get(f"/v1/jobs/{job_id}/routes.svg", headers=headers)
    assert len(route_paths(parse_svg(redrawn.get_data(as_text=True)))) == 0


def test_a_large_plan_is_drawn_with_every_place(http, auth, farm):
    problem = _grid_problem(700)
    client_id, headers = auth()
    job_id = submit(http, headers, problem)
    finish_job(farm, client_id, job_id, _plan(problem, vehicles=3))
    response = http.get(f"/v1/jobs/{job_id}/routes.svg", headers=headers)
    assert response.status_code == 200
    svg = response.get_data(as_text=True)
    root = parse_svg(svg)
    assert len(route_paths(root)) == 3
    assert len([c for c in root.iter(f"{SVG_NS}circle") if c.get("class") == "stop"]) == 699
    assert len(svg) < 700 * 300  # a few hundred bytes a place, no label past 60 places
    assert not [t for t in root.iter(f"{SVG_NS}text") if t.get("class") == "label"]


def test_a_plan_beyond_the_picture_limit_is_refused_with_a_problem_document(settings, client_factory):
    from api import create_app
    from routefarm.farm import Farm

    limited = settings.model_copy(update={"picture_max_places": 100})
    farm = Farm(limited).open(wait=True)
    app = create_app(limited, farm)
    try:
        http = app.test_client()
        problem = _grid_problem(150)
        client_id, key = client_factory("big")
        headers = {"Authorization": f"Bearer {key}"}
        job_id = submit(http, headers, problem)
        finish_job(farm, client_id, job_id, _plan(problem))
        response = http.get(f"/v1/jobs/{job_id}/routes.svg", headers=headers)
        assert response.status_code == 422 and response.mimetype == PROBLEM_JSON
        body = response.get_json()
        assert body["type"].endswith("/picture-too-large")
        assert (body["places"], body["max_places"]) == (150, 100) and "100" in body["detail"]
        assert not farm.cache.client.exists(f"rf:svg:{job_id}")
    finally:
        app.extensions["routefarm.waiter"].stop()
        farm.close()
