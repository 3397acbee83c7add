"""``routefarm clients revoke`` and ``clients rotate``: a revoked key is refused (401) on the
very next request, through the Flask app over a real farm and through a real gunicorn whose
workers had just accepted it; a rotation prints a new key that works and refuses the old
ones now or once the grace period ends."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from datetime import datetime

from click.testing import CliRunner
from support import ROOT, assert_problem_json, settings_env

from routefarm.cli.main import main
from routefarm.db.directory import hash_key

GRACE_S = 4.0


def cli(farm, *args: str):
    result = CliRunner().invoke(main, ["clients", *args], env=settings_env(farm.settings))
    return result


def status(http, key: str) -> int:
    return http.get("/v1/jobs", headers={"Authorization": f"Bearer {key}"}).status_code


def new_key_of(output: str) -> str:
    return re.search(r"^api key: (\S+)$", output, re.M).group(1)


def test_a_revoked_key_is_refused_on_the_next_request(http, farm, client_factory):
    client_id, key = client_factory("leaky")
    second = farm.directory.add_key(client_id)
    _, bystander = client_factory("bystander")
    for k in (key, second, bystander):
        assert status(http, k) == 200  # verified, and now trusted from the cache
    assert farm.cache.key_owner(hash_key(key)) == client_id
    done = cli(farm, "revoke", client_id)
    assert done.exit_code == 0, done.output
    assert f"{client_id}: 2 key(s) revoked" in done.output
    for k in (key, second):
        response = http.get("/v1/jobs", headers={"Authorization": f"Bearer {k}"})
        assert_problem_json(response, 401)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert status(http, bystander) == 200  # another client's key is untouched
    unknown = cli(farm, "revoke", "c_nobody")
    assert unknown.exit_code == 2 and "no client 'c_nobody'" in unknown.output


def test_rotate_prints_a_new_key_and_refuses_the_old_one_at_once(http, farm, client_factory):
    client_id, old = client_factory("rotated")
    assert status(http, old) == 200
    done = cli(farm, "rotate", client_id)
    assert done.exit_code == 0, done.output
    new = new_key_of(done.output)
    assert new != old and f"{client_id}: 1 old key(s) refused now" in done.output
    assert status(http, old) == 401
    assert status(http, new) == 200
    again = cli(farm, "rotate", client_id, "--grace", "-5")
    assert again.exit_code == 2 and "0 refuses the old keys now" in again.output
    assert status(http, new) == 200  # a refused rotation changed nothing


def test_with_a_grace_the_old_key_works_until_the_grace_ends(http, farm, client_factory):
    client_id, old = client_factory("graced")
    assert status(http, old) == 200  # trusted from the cache from here on
    done = cli(farm, "rotate", client_id, "--grace", f"{GRACE_S:g}s")
    assert done.exit_code == 0, done.output
    new = new_key_of(done.output)
    until = datetime.fromisoformat(re.search(r"accepted until (\S+)$", done.output, re.M).group(1))
    ends = time.monotonic() + (until - datetime.now(until.tzinfo)).total_seconds()
    assert status(http, new) == 200
    accepted = 0
    while time.monotonic() < ends - 1.0:  # well inside the grace
        assert status(http, old) == 200
        accepted += 1
        time.sleep(0.2)
    assert accepted >= 3
    time.sleep(max(0.0, ends - time.monotonic()) + 0.5)
    assert status(http, old) == 401
    assert status(http, new) == 200


def _call(port: int, key: str) -> int:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", "/v1/jobs", headers={"Authorization": f"Bearer {key}"})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def _cli_process(farm, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "routefarm", "clients", *args], cwd=ROOT,
                          env=settings_env(farm.settings), capture_output=True, text=True, timeout=60)


def test_every_gunicorn_worker_refuses_a_key_once_it_is_revoked(processes, farm, client_factory):
    processes.web()  # two worker processes, each having accepted the keys before the change
    revoked_id, revoked = client_factory("revoked-under-gunicorn")
    rotated_id, rotated = client_factory("rotated-under-gunicorn")
    port = processes.port
    for key in (revoked, rotated):
        assert [_call(port, key) for _ in range(8)] == [200] * 8
    done = _cli_process(farm, "revoke", revoked_id)
    assert done.returncode == 0, done.stderr
    assert [_call(port, revoked) for _ in range(8)] == [401] * 8
    done = _cli_process(farm, "rotate", rotated_id)
    assert done.returncode == 0, done.stderr
    new = new_key_of(done.stdout)
    assert [_call(port, rotated) for _ in range(8)] == [401] * 8
    assert [_call(port, new) for _ in range(8)] == [200] * 8
