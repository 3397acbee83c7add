"""render_svg: a parseable SVG with one path per route, unassigned work crossed, a legend."""

import math

import numpy as np
import pytest
from picture_support import (
    COORDINATE_PROBLEM,
    MATRIX_PROBLEM,
    SVG_NS,
    parse_svg,
    route_paths,
    title,
    unassigned_marks,
)

from optimizer import parse_problem, solve
from optimizer.render import RenderError, mds_layout, render_svg


def solved(data):
    problem = parse_problem(data)
    return problem, solve(problem).to_json_dict()


@pytest.mark.parametrize("data", [COORDINATE_PROBLEM, MATRIX_PROBLEM], ids=["coordinates", "matrix"])
def test_one_path_per_route_and_unassigned_crossed(data):
    problem, solution = solved(data)
    assert solution["routes"] and solution["unassigned"]
    root = parse_svg(render_svg(problem, solution))
    paths = route_paths(root)
    assert len(paths) == len(solution["routes"])
    assert [p.get("data-vehicle") for p in paths] == [r["vehicle_id"] for r in solution["routes"]]
    assert len({p.get("stroke") for p in paths}) == len(paths)  # a colour per vehicle
    for path, route in zip(paths, solution["routes"], strict=True):
        places = sum(1 for s in route["steps"] if s["type"] != "break")
        assert path.get("d").count("L") == places - 1
    assert set(unassigned_marks(root)) == {u["id"] for u in solution["unassigned"]}
    legend = "".join(t.text or "" for t in root.iter(f"{SVG_NS}text"))
    for route in solution["routes"]:
        assert route["vehicle_id"] in legend
    assert "unassigned" in legend


def test_coordinate_problem_is_projected_north_up():
    problem, solution = solved(COORDINATE_PROBLEM)
    root = parse_svg(render_svg(problem, solution))
    assert "equirectangular" in title(root)
    circles = {c.find(f"{SVG_NS}title").text: (float(c.get("cx")), float(c.get("cy")))
               for c in root.iter(f"{SVG_NS}circle") if c.get("class") == "stop"}
    # a (45.78 N) lies north of b (45.76 N): smaller y on the picture; c lies east of a
    assert circles["stop a"][1] < circles["stop b"][1]
    assert circles["stop c"][0] > circles["stop a"][0]


def test_matrix_problem_says_how_its_places_were_laid_out():
    problem, solution = solved(MATRIX_PROBLEM)
    root = parse_svg(render_svg(problem, solution))
    assert "multidimensional scaling" in title(root)


def test_mds_recovers_a_planar_layout():
    points = np.array([[0, 0], [3, 0], [3, 4], [0, 4], [1, 2]], dtype=float)
    matrix = [[math.dist(p, q) for q in points] for p in points]
    layout = mds_layout(matrix)
    for i in range(len(points)):
        for j in range(len(points)):
            assert math.dist(layout[i], layout[j]) == pytest.approx(matrix[i][j], abs=1e-6)


def test_a_solution_naming_unknown_work_is_refused():
    problem, solution = solved(MATRIX_PROBLEM)
    solution["routes"][0]["steps"][1]["id"] = "ghost"
    with pytest.raises(RenderError, match="ghost"):
        render_svg(problem, solution)


def test_no_solution_still_draws_the_places():
    problem = parse_problem(MATRIX_PROBLEM)
    root = parse_svg(render_svg(problem, {"status": "no_solution", "routes": [], "unassigned": []}))
    assert route_paths(root) == []
    assert len([c for c in root.iter(f"{SVG_NS}circle") if c.get("class") == "stop"]) == 4
