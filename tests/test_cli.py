"""The command line, run as a real process: exit codes, one error per line, no traceback."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "deliveries.json"

SMALL = {
    "vehicles": [{"id": "v1", "start_index": 0, "end_index": 0, "capacity": [5]}],
    "stops": [{"id": "a", "location_index": 1, "demand": [2]}, {"id": "b", "location_index": 2, "demand": [2]}],
    "matrix": {"distances": [[0, 4, 6], [4, 0, 3], [6, 3, 0]]},
    "options": {"time_limit": 0.5},
}

CVRPLIB = """NAME : tiny-n4-k1
TYPE : CVRP
DIMENSION : 4
EDGE_WEIGHT_TYPE : EUC_2D
CAPACITY : 10
NODE_COORD_SECTION
1 0 0
2 3 4
3 6 8
4 0 5
DEMAND_SECTION
1 0
2 3
3 3
4 3
DEPOT_SECTION
1
-1
EOF
"""


def routefarm(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "routefarm", *map(str, args)], input=stdin,
                          capture_output=True, text=True, timeout=120, cwd=ROOT)


@pytest.fixture
def small(tmp_path):
    path = tmp_path / "problem.json"
    path.write_text(json.dumps(SMALL))
    return path


def test_solve_prints_a_solution_that_check_accepts(small, tmp_path):
    out = tmp_path / "solution.json"
    result = routefarm("solve", small, "--time-limit", "0.5", "--output", out)
    assert result.returncode == 0, result.stderr
    solution = json.loads(out.read_text())
    assert solution["status"] == "feasible"
    assert solution["summary"]["distance"] == 13
    checked = routefarm("check", small, out)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "no violations" in checked.stderr


def test_solve_the_bundled_example_from_stdin():
    result = routefarm("solve", "-", "--time-limit", "1", stdin=EXAMPLE.read_text())
    assert result.returncode == 0, result.stderr
    solution = json.loads(result.stdout)
    assert solution["status"] == "feasible"
    assert solution["summary"]["vehicles_used"] >= 1


def test_invalid_problem_lists_every_error_and_exits_2(tmp_path):
    bad = json.loads(json.dumps(SMALL))
    bad["stops"][0]["time_windows"] = [[500, 400]]
    bad["stops"][1]["demand"] = [-1]
    bad["vehicles"][0]["wheels"] = 4
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    result = routefarm("solve", path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 3
    assert all(line.startswith(f"error: {path}: /") for line in lines)
    assert any("/stops/0/time_windows/0: start 500 is after end 400" in line for line in lines)
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_many_errors_print_the_first_ones_and_how_many_more(tmp_path):
    bad = json.loads(json.dumps(SMALL))
    bad["stops"] = [{"id": f"s{i}", "location_index": 1, "service": -1} for i in range(150)]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    result = routefarm("check", path, path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 101
    assert lines[0] == f"error: {path}: /stops/0/service: must not be negative (got -1)"
    assert lines[-1] == f"error: {path}: 50 more error(s) not listed"


@pytest.mark.parametrize("content, expected", [("{not json", "not valid JSON"), ("[]", "/")])
def test_unreadable_input_exits_2(tmp_path, content, expected):
    path = tmp_path / "p.json"
    path.write_text(content)
    result = routefarm("solve", path)
    assert result.returncode == 2
    assert expected in result.stderr and "Traceback" not in result.stderr


def test_missing_file_exits_2(tmp_path):
    result = routefarm("solve", tmp_path / "nope.json")
    assert result.returncode == 2
    assert "cannot read" in result.stderr and "Traceback" not in result.stderr


def test_check_reports_violations_and_exits_1(small, tmp_path):
    solution = {
        "status": "feasible",
        "routes": [{"vehicle_id": "v1", "steps": [{"type": "stop", "id": "a"}, {"type": "stop", "id": "a"}]}],
        "unassigned": [],
    }
    path = tmp_path / "s.json"
    path.write_text(json.dumps(solution))
    result = routefarm("check", small, path)
    assert result.returncode == 1
    assert "twice" in result.stdout
    assert "'b'" in result.stdout  # b is neither routed nor unassigned


def test_check_rejects_a_non_solution(small, tmp_path):
    path = tmp_path / "s.json"
    path.write_text("[1, 2]")
    result = routefarm("check", small, path)
    assert result.returncode == 2
    assert "not a solution document" in result.stderr


def test_convert_then_solve(tmp_path):
    source = tmp_path / "tiny.vrp"
    source.write_text(CVRPLIB)
    problem = tmp_path / "tiny.json"
    result = routefarm("convert", source, "--output", problem)
    assert result.returncode == 0, result.stderr
    data = json.loads(problem.read_text())
    assert data["matrix"]["distances"][0][1] == 5
    solved = routefarm("solve", problem, "--time-limit", "0.5")
    assert solved.returncode == 0, solved.stderr
    # depot (0,0) -> (0,5) -> (6,8) -> (3,4) -> depot: 5 + 7 + 5 + 5
    assert json.loads(solved.stdout)["summary"]["distance"] == 22


def test_convert_unknown_format_exits_2(tmp_path):
    source = tmp_path / "x.txt"
    source.write_text("hello\n")
    result = routefarm("convert", source)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def test_solve_runs_in_a_child_and_ctrl_c_prints_the_best_solution_so_far():
    import signal
    import time

    proc = subprocess.Popen([sys.executable, "-m", "routefarm", "solve", str(EXAMPLE), "--time-limit", "60"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(3)  # past the first solution
    asked = time.monotonic()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=10)
    assert time.monotonic() - asked < 2
    assert proc.returncode == 0, err
    solution = json.loads(out)
    assert solution["status"] == "feasible" and solution["solver"]["stopped_by"] == "stop_request"
    assert solution["solver"]["engine"]  # the engine that found the incumbent
    assert "stopped (interrupted)" in err and "Traceback" not in err
