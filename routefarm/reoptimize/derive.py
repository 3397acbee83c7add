"""The problem a re-optimization derives (pure: no I/O).

``derive`` turns the base job's problem and solution plus a request (``request.py``) into a
new contract problem:

- completed stops and shipments are removed (never routed again); cancelled ones too;
  updates are applied and new stops and shipments added (a base solution that already
  serves them, as an applied insertion's does, keeps them in its routes);
- each vehicle starts from its current position at ``max(available_from, at)`` (the start of
  its ``time_window``; a vehicle whose shift ended before that can do nothing any more);
- the in-progress step and the dispatched steps are ``locked`` first, in order, after the
  base problem's own locked steps that are still open;
- the previous routes, without the removed steps, become ``initial_routes`` (warm start,
  and the reference of ``reassign_penalty`` and of the solution's ``changes``).

Modelling choices, each sound for the checker and the solver:

- **Goods on board.** A shipment whose pickup is completed (or whose delivery is in progress)
  keeps both steps; its pickup is moved to the vehicle's position with no service, time
  windows or skills, and locked first, so the vehicle leaves carrying the amount (its capacity
  is used) and must deliver it itself.
- **The step in progress** is also moved to the vehicle's position, with no service, time
  windows or skills: it is being served, and ``available_from`` says when the vehicle is free
  (default ``at``: give ``at`` plus the remaining service time when it matters).
- **Completed stops** leave their demand on the vehicle: the contract counts a stop's demand
  as load kept until the route ends, so the vehicle's capacity shrinks by it. Its
  ``max_stops``, ``max_duration`` and ``max_distance`` shrink by what the day has used
  (steps completed; time since its route started; the base route's distance at its last
  reported step). Breaks reported completed (``"break:<id>"``) or whose windows have all
  closed are removed.
- **Chained re-optimizations.** When a vehicle reports a position away from its start,
  leading locked steps of the base problem at its start place without service time (what an
  earlier re-optimization wrote for goods on board and for the step then in progress) are
  done: the vehicle left after serving them. So ``completed`` lists only what happened since
  the base job's plan.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from optimizer import InvalidProblem, Issue, Limits, parse_problem, pointer
from optimizer.model import MAX_TIME

from ..contract.reoptimize import ReoptimizeChanges, VehicleState, parse_request
from ..errors import InvalidInput
from .reports import Reports, set_place

OPEN_SHIFT = 10 * 365 * 86_400.0  # seconds: the end given to a shift that had none (at most MAX_TIME)
REPLACED = ("stops", "shipments", "vehicles", "locked", "initial_routes")


class Derivation:
    def __init__(self, base: Mapping[str, Any], solution: Mapping[str, Any], changes: ReoptimizeChanges):
        # only what a derivation changes is copied: the rest (the matrix above all) is shared
        # with the base problem, so many derivations of one base (a batch) hold it once
        self.base = {k: copy.deepcopy(v) if k in REPLACED else v for k, v in base.items()}
        self.changes = changes
        self.reports = Reports(self.base, solution, changes)
        self.origin: dict[str, str] = {}  # pointer prefix in the derived problem -> in the request
        # per vehicle id: steps completed, steps reported, shipments on board (read once)
        self.done_by: dict[str, list[str]] = {}
        self.reported_by: dict[str, list[str]] = {}
        self.on_board_by: dict[str, list[str]] = {}

    def build(self) -> dict:
        r = self.reports
        r.check()
        for label, vid in r.done.items():
            self.done_by.setdefault(vid, []).append(label)
        for label, (vid, _, _) in r.reported.items():
            self.reported_by.setdefault(vid, []).append(label)
        for sid, vid in r.on_board.items():
            self.on_board_by.setdefault(vid, []).append(sid)
        locks = self._locks()
        problem = {k: v for k, v in self.base.items() if k not in REPLACED}
        problem["vehicles"] = self._vehicles(locks)
        if r.issues:
            raise InvalidInput(r.issues, "problem")
        problem["stops"] = self._stops()
        problem["shipments"] = self._shipments()
        locked = []
        for vid, lock in locks.items():
            if lock:
                for k, (_, where) in enumerate(lock):
                    if where:
                        self.origin[pointer("locked", len(locked), "steps", k)] = where
                locked.append({"vehicle_id": vid, "steps": [label for label, _ in lock]})
        problem["locked"] = locked
        problem["initial_routes"] = self._initial_routes(locks)
        for key in REPLACED:
            if not problem[key] and key != "vehicles":
                del problem[key]
        if self.changes.reassign_penalty is not None:
            problem["reassign_penalty"] = self.changes.reassign_penalty
        if self.changes.time_limit is not None:
            problem["options"] = {**problem.get("options", {}), "time_limit": self.changes.time_limit}
        return problem

    def locate(self, issue: Issue) -> Issue:
        """An issue of the derived problem, pointed into the request when it came from there."""
        parts = issue.pointer.split("/")
        for n in range(len(parts), 1, -1):  # the longest prefix that came from the request
            prefix = "/".join(parts[:n])
            if prefix in self.origin:
                return Issue(self.origin[prefix] + issue.pointer[len(prefix):], issue.message)
        return Issue("", f"the derived problem is invalid at {issue.pointer or '/'}: {issue.message}")

    # -- work ----------------------------------------------------------------------------

    def _stops(self) -> list[dict]:
        r = self.reports
        updates: dict[str, list[int]] = {}
        for k, update in enumerate(self.changes.update_stops):
            updates.setdefault(update.id, []).append(k)
        out = []
        for stop in self.base.get("stops", []):
            if not r.is_open(stop["id"]):
                continue
            for k in updates.get(stop["id"], []):
                fields = self.changes.update_stops[k].model_dump(mode="json", exclude_unset=True)
                fields.pop("id")
                if "location" in fields or "location_index" in fields:
                    stop.pop("location", None)
                    stop.pop("location_index", None)
                for key, value in fields.items():
                    if value is None:
                        stop.pop(key, None)
                    else:
                        stop[key] = value
                self.origin[pointer("stops", len(out))] = pointer("update_stops", k)
            serving = r.serving(stop["id"])
            if serving is not None:
                self._in_hand(stop, serving)
                stop.pop("skills", None)
            out.append(stop)
        return self._added("stops", self.changes.add_stops, out)

    def _shipments(self) -> list[dict]:
        r = self.reports
        out = []
        for shipment in self.base.get("shipments", []):
            sid = shipment["id"]
            if not r.is_open(f"{sid}:delivery"):
                continue
            for leg in ("pickup", "delivery"):
                holder = r.on_board.get(sid) if leg == "pickup" else r.serving(f"{sid}:delivery")
                holder = holder or r.serving(f"{sid}:{leg}")
                if holder is not None:
                    self._in_hand(shipment[leg], holder)
                    shipment.pop("skills", None)
            out.append(shipment)
        return self._added("shipments", self.changes.add_shipments, out)

    def _added(self, kind: str, items, out: list[dict]) -> list[dict]:
        """``out`` (``kind``: stops or shipments) with the request's new ones (``add_<kind>``) after it."""
        for k, item in enumerate(items):
            self.origin[pointer(kind, len(out))] = pointer(f"add_{kind}", k)
            out.append(item.model_dump(mode="json", exclude_unset=True))
        return out

    def _in_hand(self, task: dict, vid: str) -> None:
        """A task the vehicle is serving or has served: at its position, nothing left to wait for."""
        if vid in self.reports.position:
            set_place(task, self.reports.position[vid], self.reports.matrix_size is not None)
        task.pop("service", None)
        task.pop("time_windows", None)

    def _vehicles(self, locks: dict[str, list]) -> list[dict]:
        r = self.reports
        out = []
        for i, vehicle in enumerate(self.base["vehicles"]):
            vid = vehicle["id"]
            j, state = r.states.get(vid, (None, None))
            ready = self.changes.at
            if state is not None and state.available_from is not None:
                ready = max(ready, state.available_from)
            if vid in r.position:
                matrix = r.matrix_size is not None
                vehicle.pop("start" if matrix else "start_index", None)
                vehicle["start_index" if matrix else "start"] = r.position[vid]
                self.origin[pointer("vehicles", i, "start_index" if matrix else "start")] = \
                    pointer("vehicles", j, "position")
            self._shift(vehicle, ready, j, state, bool(locks.get(vid)))
            if state is not None:
                self._spent(vehicle, ready)
            breaks = [b for b in vehicle.get("breaks", []) if b["id"] not in r.breaks_taken.get(vid, ())
                      and max(w[1] for w in b["time_windows"]) >= ready]
            vehicle.pop("breaks", None)
            if breaks:
                vehicle["breaks"] = breaks
            out.append(vehicle)
        return out

    def _shift(self, vehicle: dict, ready: float, j: int | None, state: VehicleState | None,
               has_work: bool) -> None:
        window = vehicle.get("time_window")
        if not window:
            if ready > 0:
                vehicle["time_window"] = [ready, min(ready + OPEN_SHIFT, MAX_TIME)]
            return
        lo, hi = window
        if max(lo, ready) > hi and (state is not None or has_work):
            late = state is not None and state.available_from is not None and state.available_from > self.changes.at
            self.reports.add(pointer("vehicles", j, "available_from") if late else "/at",
                             f"vehicle {vehicle['id']!r} can leave at {ready:g} at the earliest, "
                             f"after its shift ends ({hi:g})")
        vehicle["time_window"] = [min(max(lo, ready), hi), hi]

    def _spent(self, vehicle: dict, ready: float) -> None:
        """Shrink capacity and limits by what the vehicle's day has used so far."""
        r = self.reports
        vid = vehicle["id"]
        done = self.done_by.get(vid, [])
        stops = [r.stops[label] for label in done if label in r.stops]
        capacity = vehicle.get("capacity")
        if capacity:
            for stop in stops:
                for d, amount in enumerate(stop.get("demand", [])):
                    capacity[d] = max(0, capacity[d] - amount)
        delivered = [label for label in done if label.endswith(":delivery")]
        if vehicle.get("max_stops") is not None:
            vehicle["max_stops"] = max(0, vehicle["max_stops"] - len(stops) - 2 * len(delivered))
        started, distances = r.routes.get(vid, (None, {}))
        if vehicle.get("max_duration") is not None and started is not None and started < ready:
            vehicle["max_duration"] = max(0.0, vehicle["max_duration"] - (ready - started))
        reached = [distances[label] for label in self.reported_by.get(vid, [])
                   if label in distances and label not in r.dispatched]
        if vehicle.get("max_distance") is not None and reached:
            vehicle["max_distance"] = max(0.0, vehicle["max_distance"] - max(reached))

    def _locks(self) -> dict[str, list[tuple[str, str | None]]]:
        """Per vehicle: (step, pointer of the request that put it there, if any)."""
        r = self.reports
        locks: dict[str, list[tuple[str, str | None]]] = {}
        for vehicle in self.base["vehicles"]:
            vid = vehicle["id"]
            lock = [(f"{sid}:pickup", None) for sid in self.on_board_by.get(vid, [])]
            j, state = r.states.get(vid, (None, None))
            if state is not None and state.in_progress is not None:
                lock.append((state.in_progress, pointer("vehicles", j, "in_progress")))
            lock += [(label, None) for label in r.base_locks.get(vid, [])
                     if r.is_open(label) and r.owner(label) in (None, vid)]
            if state is not None:
                lock += [(label, pointer("vehicles", j, "dispatched", m))
                         for m, label in enumerate(state.dispatched) if r.is_open(label)]
            seen: set[str] = set()
            locks[vid] = [(label, where) for label, where in lock if not (label in seen or seen.add(label))]
            for label, where in locks[vid]:
                sid, _, leg = label.rpartition(":")
                if leg == "delivery" and f"{sid}:pickup" not in seen and sid in r.shipments:
                    r.add(where or (pointer("vehicles", j) if j is not None else "/vehicles"),
                          f"{label!r} would be locked on vehicle {vid!r} before its pickup")
        return locks

    def _initial_routes(self, locks: dict[str, list]) -> list[dict]:
        r = self.reports
        placed = {label for lock in locks.values() for label, _ in lock}
        routes = []
        for vehicle in self.base["vehicles"]:
            vid = vehicle["id"]
            steps = [label for label, _ in locks[vid]]
            for label in r.route_steps(vid):
                if label not in placed and r.is_open(label) and r.owner(label) in (None, vid):
                    steps.append(label)
                    placed.add(label)
            for label in list(steps):  # a shipment whose pickup is here is delivered here
                sid, _, leg = label.rpartition(":")
                if leg == "pickup" and f"{sid}:delivery" not in placed:
                    steps.append(f"{sid}:delivery")
                    placed.add(f"{sid}:delivery")
            if steps:
                routes.append({"vehicle_id": vid, "steps": steps})
        return routes


def derive(base_problem: Mapping[str, Any], base_solution: Mapping[str, Any],
           request: ReoptimizeChanges | Mapping[str, Any], limits: Limits | None = None) -> dict:
    """The new problem (a contract dict) for ``request`` against a solved base problem.

    Raises ``InvalidInput`` whose pointers point into the request (``/vehicles/0/completed/2``).
    The derived problem keeps the base problem's matrix, though its stops may be fewer.
    """
    changes = request if isinstance(request, ReoptimizeChanges) else parse_request(request, ReoptimizeChanges)
    derivation = Derivation(base_problem, base_solution, changes)
    problem = derivation.build()
    try:
        parse_problem(problem, limits or Limits())
    except InvalidProblem as exc:
        raise InvalidInput([derivation.locate(issue) for issue in exc.issues], "problem", exc.omitted) from None
    return problem
