"""Converters from CVRPLIB and Solomon texts, and the readers of their solution files."""

from __future__ import annotations

import re

import pytest

from optimizer.convert import convert, cvrplib, detect, routes_distance, solomon
from optimizer.convert.cvrplib import from_cvrplib
from optimizer.convert.solomon import from_solomon
from optimizer.validate import parse_problem

# Node 1 is the depot at the origin. Distances from it: node 2 5, node 3 sqrt(5) = 2.236,
# node 4 2.5 (nint: 3, where Python's round would give 2), node 5 10, node 6 7.
CVRP = """NAME : tiny-n6-k2
COMMENT : (hand-made, tabs, CRLF and both header styles)
TYPE : CVRP
DIMENSION: 6
EDGE_WEIGHT_TYPE :\tEUC_2D\t
CAPACITY :\t30
NODE_COORD_SECTION\t
1\t0\t0
2\t3\t4
 3 1 2
 4 1.5 2
 5 6 8
 6 0 7
DEMAND_SECTION
1 0
2 10
3 20
4 5
5 15
6 30
DEPOT_SECTION
 1
 -1
EOF
""".replace("\n", "\r\n")

# Customer 0 is the depot. Distances from it: 1 sqrt(5) = 2.236 -> 2.2, 2 5.0,
# 3 sqrt(29) = 5.385 -> 5.3 (truncated, not rounded); 4 and 5 are 0.2 apart, which
# 10 * (0.3 - 0.1) in floating point would floor to 0.1.
SOLOMON = """TINY5

VEHICLE
NUMBER     CAPACITY
  3         50

CUSTOMER
CUST NO.  XCOORD.   YCOORD.    DEMAND   READY TIME  DUE DATE   SERVICE   TIME

    0      0          0          0          0        200          0
    1      1          2         10         10         50         10
    2      3          4         20          0        100         10
    3      2          5         15         30         60          5
    4      0.3        0          5          0        200          0
    5      0.1        0          5          0        200          0
"""


def test_cvrplib_matrix_rounds_to_nearest_integer() -> None:
    data = from_cvrplib(CVRP)
    parse_problem(data)
    dist = data["matrix"]["distances"]
    assert len(dist) == 6 and all(len(row) == 6 for row in dist)
    assert dist[0][1] == 5  # 3-4-5 triangle
    assert dist[0][2] == 2  # 2.236
    assert dist[0][3] == 3  # 2.5: nint rounds halves up
    assert dist[2][3] == 1  # 0.5
    assert dist[3][4] == 8  # 7.5
    assert dist[0][5] == dist[5][0] == 7
    assert all(isinstance(x, int) for row in dist for x in row)
    assert data["matrix"]["durations"] == dist
    assert data["objective"] == "distance"


def test_cvrplib_stops_vehicles_and_fleet() -> None:
    data = from_cvrplib(CVRP)
    assert [s["id"] for s in data["stops"]] == ["2", "3", "4", "5", "6"]
    assert [s["location_index"] for s in data["stops"]] == [1, 2, 3, 4, 5]
    assert [s["demand"] for s in data["stops"]] == [[10], [20], [5], [15], [30]]
    assert [v["id"] for v in data["vehicles"]] == ["v1", "v2"]  # k2 in the name
    for vehicle in data["vehicles"]:
        assert vehicle["capacity"] == [30]
        assert vehicle["start_index"] == vehicle["end_index"] == 0
    assert len(from_cvrplib(CVRP, fleet=4)["vehicles"]) == 4
    unnamed = CVRP.replace("tiny-n6-k2", "tiny")
    assert len(from_cvrplib(unnamed)["vehicles"]) == 3  # ceil(80 / 30)


def test_cvrplib_depot_elsewhere() -> None:
    text = CVRP.replace("DEPOT_SECTION\r\n 1", "DEPOT_SECTION\r\n 3")
    text = text.replace("1 0\r\n2 10\r\n3 20", "1 20\r\n2 10\r\n3 0")
    data = from_cvrplib(text)
    parse_problem(data)
    assert [s["id"] for s in data["stops"]] == ["1", "2", "4", "5", "6"]
    assert data["vehicles"][0]["start_index"] == 2


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("EUC_2D", "GEO", "EDGE_WEIGHT_TYPE GEO is not supported"),
        ("TYPE : CVRP", "TYPE : TSP", "TYPE TSP is not supported"),
        ("CAPACITY :\t30", "", "CAPACITY is missing"),
        ("DEMAND_SECTION", "DEMANDS", "DEMAND_SECTION is missing"),
        (" 6 0 7\r\n", "", "NODE_COORD_SECTION lacks 1 node(s), first 6"),
        (" 6 0 7", " 6 0 x", "is not numeric"),
        ("6 30", "6 3.5", "demand of node 6 must be a non-negative whole number"),
        (" 1\r\n -1", " 1\r\n 2\r\n -1", "2 depots"),
    ],
)
def test_cvrplib_bad_input(old: str, new: str, message: str) -> None:
    assert old in CVRP
    with pytest.raises(ValueError, match=re.escape(message)) as info:
        from_cvrplib(CVRP.replace(old, new))
    assert "\n" not in str(info.value)


