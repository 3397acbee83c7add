"""``routefarm insert`` and ``routefarm explain``, run as real processes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINE = [[abs(a - b) * 100.0 for b in range(5)] for a in range(5)]
PROBLEM = {  # c3 does not fit beside c1 and c2: 2 units of capacity short
    "vehicles": [{"id": "v", "start_index": 0, "end_index": 0, "capacity": [10]}],
    "stops": [{"id": "c1", "location_index": 1, "demand": [4]}, {"id": "c2", "location_index": 2, "demand": [4]},
              {"id": "c3", "location_index": 3, "demand": [4]}],
    "matrix": {"distances": LINE},
    "options": {"time_limit": 0.3},
}


def routefarm(*args):
    return subprocess.run([sys.executable, "-m", "routefarm", *map(str, args)], capture_output=True, text=True,
                          timeout=120, cwd=ROOT)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("decisions")
    problem, solution = folder / "problem.json", folder / "solution.json"
    problem.write_text(json.dumps(PROBLEM))
    solved = routefarm("solve", problem, "--output", solution)
    assert solved.returncode == 0, solved.stderr
    return folder, problem, solution


def test_insert_prints_the_cheapest_places(files):
    folder, problem, solution = files
    new = folder / "new.json"
    new.write_text(json.dumps({"stops": [{"id": "n", "location_index": 4, "demand": [1]}]}))
    result = routefarm("insert", problem, solution, new, "--limit", "2")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    [task] = answer["tasks"]
    assert answer["objective"] == "distance" and task["id"] == "n" and len(task["insertions"]) == 2
    best = task["insertions"][0]
    assert best["vehicle_id"] == "v" and best["cost"]["total"] == best["cost"]["distance"]
    assert best["slack"]["capacity"] == [10 - 8 - 1]


def test_explain_prints_costs_and_fixes(files):
    _, problem, solution = files
    result = routefarm("explain", problem, solution)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    [route] = answer["routes"]
    assert answer["summary"]["total"] == route["costs"]["total"] == route["costs"]["distance"]
    assert route["tightest"]["load"] == [8] and route["tightest"]["capacity"] == [10]
    [entry] = answer["unassigned"]
    assert entry["id"] == "c3"
    assert [(f["kind"], f.get("capacity")) for f in entry["fixes"]] == [("capacity", [2])]


@pytest.mark.parametrize(("new", "line"), [
    ({"stops": [{"id": "c1", "location_index": 4}]}, "/stops/0/id: stop 'c1' is already in the job's problem"),
    ({"stops": [{"id": "n", "location": [13.4, 52.5]}]}, "/stops/0/location: the job's problem has a matrix"),
    ({"stops": []}, "give 1 to 100 new stops and shipments in all (got 0)"),
    ([], "must be an object with 'stops' and/or 'shipments'"),
])
def test_bad_new_work_is_one_line_per_error_and_exit_2(files, new, line):
    folder, problem, solution = files
    path = folder / "bad.json"
    path.write_text(json.dumps(new))
    result = routefarm("insert", problem, solution, path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert line in result.stderr and result.stderr.startswith("error: ")


def test_a_solution_the_checker_refuses_is_bad_input(files):
    folder, problem, solution = files
    broken = json.loads(solution.read_text())
    broken["routes"][0]["steps"][1]["id"] = "c3"  # serves c3 twice now, c1 never
    path = folder / "broken.json"
    path.write_text(json.dumps(broken))
    result = routefarm("explain", problem, path)
    assert result.returncode == 2 and "the solution breaks the problem" in result.stderr
