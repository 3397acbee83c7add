"""Random small problems for the engine tests, each drawing its own mix of contract features."""

from __future__ import annotations

import math

from hypothesis import strategies as st

SPAN = 600  # seconds between two stops' windows


# the generator's switches that make a problem use a feature of the table
SWITCHES = {"drop_penalty": "optional", "locked": "locked", "reassign_penalty": "reassign",
            "initial_routes": "initial", "breaks": "breaks", "max_duration": "max_duration",
            "multiple_time_windows": "two_windows", "no_start_no_end": "no_start"}


@st.composite
def problems(draw, without: frozenset[str] = frozenset()) -> dict:
    """A valid problem of 2-7 stops, 0-2 shipments and 1-3 vehicles; every feature may appear
    except those named in ``without`` (names of the feature table)."""
    on = draw(st.fixed_dictionaries({k: st.booleans() for k in (
        "coordinates", "missing", "windows", "two_windows", "shift", "service", "capacity", "dims2",
        "skills", "max_distance", "max_duration", "max_stops", "breaks", "shipments", "optional",
        "open", "no_start", "min_vehicles", "initial", "locked", "reassign", "costs")}))
    rare = {k: on[k] and draw(st.integers(0, 2)) == 0 for k in (
        "missing", "two_windows", "breaks", "no_start", "min_vehicles", "locked", "reassign")}
    on.update(rare)
    for feature in without & SWITCHES.keys():
        on[SWITCHES[feature]] = False
    if "max_stops_with_shipments" in without and on["shipments"]:
        on["max_stops"] = False
    count = draw(st.integers(3, 7))
    points = draw(st.lists(st.tuples(st.integers(0, 60), st.integers(0, 60)), min_size=count, max_size=count))
    problem: dict = {"vehicles": [], "stops": [], "shipments": [],
                     "objective": draw(st.sampled_from([o for o in ("distance", "duration", "cost")
                                                        if f"objective_{o}" not in without]))}
    if on["coordinates"]:
        def place(i):
            return {"location": [4.0 + points[i][0] / 1000, 50.0 + points[i][1] / 1000]}
        end_place = {"end": place(0)["location"]}
        start_place = {"start": place(0)["location"]}
    else:
        matrix = [[round(math.dist(a, b), 1) for b in points] for a in points]
        if on["missing"]:
            a, b = draw(st.integers(1, count - 1)), draw(st.integers(1, count - 1))
            if a != b:
                matrix[a][b] = None
        problem["matrix"] = {"distances": matrix,
                             "durations": [[None if x is None else round(x * 2, 1) for x in r] for r in matrix]}

        def place(i):
            return {"location_index": i}
        end_place, start_place = {"end_index": 0}, {"start_index": 0}
    dims = (2 if on["dims2"] else 1) if on["capacity"] else 0
    skills = ["cold", "lift"]
    for v in range(draw(st.integers(1, 3))):
        vehicle: dict = {"id": f"v{v}"}
        if not (on["no_start"] and v == 0):
            vehicle.update(start_place)
        if not (on["open"] and v == 0) or not vehicle:
            vehicle.update(end_place)
        if dims:
            vehicle["capacity"] = [draw(st.integers(3, 12)) for _ in range(dims)]
        if on["shift"]:
            vehicle["time_window"] = [0, draw(st.sampled_from([2000, 5000, 20000]))]
        if on["skills"]:
            vehicle["skills"] = draw(st.lists(st.sampled_from(skills), unique=True, max_size=2))
        if on["max_distance"]:
            vehicle["max_distance"] = draw(st.sampled_from([80, 150, 400]))
        if on["max_duration"]:
            vehicle["max_duration"] = draw(st.sampled_from([300, 800, 4000]))
        if on["max_stops"]:
            vehicle["max_stops"] = draw(st.integers(1, 4))
        if on["costs"]:
            vehicle.update(fixed_cost=draw(st.sampled_from([0, 5, 12.5])),
                           cost_per_km=draw(st.sampled_from([0.5, 1, 2])),
                           cost_per_hour=0 if "cost_per_hour" in without else draw(st.sampled_from([0, 3, 10])))
        if on["breaks"]:
            vehicle["breaks"] = [{"id": "lunch", "time_windows": [[100, 400]], "duration": 30}]
        problem["vehicles"].append(vehicle)

    def window(i: int) -> dict:
        if not on["windows"]:
            return {}
        windows = [[i * SPAN, i * SPAN + SPAN // 2]]
        if on["two_windows"] and draw(st.booleans()):
            windows.append([i * SPAN + SPAN, i * SPAN + SPAN + 100])
        return {"time_windows": windows}

    def extras(item: dict) -> dict:
        if dims:
            item["demand" if "location" in item or "location_index" in item else "amount"] = [
                draw(st.integers(0, 4)) for _ in range(dims)]
        if on["skills"] and draw(st.booleans()):
            item["skills"] = [draw(st.sampled_from(skills))]
        if on["optional"] and draw(st.booleans()):
            item["drop_penalty"] = draw(st.sampled_from([0, 50, 1000, 10**6]))
        return item

    for i in range(draw(st.integers(2, 6))):
        stop = {"id": f"c{i}", **place(draw(st.integers(1, count - 1))), **window(i)}
        if on["service"]:
            stop["service"] = draw(st.sampled_from([0, 10, 25.5]))
        problem["stops"].append(extras(stop))
    for i in range(draw(st.integers(1, 2)) if on["shipments"] else 0):
        pickup, delivery = (draw(st.integers(1, count - 1)) for _ in range(2))
        problem["shipments"].append(extras({"id": f"s{i}", "pickup": {**place(pickup), **window(i)},
                                            "delivery": {**place(delivery), "service": 5}}))
    if on["min_vehicles"]:
        problem["min_vehicles"] = True
    if on["initial"]:
        steps = [s["id"] for s in problem["stops"][:3]]
        steps += [f"{s['id']}:{leg}" for s in problem["shipments"][:1] for leg in ("pickup", "delivery")]
        problem["initial_routes"] = [{"vehicle_id": "v0", "steps": steps}]
        if on["reassign"]:
            problem["reassign_penalty"] = 100
    if on["locked"]:
        problem["locked"] = [{"vehicle_id": "v0", "steps": [problem["stops"][0]["id"]]}]
    return problem
