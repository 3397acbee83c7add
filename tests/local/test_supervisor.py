"""The local farm's supervisor with real processes: prefixed output, restarts, graceful stop."""

from __future__ import annotations

import os
import signal
import sys
import time

import pytest
from farmtools import alive

from routefarm.local.common import FarmError
from routefarm.local.procfile import formation, parse_procfile
from routefarm.local.supervisor import shell_command

PY = sys.executable
# prints its pid, then waits; on SIGTERM says so and exits 0
WAITER = (f"{PY} -c \"import os, signal, sys, time; "
          "signal.signal(signal.SIGTERM, lambda *a: (print('got TERM', flush=True), sys.exit(0))); "
          "print('pid', os.getpid(), flush=True); time.sleep(300)\"")
STUBBORN = (f"{PY} -c \"import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
            "print('ignoring TERM', flush=True); time.sleep(300)\"")


def test_procfile_lines_comments_and_errors():
    text = "# the farm\nweb: gunicorn app:app\n\nworker:dramatiq  x --processes 1 \n"
    assert parse_procfile(text) == {"web": "gunicorn app:app", "worker": "dramatiq  x --processes 1"}
    with pytest.raises(FarmError, match=r"Procfile:2: not a 'name: command' line"):
        parse_procfile("web: a\njust words\n")
    with pytest.raises(FarmError, match="defined twice"):
        parse_procfile("web: a\nweb: b\n")


def test_formation_gives_web_its_port_and_scales_workers():
    specs = formation({"web": "w", "stream": "s", "worker": "k", "release": "r"}, workers=3, port=8123)
    assert [s.name for s in specs] == ["web.1", "stream.1", "worker.1", "worker.2", "worker.3"]
    assert specs[0].env == {"PORT": "8123"} and specs[2].env == {}
    with pytest.raises(FarmError, match="no stream"):
        formation({"web": "w", "worker": "k"}, workers=1, port=1)


def test_formation_runs_the_webhook_process_once():
    specs = formation({"web": "w", "stream": "s", "worker": "k", "webhook": "h"}, workers=2, port=8123)
    assert [s.name for s in specs] == ["web.1", "stream.1", "worker.1", "worker.2", "webhook.1"]
    assert specs[-1].command == "h"


@pytest.mark.parametrize(("line", "script"), [
    ("gunicorn -c x app:app", "exec gunicorn -c x app:app"),
    ("A=1 B='x y' dramatiq m:setup", "A=1 B='x y' exec dramatiq m:setup"),
    ("python -c \"import a; a.b()\"", "exec python -c \"import a; a.b()\""),
    ("migrate && serve", "migrate && serve"),
    ("producer | consumer", "producer | consumer"),
])
def test_simple_commands_are_exec_ed(line, script):
    assert shell_command(line) == ["/bin/sh", "-c", script]


def test_output_is_prefixed_with_the_process_name(supervise):
    farm = supervise(f"hello: {PY} -c \"import sys; print('hi there'); print('on stderr', file=sys.stderr)\"\n"
                     f"waiter: {WAITER}\n")
    for line in (r"hello\.1 +\| hi there", r"hello\.1 +\| on stderr", r"waiter\.1 +\| pid \d+",
                 r"system +\| hello\.1 exited \(exit code 0\); restarting in 1 s"):
        farm.wait_for(rf"^\d\d:\d\d:\d\d {line}$", anywhere=True)


def test_a_killed_process_comes_back_with_a_new_pid(supervise):
    farm = supervise(f"waiter: {WAITER}\n")
    first = int(farm.wait_for(r"waiter\.1 started \(pid (\d+)\)")[1])
    assert int(farm.wait_for(r"waiter\.1 +\| pid (\d+)")[1]) == first  # exec: the pid is the command's
    os.kill(first, signal.SIGKILL)
    farm.wait_for(r"waiter\.1 exited \(killed by SIGKILL\); restarting in 1 s")
    second = int(farm.wait_for(r"waiter\.1 started \(pid (\d+)\)", timeout=5)[1])
    assert second != first
    assert int(farm.wait_for(r"waiter\.1 +\| pid (\d+)")[1]) == second
    assert alive(second) and not alive(first)


def test_restarts_back_off_from_one_second_doubling(supervise):
    farm = supervise(f"crash: {PY} -c \"import sys; sys.exit(3)\"\n")
    started = time.monotonic()
    for delay in ("1", "2", "4"):
        farm.wait_for(rf"crash\.1 exited \(exit code 3\); restarting in {delay} s", timeout=10)
    assert time.monotonic() - started >= 3  # waited 1 s and 2 s between the three runs


def test_sigterm_reaches_every_process_and_the_supervisor_exits_0(supervise):
    farm = supervise(f"one: {WAITER}\ntwo: {WAITER}\n"
                     "family: sh -c 'sleep 300 & echo grandchild $!; wait'\n")
    farm.wait_for(r"one\.1 +\| pid", anywhere=True)
    farm.wait_for(r"two\.1 +\| pid", anywhere=True)
    grandchild = int(farm.wait_for(r"family\.1 +\| grandchild (\d+)", anywhere=True)[1])
    children = farm.child_pids()
    farm.send(signal.SIGTERM)
    assert farm.wait(20) == 0
    text = farm.text
    assert "one.1    | got TERM" in text and "two.1    | got TERM" in text
    assert "one.1 stopped (exit code 0)" in text and "supervisor done" in text
    time.sleep(0.2)
    assert not any(alive(pid) for pid in [*children, grandchild])  # the whole group went


def test_stragglers_are_killed_after_the_grace_period(supervise):
    farm = supervise(f"stubborn: {STUBBORN}\n", grace=1.0)
    farm.wait_for(r"stubborn\.1 +\| ignoring TERM")
    pid = farm.child_pids()[0]
    started = time.monotonic()
    farm.send(signal.SIGINT)
    assert farm.wait(15) == 0
    assert 1.0 <= time.monotonic() - started < 10
    assert "sending SIGKILL to stubborn.1" in farm.text
    assert "stubborn.1 stopped (killed by SIGKILL)" in farm.text
    assert not alive(pid)


def test_a_second_signal_hurries(supervise):
    farm = supervise(f"stubborn: {STUBBORN}\n", grace=60.0)
    farm.wait_for(r"stubborn\.1 +\| ignoring TERM")
    started = time.monotonic()
    farm.send(signal.SIGINT)
    farm.wait_for("sending SIGTERM to 1 process")
    farm.send(signal.SIGINT)
    assert farm.wait(15) == 0
    assert time.monotonic() - started < 10
    assert "sending SIGKILL to stubborn.1" in farm.text
