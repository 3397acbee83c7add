"""Insertion quotes on small random plans: every quote, applied and checked, is feasible and
moves the objective by exactly the quoted total; they are the cheapest places; shipments,
work that fits nowhere, ``at`` and ``locked``."""

from __future__ import annotations

import math
import random

import pytest
from random_plans import new_work, solved

from optimizer import InvalidProblem, check, parse_problem
from optimizer.decisions import Plan, Quoter, extend, lazily, quote, work_issues
from optimizer.engines import engine, objective_value
from optimizer.model import Shipment, Stop
from optimizer.travel import Travel


def parsed_work(work: dict) -> tuple[list[Stop], list[Shipment]]:
    return ([Stop.model_validate(s) for s in work.get("stops", [])],
            [Shipment.model_validate(s) for s in work.get("shipments", [])])


def applied(problem, solution, stops, shipments, insertion, at=None):
    """The plan with ``insertion`` made (its route timed as the quote times it), for the
    problem with the new work: (problem, solution)."""
    grown, travel = extend(problem, Travel.of(problem), stops, shipments)
    quoter = Quoter(Plan(grown, travel, solution, at))
    [task] = quoter.new_tasks(stops, shipments)
    placements = insertion.placements
    slot, run = quoter.chosen(task, insertion.vehicle_id, placements[0].after,
                              placements[1].after if len(placements) > 1 else None)
    return grown, quoter.plan.with_route(slot.v, run.route, grown)


def close(a: float, b: float, scale: float) -> bool:
    return math.isclose(a, b, abs_tol=1e-6 * max(1.0, abs(scale)))


@pytest.mark.parametrize("seed", range(12))
def test_every_quote_applied_is_feasible_and_moves_the_objective_by_its_total(seed):
    problem, solution = solved(seed)
    before = objective_value(problem, solution)
    for k in range(3):
        stops, shipments = parsed_work(new_work(seed * 10 + k, problem))
        assert work_issues(problem, stops, shipments) == []
        at = random.Random(seed).uniform(0, 8000) if k == 2 else None
        [answer] = quote(problem, Travel.of(problem), solution, stops, shipments, at=at, limit=20)
        for insertion in answer.insertions:
            grown, after = applied(problem, solution, stops, shipments, insertion, at)
            assert check(grown, after) == []
            assert close(objective_value(grown, after) - before, insertion.cost.total, before)
            parts = insertion.cost
            assert close(parts.distance + parts.time + parts.waiting + parts.fixed, parts.total, before)
        costs = [i.cost.total for i in answer.insertions]
        assert costs == sorted(costs)
        assert bool(answer.insertions) != bool(answer.closest)  # where it fits, or what fails


@pytest.mark.parametrize("seed", range(20, 26))
def test_the_quotes_are_the_cheapest_places_a_search_of_every_place_finds(seed):
    problem, solution = solved(seed)
    before = objective_value(problem, solution)
    stops, shipments = parsed_work(new_work(seed, problem))
    [answer] = quote(problem, Travel.of(problem), solution, stops, shipments, limit=3)
    grown, travel = extend(problem, Travel.of(problem), stops, shipments)
    quoter = Quoter(Plan(grown, travel, solution))
    [task] = quoter.new_tasks(stops, shipments)
    changes = []
    for view in quoter.plan.routes:  # every place, each timed and checked on its own
        labels = ["start", *(w.label for w in view.work)]
        for a, after in enumerate(labels):
            for delivery in ([None] if task.type == "stop" else [task.work[0].label, *labels[a + 1:]]):
                try:
                    slot, run = quoter.chosen(task, grown.vehicles[view.v].id, after, delivery)
                except InvalidProblem:
                    continue
                plan = quoter.plan.with_route(slot.v, run.route, grown)
                if not check(grown, plan):
                    changes.append(objective_value(grown, plan) - before)
    cheapest = sorted(changes)[:3]
    assert len(answer.insertions) == len(cheapest)
    assert all(close(i.cost.total, c, before) for i, c in zip(answer.insertions, cheapest, strict=True))


SHIPMENT_PROBLEM = {
    "vehicles": [{"id": "v1", "start_index": 0, "end_index": 0, "capacity": [4], "time_window": [0, 10000]},
                 {"id": "v2", "start_index": 0, "end_index": 0, "capacity": [4], "time_window": [0, 10000]}],
    "stops": [{"id": f"c{i}", "location_index": i, "demand": [1], "service": 60} for i in range(1, 5)],
    "matrix": {"durations": [[0, 300, 400, 500, 600, 350], [300, 0, 200, 400, 500, 250],
                             [400, 200, 0, 200, 300, 150], [500, 400, 200, 0, 150, 300],
                             [600, 500, 300, 150, 0, 400], [350, 250, 150, 300, 400, 0]]},
    "objective": "duration", "options": {"time_limit": 0.3},
}


