"""Problems and solutions the picture tests draw, and SVG reading helpers."""

from __future__ import annotations

import xml.etree.ElementTree as ET

SVG_NS = "{http://www.w3.org/2000/svg}"

# Two vans around Lyon; stop "heavy" fits no van, so it stays unassigned.
COORDINATE_PROBLEM = {
    "vehicles": [
        {"id": "van1", "start": [4.835, 45.764], "end": [4.835, 45.764], "capacity": [4]},
        {"id": "van2", "start": [4.835, 45.764], "end": [4.835, 45.764], "capacity": [4]},
    ],
    "stops": [
        {"id": "a", "location": [4.80, 45.78], "demand": [2]},
        {"id": "b", "location": [4.79, 45.76], "demand": [2]},
        {"id": "c", "location": [4.88, 45.75], "demand": [2]},
        {"id": "d", "location": [4.87, 45.73], "demand": [2]},
        {"id": "heavy", "location": [4.85, 45.80], "demand": [9]},
    ],
    "options": {"time_limit": 0.3},
}

# No coordinates: only distances; stop "far" fits no vehicle either.
MATRIX_PROBLEM = {
    "vehicles": [{"id": "v1", "start_index": 0, "end_index": 0, "capacity": [3]},
                 {"id": "v2", "start_index": 0, "end_index": 0, "capacity": [3]}],
    "stops": [{"id": "a", "location_index": 1, "demand": [1]},
              {"id": "b", "location_index": 2, "demand": [2]},
              {"id": "c", "location_index": 3, "demand": [3]},
              {"id": "far", "location_index": 4, "demand": [5]}],
    "matrix": {"distances": [[0, 5, 7, 6, 9],
                             [5, 0, 3, 8, 10],
                             [7, 3, 0, 9, None],
                             [6, 8, 9, 0, 4],
                             [9, 10, 12, 4, 0]]},
    "options": {"time_limit": 0.3},
}


def parse_svg(svg: str) -> ET.Element:
    root = ET.fromstring(svg.encode("utf-8"))
    assert root.tag == f"{SVG_NS}svg"
    return root


def route_paths(root: ET.Element) -> list[ET.Element]:
    paths = root.findall(f".//{SVG_NS}path")
    assert all(p.get("class") == "route" for p in paths)
    return paths


def unassigned_marks(root: ET.Element) -> dict[str, ET.Element]:
    """The red crosses, by the id their tooltip names."""
    marks = {}
    for g in root.iter(f"{SVG_NS}g"):
        if g.get("class") == "unassigned":
            title = g.find(f"{SVG_NS}title").text
            marks[title.split(" ", 1)[1]] = g
    return marks


def title(root: ET.Element) -> str:
    return root.find(f"{SVG_NS}title").text