def test_solomon_matrix_truncates_to_one_decimal() -> None:
    data = from_solomon(SOLOMON)
    parse_problem(data)
    dist = data["matrix"]["distances"]
    assert len(dist) == 6
    assert dist[0][1] == 2.2
    assert dist[0][2] == 5.0
    assert dist[0][3] == 5.3  # 5.385 truncated, not rounded
    assert dist[4][5] == dist[5][4] == 0.2  # exact despite floating point
    assert dist[1][2] == 2.8  # sqrt(8) = 2.828
    assert data["matrix"]["durations"] == dist


def test_solomon_stops_vehicles_and_windows() -> None:
    data = from_solomon(SOLOMON)
    assert [v["id"] for v in data["vehicles"]] == ["v1", "v2", "v3"]
    for vehicle in data["vehicles"]:
        assert vehicle["capacity"] == [50]
        assert vehicle["time_window"] == [0, 200]
        assert vehicle["start_index"] == vehicle["end_index"] == 0
    first = data["stops"][0]
    assert first == {
        "id": "1",
        "location_index": 1,
        "demand": [10],
        "service": 10,
        "time_windows": [[10, 50]],
    }
    assert [s["id"] for s in data["stops"]] == ["1", "2", "3", "4", "5"]
    assert data["stops"][2]["service"] == 5
    assert len(from_solomon(SOLOMON, fleet=1)["vehicles"]) == 1


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("    5      0.1        0          5          0        200          0",
         "    5      0.1        0          5          0        200",
         "needs 7 numbers"),
        ("    3      2", "    7      2", "customer 7 found where 3 was expected"),
        ("  3         50", "  3", "one 'NUMBER CAPACITY' line"),
        ("VEHICLE\n", "", "VEHICLE and CUSTOMER sections are required"),
        ("10         10         50", "10         60         50", "after its due date"),
    ],
)
def test_solomon_bad_input(old: str, new: str, message: str) -> None:
    assert old in SOLOMON
    with pytest.raises(ValueError, match=re.escape(message)):
        from_solomon(SOLOMON.replace(old, new))


def test_convert_detects_the_format() -> None:
    assert detect(CVRP) == "cvrplib"
    assert detect(SOLOMON) == "solomon"
    assert convert(CVRP) == from_cvrplib(CVRP)
    assert convert(SOLOMON, fmt="solomon") == from_solomon(SOLOMON)
    assert len(convert(CVRP, fleet=5)["vehicles"]) == 5
    with pytest.raises(ValueError, match="unrecognised format"):
        convert("hello, world")
    with pytest.raises(ValueError, match="unknown format 'xml'"):
        convert(CVRP, fmt="xml")


def test_cvrplib_sol_numbers_customers_from_one() -> None:
    text = "Route #1: 1 2\nRoute #2: 3 4 5\nCost 34\n"
    routes = cvrplib.read_routes(text)
    assert routes == [["2", "3"], ["4", "5", "6"]]
    # 5 + 3 (sqrt 8) + 2 (sqrt 5), then 3 (2.5) + 8 (7.5) + 6 (sqrt 37) + 7
    assert routes_distance(from_cvrplib(CVRP), routes) == 34


def test_cvrplib_tour_splits_at_depot_copies() -> None:
    tour = "NAME : tiny-n6-k2.34.tour\nTYPE : TOUR\nDIMENSION : 7\nTOUR_SECTION\n{}\n-1\nEOF\n"
    assert cvrplib.read_routes(tour.format("1\n2\n3\n7\n4\n5\n6")) == [["2", "3"], ["4", "5", "6"]]
    # a cycle that does not start at the depot
    rotated = tour.format("5\n6\n1\n2\n3\n7\n4")
    assert cvrplib.read_routes(rotated) == [["2", "3"], ["4", "5", "6"]]
    unnamed = tour.replace("tiny-n6-k2.34.tour", "x").format("1\n2\n3\n7\n4\n5\n6")
    with pytest.raises(ValueError, match="dimension"):
        cvrplib.read_routes(unnamed)
    assert cvrplib.read_routes(unnamed, dimension=6) == [["2", "3"], ["4", "5", "6"]]
    assert routes_distance(from_cvrplib(CVRP), cvrplib.read_routes(rotated)) == 34


def test_solomon_sol_lines() -> None:
    text = "Route 1: 1 3\r\nRoute #2: 2 \r\nRoute 3 : 4 5\r\nCost 24.6\r\n"
    routes = solomon.read_routes(text)
    assert routes == [["1", "3"], ["2"], ["4", "5"]]
    # 2.2 + 3.1 (sqrt 10) + 5.3; 5.0 + 5.0; 0.3 + 0.2 + 0.1
    assert routes_distance(from_solomon(SOLOMON), routes) == pytest.approx(21.2)


def test_route_readers_reject_garbage() -> None:
    with pytest.raises(ValueError, match="no 'Route"):
        solomon.read_routes("Cost 10\n")
    with pytest.raises(ValueError, match="non-numeric"):
        cvrplib.read_routes("Route #1: 1 a\n")
    with pytest.raises(ValueError, match="unknown stop"):
        routes_distance(from_solomon(SOLOMON), [["1", "9"]])
