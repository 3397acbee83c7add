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


def test_formation_gives_web_its_port_and_leaves_workers_to_the_autoscaler():
    specs = formation({"web": "w", "stream": "s", "worker": "k", "release": "r"}, port=8123)
    assert [s.name for s in specs] == ["web.1", "stream.1"]
    assert specs[0].env == {"PORT": "8123", "HOST": "127.0.0.1"} and specs[1].env == {}
    with pytest.raises(FarmError, match="no stream"):
        formation({"web": "w", "worker": "k"}, port=1)
    with pytest.raises(FarmError, match="no worker"):
        formation({"web": "w", "stream": "s"}, port=1)


def test_formation_runs_the_webhook_process_once():
    specs = formation({"web": "w", "stream": "s", "worker": "k", "webhook": "h"}, port=8123)
    assert [s.name for s in specs] == ["web.1", "stream.1", "webhook.1"]
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


def test_processes_added_and_retired_while_the_others_run():
    """The autoscaler's replicas: a retired process gets SIGTERM once, is not restarted, and
    is SIGKILLed after the grace period if it does not stop."""
    import io

    from routefarm.local.output import Output
    from routefarm.local.supervisor import ProcessSpec, Supervisor

    stream = io.StringIO()
    changes = []
    supervisor = Supervisor([ProcessSpec("web.1", WAITER)], output=Output(stream, color=False), grace=1.0,
                            on_change=lambda pids: changes.append(sorted(pids)))

    def settle(predicate, timeout=30.0):  # generous: a loaded machine starts Python slowly
        deadline = time.monotonic() + timeout
        while not predicate():
            assert time.monotonic() < deadline, stream.getvalue()
            supervisor.poll()
            time.sleep(0.05)

    try:
        supervisor.start()
        supervisor.add(ProcessSpec("worker.1", WAITER))
        supervisor.add(ProcessSpec("worker.2", STUBBORN))
        with pytest.raises(ValueError, match="exists"):
            supervisor.add(ProcessSpec("worker.1", WAITER))
        settle(lambda: "worker.1 | pid" in stream.getvalue() and "ignoring TERM" in stream.getvalue())
        assert [c.spec.name for c in supervisor.serving("worker")] == ["worker.1", "worker.2"]
        assert changes[-1] == ["web.1", "worker.1", "worker.2"]

        supervisor.retire("worker.1")
        assert [c.spec.name for c in supervisor.serving("worker")] == ["worker.2"]
        settle(lambda: "worker.1 stopped (exit code 0)" in stream.getvalue())
        assert "worker.1 | got TERM" in stream.getvalue() and "restarting" not in stream.getvalue()
        assert changes[-1] == ["web.1", "worker.2"]

        retired = supervisor.pids()["worker.2"]
        supervisor.retire("worker.2")
        settle(lambda: "worker.2 stopped (killed by SIGKILL)" in stream.getvalue())
        assert "sending SIGKILL to worker.2" in stream.getvalue() and not alive(retired)
        assert [c.spec.name for c in supervisor.children] == ["web.1"]
        supervisor.add(ProcessSpec("worker.1", WAITER))  # a name can be used again
        settle(lambda: stream.getvalue().count("worker.1 | pid") == 2)
    finally:
        codes = supervisor.stop()
    assert codes == {"web.1": 0, "worker.1": 0}


def test_the_status_line_stays_under_the_log_lines():
    import io
    import re

    from routefarm.local.output import Output

    stream = io.StringIO()
    out = Output(stream, color=False, live=True)
    out.status("queue 1")
    out.line("web.1", "hello")
    out.status("queue 2")
    out.clear_status()
    clear = re.escape("\r\x1b[K")
    assert re.fullmatch(rf"{clear}queue 1{clear}\d\d:\d\d:\d\d web\.1  \| hello\nqueue 1{clear}queue 2{clear}",
                        stream.getvalue()), repr(stream.getvalue())
    plain = io.StringIO()
    Output(plain, live=False).status("queue 3")  # not a terminal: the caller prints lines instead
    assert plain.getvalue() == ""


def test_the_package_carries_the_procfile():
    """An install that is not a checkout (pip install routefarm) runs `routefarm up` from the
    package's copy: it must be the Procfile."""
    from pathlib import Path

    import routefarm.local.procfile as module

    root = Path(module.__file__).resolve().parents[2]
    assert (Path(module.__file__).parent / "Procfile").read_text() == (root / "Procfile").read_text()
