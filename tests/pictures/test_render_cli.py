"""``routefarm render`` as a real process: an SVG out, one-line errors and exit 2 on bad input."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from picture_support import COORDINATE_PROBLEM, parse_svg, route_paths, unassigned_marks

from optimizer import parse_problem
from optimizer.engines import engine

ROOT = Path(__file__).resolve().parents[2]


def routefarm(*args):
    return subprocess.run([sys.executable, "-m", "routefarm", *map(str, args)],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)


@pytest.fixture
def files(tmp_path):
    problem = tmp_path / "problem.json"
    problem.write_text(json.dumps(COORDINATE_PROBLEM))
    solution = engine("ortools").solve(parse_problem(COORDINATE_PROBLEM)).to_json_dict()
    solution_path = tmp_path / "solution.json"
    solution_path.write_text(json.dumps(solution))
    return problem, solution_path, solution


def test_render_writes_an_svg(files, tmp_path):
    problem, solution_path, solution = files
    out = tmp_path / "routes.svg"
    result = routefarm("render", problem, solution_path, "--output", out)
    assert result.returncode == 0, result.stderr
    root = parse_svg(out.read_text())
    assert len(route_paths(root)) == len(solution["routes"])
    assert set(unassigned_marks(root)) == {"heavy"}
    printed = routefarm("render", problem, solution_path)
    assert printed.returncode == 0 and printed.stdout == out.read_text()


def test_bad_input_is_one_line_and_exit_2(files, tmp_path):
    problem, solution_path, solution = files
    not_json = tmp_path / "broken.json"
    not_json.write_text("{")
    ghost = tmp_path / "ghost.json"
    solution["routes"][0]["steps"][1]["id"] = "ghost"
    ghost.write_text(json.dumps(solution))
    not_solution = tmp_path / "list.json"
    not_solution.write_text("[]")
    for args, needle in [((problem, not_json), "not valid JSON"),
                         ((problem, ghost), "ghost"),
                         ((problem, not_solution), "not a solution document"),
                         ((tmp_path / "missing.json", solution_path), "cannot read")]:
        result = routefarm("render", *args)
        assert result.returncode == 2, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and needle in lines[0], result.stderr
        assert "Traceback" not in result.stderr
