"""The SSRF table through the API: every field that takes a webhook URL (an endpoint's,
created or changed; a job's, a batch's and a batch job's one-off target; a batch
re-optimization's) refuses each kind of forbidden address with 422 and a pointer at the
field, creates and changes nothing, and admits a public address. The guard itself, address
by address, is tested in ``tests/webhooks/test_ssrf.py``; delivery-time checks in
``tests/webhooks/test_delivery.py``."""

from __future__ import annotations

import threading
import time

import pytest
from support import PUBLIC_HOOK, SMALL_PROBLEM, assert_problem_json, seed_resources

FORBIDDEN = [
    ("http://127.0.0.1:8000/", "loopback"),
    ("http://127.1/", "loopback"),  # short form
    ("http://0x7f.1/", "loopback"),  # hexadecimal form
    ("http://2130706433/", "loopback"),  # one integer
    ("http://localhost:9000/hook", "loopback"),  # a name that resolves to loopback
    ("http://[::1]/", "loopback"),
    ("http://[::ffff:127.0.0.1]/", "loopback"),  # IPv4-mapped
    ("http://169.254.169.254/latest/meta-data/", "link-local"),  # cloud metadata
    ("http://[fe80::1]/", "link-local"),
    ("http://10.0.0.1/", "private"),
    ("http://172.16.5.4/", "private"),
    ("http://192.168.0.1/", "private"),
    ("http://[fd00::1]/", "private"),
    ("http://100.64.0.1/", "CGNAT"),
    ("http://0.0.0.0/", "unspecified"),
    ("http://224.0.0.1/", "multicast"),
    ("http://240.0.0.1/", "reserved"),
    ("http://[2002:a9fe:a9fe::]/", "link-local"),  # 6to4 of the metadata address
    ("http://[64:ff9b::a00:1]/", "private"),  # NAT64 of 10.0.0.1
    ("http://[2001:0:4136:e378:8000:63bf:f5ff:fffe]/", "private"),  # Teredo of 10.0.0.1
    ("http://user:pw@93.184.216.34/", "credentials"),
    ("file:///etc/passwd", "http or https"),
    ("gopher://93.184.216.34/", "http or https"),
    ("http://hooks.invalid/", "does not resolve"),
]


def bodies(url: str, job_id: str) -> list[tuple[str, str, dict, str]]:
    """(method, path, body, pointer) of every place a webhook URL goes."""
    job = {"problem": SMALL_PROBLEM}
    return [
        ("post", "/v1/webhooks/endpoints", {"url": url}, "/url"),
        ("patch", "/v1/webhooks/endpoints/{endpoint_id}", {"url": url}, "/url"),
        ("post", "/v1/jobs", {**job, "webhook": {"url": url}}, "/webhook/url"),
        ("post", "/v1/batches", {"jobs": [job], "webhook": {"url": url}}, "/webhook/url"),
        ("post", "/v1/batches", {"jobs": [job, {**job, "webhook": {"url": url}}]}, "/jobs/1/webhook/url"),
        ("post", "/v1/batches/reoptimize", {"jobs": [{"job_id": job_id}], "changes": {"at": 0},
                                            "webhook": {"url": url}}, "/webhook/url"),
    ]


@pytest.fixture
def client(http, auth, farm):
    client_id, headers = auth("ssrf")
    return headers, seed_resources(http, farm, client_id, headers)


def state(http, headers) -> tuple:
    """What the client has: its endpoints and its jobs."""
    return (http.get("/v1/webhooks/endpoints", headers=headers).get_json(),
            http.get("/v1/jobs?limit=100", headers=headers).get_json())


@pytest.mark.parametrize(("url", "why"), FORBIDDEN)
def test_every_url_field_refuses_forbidden_targets(http, client, url, why):
    headers, ids = client
    before = state(http, headers)
    for method, path, body, pointer in bodies(url, ids["job_id"]):
        response = getattr(http, method)(path.format(**ids), json=body, headers=headers)
        problem = assert_problem_json(response, 422)
        details = {e["pointer"]: e["detail"] for e in problem["errors"]}
        assert why in details.get(pointer, ""), (path, pointer, details)
    assert state(http, headers) == before  # nothing was created or changed


def test_every_url_field_admits_a_public_address(http, client):
    headers, ids = client
    for method, path, body, _ in bodies(PUBLIC_HOOK, ids["job_id"]):
        response = getattr(http, method)(path.format(**ids), json=body, headers=headers)
        assert response.status_code in (200, 201, 202), (path, response.get_json())


def _batch_of_hosts(hosts: list[str]) -> dict:
    return {"jobs": [{"problem": SMALL_PROBLEM, "webhook": {"url": f"https://{h}/hook"}} for h in hosts]}


def test_a_batch_naming_a_thousand_unresolvable_hosts_is_refused_at_every_job(http, auth, farm):
    _, headers = auth("dns")
    before = http.get("/v1/jobs?limit=1", headers=headers).get_json()
    hosts = [f"hook-{i}.invalid" for i in range(1000)]  # the system resolver: no such names
    began = time.monotonic()
    response = http.post("/v1/batches", json=_batch_of_hosts(hosts), headers=headers)
    took = time.monotonic() - began
    problem = assert_problem_json(response, 422)
    assert took < farm.settings.webhook_resolve_deadline_s + 1, took
    pointers = {e["pointer"]: e["detail"] for e in problem["errors"]}  # every job's, the first 100 listed
    assert set(pointers) == {f"/jobs/{i}/webhook/url" for i in range(100)}
    assert problem["errors_omitted"] == 900
    assert all("does not resolve" in d or "did not resolve" in d for d in pointers.values())
    assert http.get("/v1/jobs?limit=1", headers=headers).get_json() == before


def test_a_silent_dns_server_holds_a_batch_for_one_deadline(http, auth, farm):
    """Hosts whose lookups never answer (a resolver that waits, as getaddrinfo does on a DNS
    server that drops queries): the request answers at its deadline, not per host."""
    from routefarm.webhooks.lookup import HostCache, Targets

    release = threading.Event()

    def silent(host: str, port: int) -> list[str]:
        release.wait(20)
        raise OSError("no answer")

    farm.webhook_targets = Targets(farm.webhook_allowlist, 1.0, HostCache(silent))
    _, headers = auth("dns-silent")
    try:
        began = time.monotonic()
        response = http.post("/v1/batches", json=_batch_of_hosts([f"h{i}.example" for i in range(1000)]),
                             headers=headers)
        took = time.monotonic() - began
    finally:
        release.set()
    problem = assert_problem_json(response, 422)
    assert took < 1.0 + 1, took
    assert len(problem["errors"]) + problem["errors_omitted"] == 1000  # the first 100 listed
    assert all("did not resolve within 1 s" in e["detail"] for e in problem["errors"])
