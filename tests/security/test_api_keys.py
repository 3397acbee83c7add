"""API keys: only a SHA-256 of each key is stored (no table of the directory or of a shard
holds the key itself), revoked and near-miss keys are refused, and no key reaches a log
line: a real gunicorn at DEBUG level is sent good, wrong and malformed keys on success
and error paths, and its log is searched for each of them."""

from __future__ import annotations

import hashlib
import http.client
import json

import psycopg
from support import SMALL_PROBLEM, assert_problem_json

from routefarm.db.directory import KEY_PREFIX, hash_key


def every_row_as_text(url: str) -> str:
    """Every row of every table of a database, as JSON text."""
    with psycopg.connect(url) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT quote_ident(table_name) FROM information_schema.tables WHERE table_schema = 'public'")]
        return "\n".join(r[0] for t in tables for r in conn.execute(f"SELECT row_to_json(t)::text FROM {t} t"))


def test_only_a_hash_of_each_key_is_stored(farm, client_factory, databases, http):
    client_id, key = client_factory("hashed")
    extra = farm.directory.add_key(client_id)
    headers = {"Authorization": f"Bearer {key}"}
    assert http.post("/v1/jobs", json={"problem": SMALL_PROBLEM}, headers=headers).status_code == 202
    assert key.startswith(KEY_PREFIX) and len(key) >= len(KEY_PREFIX) + 43  # 256 random bits
    with psycopg.connect(databases["directory"]) as conn:
        columns = {r[0]: r[1] for r in conn.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'api_keys'")}
        stored = {bytes(r[0]) for r in conn.execute("SELECT key_hash FROM api_keys WHERE client_id = %s",
                                                    (client_id,))}
    assert columns == {"key_hash": "bytea", "client_id": "text", "created_at": "timestamp with time zone",
                       "revoked_at": "timestamp with time zone"}
    assert stored == {hashlib.sha256(k.encode()).digest() for k in (key, extra)} == {hash_key(key), hash_key(extra)}
    for url in databases.values():
        text = every_row_as_text(url)
        for secret in (key, extra, key[len(KEY_PREFIX):]):
            assert secret not in text, url


def test_revoked_wrong_and_malformed_keys_are_refused(farm, client_factory, databases, http):
    client_id, key = client_factory("revoked")
    with psycopg.connect(databases["directory"]) as conn:
        conn.execute("UPDATE api_keys SET revoked_at = now() WHERE client_id = %s", (client_id,))
    _, good = client_factory("good")
    refused = [f"Bearer {key}", f"Bearer {good[:-1]}", f"Bearer {good}x", f"Bearer {good.upper()}",
               f"Basic {good}", good, f"Bearer {hashlib.sha256(good.encode()).hexdigest()}", "Bearer ",
               f"Bearer {good[len(KEY_PREFIX):]}"]
    for header in refused:
        response = http.get("/v1/jobs", headers={"Authorization": header})
        assert_problem_json(response, 401)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert good not in response.get_data(as_text=True)
    assert http.get("/v1/jobs", headers={"Authorization": f"Bearer {good}"}).status_code == 200


def request(port: int, method: str, path: str, headers: dict, body: bytes | None = None) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def test_keys_never_reach_the_log(processes, client_factory, tmp_path):
    processes.env["ROUTEFARM_LOG_LEVEL"] = "DEBUG"
    processes.web()
    _, key = client_factory("logged")
    wrong = key[:-4] + "abcd"
    port = processes.port
    bearer = {"Authorization": f"Bearer {key}"}
    as_json = {**bearer, "Content-Type": "application/json"}
    sent = [
        ("POST", "/v1/jobs", as_json, json.dumps({"problem": SMALL_PROBLEM}).encode(), 202),
        ("POST", "/v1/jobs", as_json, b'{"problem": {"vehicles": []}}', 422),
        ("POST", "/v1/jobs", as_json, b"{not json", 400),
        ("GET", "/v1/jobs/not-a-uuid", bearer, None, 404),
        ("GET", "/v1/jobs?limit=0", bearer, None, 400),
        ("PUT", "/v1/jobs", bearer, None, 405),
        ("GET", "/v1/farm", bearer, None, 200),
        ("GET", "/v1/jobs", {"Authorization": f"Bearer {wrong}"}, None, 401),
        ("GET", "/v1/jobs", {"Authorization": f"Basic {key}"}, None, 401),
        ("GET", "/v1/jobs", {"Authorization": key}, None, 401),
        ("GET", f"/v1/jobs?api_key={key}", {}, None, 401),  # a key sent where it does not belong
    ]
    for method, path, headers, body, status in sent:
        assert request(port, method, path, headers, body) == status, (method, path)
    processes.stop_all()
    log = (tmp_path / "web.log").read_text()
    assert '"level": "debug"' in log or '"level": "info"' in log  # the process did log
    for secret in (key, wrong, key[len(KEY_PREFIX):], hash_key(key).hex()):
        assert secret not in log