def test_a_shipment_is_picked_up_before_it_is_delivered_on_one_vehicle():
    problem = parse_problem(SHIPMENT_PROBLEM)
    solution = engine("ortools").solve(problem, time_limit=0.3, seed=1)
    shipment = Shipment.model_validate({"id": "box", "amount": [2],
                                        "pickup": {"location_index": 5, "service": 30},
                                        "delivery": {"location_index": 2, "service": 30,
                                                     "time_windows": [[0, 4000]]}})
    [answer] = quote(problem, Travel.of(problem), solution, [], [shipment], limit=10)
    assert answer.type == "shipment" and answer.insertions
    for insertion in answer.insertions:
        pickup, delivery = insertion.placements
        assert (pickup.step, delivery.step) == ("box:pickup", "box:delivery")
        assert pickup.position < delivery.position
        assert delivery.service_start >= pickup.service_start + 30
        grown, after = applied(problem, solution, [], [shipment], insertion)
        assert check(grown, after) == []
        [route] = [r for r in after.routes if r.vehicle_id == insertion.vehicle_id]
        assert [s.type for s in route.steps].count("pickup") == 1
        # the capacity left counts the box while it is on board
        assert insertion.slack.capacity == [4 - max(s.load[0] for s in route.steps)]


def test_work_that_fits_nowhere_says_what_fails_on_the_closest_vehicles():
    problem = parse_problem(SHIPMENT_PROBLEM)
    solution = engine("ortools").solve(problem, time_limit=0.3, seed=1)
    heavy = Stop(id="piano", location_index=3, demand=[9])
    late = Stop(id="late", location_index=4, time_windows=[(0, 100)])
    picky = Stop(id="picky", location_index=1, skills=["crane"])
    answers = quote(problem, Travel.of(problem), solution, [heavy, late, picky], [])
    for answer in answers:
        assert answer.insertions == [] and 1 <= len(answer.closest) <= 3
    shortfalls = {a.id: a.closest[0].shortfalls for a in answers}
    [capacity] = shortfalls["piano"]
    assert capacity.constraint == "capacity" and capacity.by >= 5 and capacity.dimension == 0
    assert "capacity short by" in capacity.message
    [window] = shortfalls["late"]
    assert window.constraint == "time_window" and window.step == "late" and window.by == 500
    assert window.message == "late starts 500 s after its window closes"
    [skills] = shortfalls["picky"]
    assert skills.constraint == "skills" and skills.skills == ["crane"]


def test_nothing_goes_before_a_step_started_before_at_and_those_steps_keep_their_times():
    problem = parse_problem(SHIPMENT_PROBLEM)
    solution = engine("ortools").solve(problem, time_limit=0.3, seed=1)
    route = max(solution.routes, key=lambda r: len(r.steps))
    at = route.steps[2].arrival + route.steps[2].waiting + 1  # the first two stops have started
    new = Stop(id="new", location_index=5, service=10)
    [answer] = quote(problem, Travel.of(problem), solution, [new], [], at=at, limit=20)
    mine = [i for i in answer.insertions if i.vehicle_id == route.vehicle_id]
    assert mine and all(i.placements[0].position >= 3 for i in mine)
    assert all(i.placements[0].service_start >= at for i in answer.insertions)
    grown, after = applied(problem, solution, [new], [], mine[0], at)
    assert check(grown, after) == []
    [changed] = [r for r in after.routes if r.vehicle_id == route.vehicle_id]
    assert changed.steps[:3] == route.steps[:3]


def test_nothing_goes_before_a_locked_step():
    data = {**SHIPMENT_PROBLEM, "locked": [{"vehicle_id": "v1", "steps": ["c4", "c3"]}]}
    problem = parse_problem(data)
    solution = engine("ortools").solve(problem, time_limit=0.3, seed=1)
    new = Stop(id="new", location_index=5, service=10)
    [answer] = quote(problem, Travel.of(problem), solution, [new], [], limit=20)
    on_v1 = [i.placements[0] for i in answer.insertions if i.vehicle_id == "v1"]
    assert on_v1 and all(p.position >= 3 for p in on_v1)
    with pytest.raises(InvalidProblem, match="nothing goes before 'c3'"):
        grown, travel = extend(problem, Travel.of(problem), [new], [])
        quoter = Quoter(Plan(grown, travel, solution))
        quoter.chosen(quoter.new_tasks([new], [])[0], "v1", "c4")


