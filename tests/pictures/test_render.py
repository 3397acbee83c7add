"""render_svg: a parseable SVG with one path per route, unassigned work crossed, a legend."""

import json
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

from optimizer import parse_problem
from optimizer.engines import engine
from optimizer.mds import LANDMARKS, MIN_LANDMARKS
from optimizer.render import RenderError, TooManyPlaces, mds_layout, render_svg


def solved(data):
    problem = parse_problem(data)
    return problem, engine("ortools").solve(problem).to_json_dict()


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


class CountingMatrix:
    """A distance matrix (rows of cells) that counts the cells read."""

    def __init__(self, cells: list[list[float | None]]):
        self.cells = cells
        self.reads = 0
        matrix = self

        class Row:
            def __init__(self, row):
                self.row = row

            def __getitem__(self, j):
                matrix.reads += 1
                return self.row[j]

        self.rows = [Row(r) for r in cells]

    def __len__(self):
        return len(self.cells)

    def __getitem__(self, i):
        return self.rows[i]


def planar(n: int, seed: int = 3) -> tuple[np.ndarray, list[list[float]]]:
    points = np.random.default_rng(seed).uniform(0, 10_000, (n, 2))
    diff = points[:, None, :] - points[None, :, :]
    return points, np.sqrt((diff ** 2).sum(axis=2)).tolist()


def test_landmark_mds_reads_n_times_k_cells_and_still_recovers_a_planar_layout():
    n = 1200
    points, cells = planar(n)
    matrix = CountingMatrix(cells)
    layout = mds_layout(matrix)
    assert layout.shape == (n, 2)
    assert matrix.reads <= 2 * n * LANDMARKS  # not n * n
    truth = np.sqrt(((points[:, None] - points[None]) ** 2).sum(axis=2))
    drawn = np.sqrt(((layout[:, None] - layout[None]) ** 2).sum(axis=2))
    assert np.abs(truth - drawn).max() < 1e-6 * truth.max()


def test_a_layout_past_its_deadline_is_coarser_but_complete():
    n = 500
    _, cells = planar(n, seed=4)
    matrix = CountingMatrix(cells)
    layout = mds_layout(matrix, deadline=0.0)  # long past: the fewest landmarks
    assert layout.shape == (n, 2) and np.isfinite(layout).all()
    assert matrix.reads == 2 * n * MIN_LANDMARKS


def test_only_the_places_the_plan_uses_are_laid_out():
    """A 400-place matrix of which the plan uses six places: the layout reads six rows' worth."""
    _, cells = planar(400, seed=5)
    data = {"vehicles": [{"id": "v", "start_index": 0, "end_index": 0}],
            "stops": [{"id": f"s{i}", "location_index": i} for i in range(1, 400)],
            "matrix": {"distances": cells}}
    problem = parse_problem(data)
    solution = {"status": "feasible", "unassigned": [{"id": "s7", "type": "stop", "reason": "dropped"}],
                "routes": [{"vehicle_id": "v", "steps": [{"type": "start"}, *(
                    {"type": "stop", "id": f"s{i}"} for i in (1, 2, 3, 4)), {"type": "end"}]}]}
    counting = CountingMatrix(cells)
    places = [0, 1, 2, 3, 4, 7]
    mds_layout(counting, places)
    assert counting.reads == 2 * len(places) ** 2
    root = parse_svg(render_svg(problem, solution))
    stops = {c.find(f"{SVG_NS}title").text for c in root.iter(f"{SVG_NS}circle") if c.get("class") == "stop"}
    assert stops == {"stop s1", "stop s2", "stop s3", "stop s4"} and set(unassigned_marks(root)) == {"s7"}


def test_a_plan_beyond_the_limit_is_refused_before_any_layout():
    _, cells = planar(30, seed=6)
    problem = parse_problem({"vehicles": [{"id": "v", "start_index": 0, "end_index": 0}],
                             "stops": [{"id": f"s{i}", "location_index": i} for i in range(1, 30)],
                             "matrix": {"distances": cells}})
    solution = {"status": "feasible", "unassigned": [], "routes": [{"vehicle_id": "v", "steps": [
        {"type": "start"}, *({"type": "stop", "id": f"s{i}"} for i in range(1, 30)), {"type": "end"}]}]}
    with pytest.raises(TooManyPlaces) as refused:
        render_svg(problem, solution, max_places=29)
    assert (refused.value.places, refused.value.limit) == (30, 29)
    assert len(route_paths(parse_svg(render_svg(problem, solution, max_places=30)))) == 1


def test_a_matrix_read_from_its_text_is_the_array_of_its_cells():
    from optimizer.travel import matrix_from_json

    cells = matrix_from_json(json.dumps([[0, 1.5, None], [2, 0, 3e2], [None, 4, 0]]))
    assert cells.shape == (3, 3) and cells[0, 1] == 1.5 and cells[1, 2] == 300.0
    assert np.isinf(cells[0, 2]) and np.isinf(cells[2, 0])  # no road, as Travel holds it
    with pytest.raises(ValueError, match="not square"):
        matrix_from_json("[[0, 1], [2]]")
