"""The solve runner: a search in a supervised child process, over real processes and signals."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from runner_support import coordinate_problem, matrix_problem
from support import alive, descendants, solver_children

from optimizer import Limits, check, parse_problem
from routefarm.runner import Runner
from routefarm.runner.memory import default_limit, usage

ROOT = Path(__file__).resolve().parents[2]
METHODS = ("fork", "forkserver")


@pytest.fixture(scope="module", params=METHODS)
def runner(request):
    runner = Runner(default_limit(), method=request.param)
    runner.start()
    return runner


def test_incumbents_stream_decoded_and_the_result_is_the_best(runner):
    data = matrix_problem(60, time_limit=1.5)
    seen = []
    started = time.monotonic()
    result = runner.solve(data, time_limit=1.5, started=started, on_incumbent=seen.append)
    wall = time.monotonic() - started
    assert result.failure is None and result.stopped is None
    assert wall < 1.5 + 0.5, "the time limit counts from `started`, child start included"
    assert seen and result.incumbents == len(seen)
    objectives = [s["objective"] for s in seen]
    assert objectives == sorted(objectives, reverse=True) and len(set(objectives)) == len(objectives)
    problem = parse_problem(data)
    for incumbent in (seen[0], seen[-1]):  # every incumbent is a whole, checked solution
        assert incumbent["solution"]["routes"]
        assert check(problem, incumbent["solution"]) == []
    final = result.solution
    assert check(problem, final) == []
    assert final["solver"]["objective"] == objectives[-1]
    assert final["solver"]["engine"].startswith("auto (") and final["solver"]["runs"]
    assert final["summary"] == seen[-1]["solution"]["summary"]
    assert not alive(result.pid)


def test_a_stop_ends_the_child_at_once_and_keeps_the_best_incumbent(runner):
    data = matrix_problem(150)
    asked: list[float] = []
    seen = []

    def stop():
        if seen and not asked:
            asked.append(time.monotonic())
        return "cancelled" if asked else None

    result = runner.solve(data, time_limit=30, stop=stop, on_incumbent=seen.append)
    ended = time.monotonic()
    assert result.stopped == "cancelled" and result.failure is None
    assert ended - asked[0] < 0.5, "SIGUSR1, a grace of 0.3 s, then SIGKILL"
    assert result.solution is not None and result.solution["routes"]
    assert result.solution["solver"]["objective"] <= seen[-1]["objective"]
    assert check(parse_problem(data), result.solution) == []
    assert not alive(result.pid) and solver_children() == []


def test_a_child_that_crashes_fails_the_solve_and_the_runner_goes_on(runner):
    def crash(_incumbent):
        for pid in solver_children():
            os.kill(pid, signal.SIGSEGV)

    result = runner.solve(matrix_problem(80), time_limit=20, on_incumbent=crash)
    assert result.failure is not None
    reason, detail = result.failure
    assert reason == "solver_crashed" and "SIGSEGV" in detail, result.failure
    assert result.solution is not None, "the incumbent received before the crash is kept"

    again = runner.solve(matrix_problem(20), time_limit=0.5)
    assert again.failure is None and again.solution["status"] == "feasible"


def test_an_oversized_problem_fails_with_memory_limit(runner):
    from multiprocessing import forkserver

    # a child starts at the size of the process it is forked from: the forkserver (which has
    # imported the engines), or this process (whatever the suite has imported by now)
    server = forkserver._forkserver._forkserver_pid
    base = usage(server if runner.method == "forkserver" and server else os.getpid())["VmSize"]
    small = Runner(base + 300 * 2**20, method=runner.method)  # 5,000 places need two 200 MB matrices
    started = time.monotonic()
    result = small.solve(coordinate_problem(5000), time_limit=30)
    assert result.failure is not None and result.failure[0] == "memory_limit", result.failure
    assert "memory limit" in result.failure[1]
    assert time.monotonic() - started < 20
    assert solver_children() == []


def test_an_invalid_problem_is_reported_not_raised(runner):
    result = runner.solve({"vehicles": [], "stops": [{"id": "a"}]}, time_limit=1)
    assert result.failure is not None and result.failure[0] == "invalid_problem"
    assert result.solution is None


SCRIPT = """
import json, sys, time
sys.path.insert(0, {root!r})
sys.path.insert(0, {here!r})
from routefarm.runner import Runner
from runner_support import matrix_problem


def main():
    runner = Runner(2**31, method="forkserver")
    runner.start()
    runner.solve(matrix_problem(200), time_limit=60,
                 on_incumbent=lambda inc: print("incumbent", flush=True))


if __name__ == "__main__":
    main()
"""


def test_kill_9_of_the_parent_takes_the_forkserver_and_the_child_with_it(tmp_path):
    script = tmp_path / "parent.py"
    script.write_text(textwrap.dedent(SCRIPT.format(root=str(ROOT), here=str(Path(__file__).parent))))
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout.readline().strip() == "incumbent"
        below = descendants(parent.pid)
        children = [pid for pid, comm in below.items() if comm == "rf-solve"]
        assert len(children) == 1, below
        os.kill(parent.pid, signal.SIGKILL)  # the parent only, not its process group
        parent.wait(5)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(alive(pid) for pid in below):
            time.sleep(0.05)
        assert not [pid for pid in below if alive(pid)], f"left running: {below}"
    finally:
        parent.kill()
        parent.wait()


def test_the_child_validates_with_the_limits_it_was_given():
    data = matrix_problem(12, time_limit=0.3)
    farm = Runner(default_limit(), method="fork", limits=Limits(max_stops=10, max_vehicles=5))
    result = farm.solve(data, time_limit=0.3)
    assert result.solution is None and result.failure is not None
    reason, detail = result.failure
    assert reason == "invalid_problem" and "12 stops (a shipment counts twice) exceed the limit of 10" in detail
    roomy = Runner(default_limit(), method="fork", limits=Limits(max_stops=12, max_vehicles=5))
    assert roomy.solve(data, time_limit=0.3).failure is None


def test_the_child_takes_a_matrix_larger_than_the_places_of_a_derived_problem():
    data = matrix_problem(12, time_limit=0.3)
    data["stops"] = data["stops"][:3]  # the rows of the other stops stay, as in a re-optimization
    result = Runner(default_limit(), method="fork").solve(data, time_limit=0.3)
    assert result.failure is None and check(parse_problem(data, Limits()), result.solution) == []