def test_new_places_are_priced_as_the_problem_with_them_would_be():
    data = {"vehicles": [{"id": "v", "start": [13.4, 52.5], "end": [13.4, 52.5]}],
            "stops": [{"id": f"c{i}", "location": [13.3 + 0.02 * i, 52.45 + 0.01 * i]} for i in range(30)]}
    problem = parse_problem(data)
    travel = Travel.of(problem)
    new = [Stop(id="n1", location=(13.51, 52.61)), Stop(id="n2", location=problem.stops[1].location)]  # a known place
    grown, extended = extend(problem, travel, new, [])
    assert extended.stop_place[-2] == len(travel.distances)  # one new place, one known
    assert extended.stop_place[-1] == travel.stop_place[1]
    full = Travel.of(grown)
    pairs = list(zip([*extended.stop_place, *extended.start_place], [*full.stop_place, *full.start_place],
                     strict=True))
    lazy = extend(problem, lazily(problem), new, [])[1]  # known places priced pair by pair
    for a, x in pairs:
        for b, y in pairs:
            assert extended.distance(a, b) == lazy.distance(a, b) == full.distance(x, y)
            assert extended.duration(a, b) == lazy.duration(a, b) == full.duration(x, y)


def test_new_work_that_cannot_join_the_problem_is_pointed_at():
    problem = parse_problem(SHIPMENT_PROBLEM)
    issues = work_issues(problem, [Stop(id="c1", location_index=2), Stop(id="x", location=(1.0, 2.0)),
                                   Stop(id="y", location_index=6, demand=[1, 2]), Stop(id="y:pickup", location_index=1)],
                         [Shipment.model_validate({"id": "s", "pickup": {"location_index": 1}, "delivery": {}})])
    assert {(i.pointer, i.message) for i in issues} == {
        ("/stops/0/id", "stop 'c1' is already in the job's problem"),
        ("/stops/1/location", "the job's problem has a matrix: use 'location_index'"),
        ("/stops/2/location_index", "index 6 is outside the 6x6 matrix"),
        ("/stops/2/demand", "demand has 2 dimensions but vehicle capacities have 1"),
        ("/stops/3/id", "a stop id must not end in ':pickup' or ':delivery' (shipment step notation)"),
        ("/shipments/0/delivery", "a location is required: 'location_index' into the job's matrix"),
    }


def test_an_idle_vehicle_takes_the_break_its_new_route_needs():
    line = [[abs(a - b) * 300.0 for b in range(5)] for a in range(5)]
    problem = parse_problem({
        "vehicles": [{"id": "busy", "start_index": 0, "end_index": 0, "capacity": [2], "time_window": [0, 30000]},
                     {"id": "idle", "start_index": 0, "end_index": 0, "time_window": [0, 30000],
                      "breaks": [{"id": "lunch", "time_windows": [[3000, 4000]], "duration": 1800}]}],
        "stops": [{"id": "a", "location_index": 1, "demand": [2]}], "matrix": {"durations": line}})
    solution = engine("ortools").solve(problem, time_limit=0.3, seed=1)
    assert [r.vehicle_id for r in solution.routes] == ["busy"]  # full: the new stop goes to idle
    new = Stop(id="n", location_index=4, demand=[1], service=600, time_windows=[(2500, 9000)])
    [answer] = quote(problem, Travel.of(problem), solution, [new], [])
    [insertion] = answer.insertions
    assert insertion.vehicle_id == "idle"
    [placement] = insertion.placements
    assert placement.after == "start" and placement.position == 2  # behind the lunch break it brought
    grown, after = applied(problem, solution, [new], [], insertion)
    assert check(grown, after) == []
    [route] = [r for r in after.routes if r.vehicle_id == "idle"]
    assert [(s.type, s.id) for s in route.steps][1:3] == [("break", "lunch"), ("stop", "n")]


def test_quotes_over_travel_priced_pair_by_pair_are_those_over_the_whole_matrix():
    data = {"vehicles": [{"id": f"v{k}", "start": [13.4, 52.5], "end": [13.4, 52.5], "capacity": [8],
                          "time_window": [0, 30000]} for k in range(2)],
            "stops": [{"id": f"c{i}", "location": [13.3 + 0.013 * i, 52.45 + 0.007 * (i % 5)], "demand": [1],
                       "service": 120, "time_windows": [[1000 * (i % 6), 1000 * (i % 6) + 5000]]} for i in range(14)]}
    problem = parse_problem(data)
    solution = engine("ortools").solve(problem, time_limit=0.3, seed=1)
    new = [Stop(id="n1", location=(13.41, 52.47), service=60), Stop(id="n2", location=(13.36, 52.49), demand=[2])]
    whole = quote(problem, Travel.of(problem), solution, new, [], limit=4)
    lazy = quote(problem, lazily(problem), solution, new, [], limit=4,
                 plan=Plan(problem, lazily(problem), solution))
    assert whole == lazy and all(answer.insertions for answer in whole)


def test_a_passed_deadline_cuts_the_quotes_short_and_says_so():
    import time

    problem, solution = solved(3)
    stops, shipments = parsed_work(new_work(31, problem))
    travel = Travel.of(problem)
    full = quote(problem, travel, solution, stops, shipments, limit=3)
    assert all(answer.complete for answer in full)
    late = quote(problem, travel, solution, stops, shipments, limit=3, deadline=time.monotonic() - 1)
    assert [a.id for a in late] == [a.id for a in full]
    assert all(not answer.complete and answer.insertions == [] for answer in late)
