"""What a re-optimization request reports, checked against its base problem and solution.

Every reference is checked at once and each error points into the request
(``/vehicles/0/completed/2: unknown step 'x'``). The result says, per step, who reported it
and how (completed, in progress, dispatched), where each vehicle is, which shipments are on
board, and which stops and shipments are still open.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from optimizer import Issues, pointer

from ..contract.reoptimize import ReoptimizeChanges, VehicleState
from ..errors import InvalidInput

LEGS = ("pickup", "delivery")
Report = tuple[str, str, str]  # (vehicle id, "completed" | "in_progress" | "dispatched", pointer)


def set_place(task: dict, place: Any, matrix: bool) -> None:
    task.pop("location", None)
    task.pop("location_index", None)
    task["location_index" if matrix else "location"] = place


class Reports:
    def __init__(self, base: dict, solution: Mapping[str, Any], changes: ReoptimizeChanges):
        self.base = base
        self.changes = changes
        self.issues = Issues()
        matrix = base.get("matrix")
        self.matrix_size = _matrix_size(matrix) if isinstance(matrix, Mapping) else None
        self.stops = {s["id"]: s for s in base.get("stops", [])}
        self.shipments = {s["id"]: s for s in base.get("shipments", [])}
        self.vehicles = {v["id"]: v for v in base["vehicles"]}
        self.base_locks = {spec["vehicle_id"]: list(spec["steps"]) for spec in base.get("locked", [])}
        self.routes = _routes(solution)  # vehicle id -> (start departure, {step: distance so far})
        self.states: dict[str, tuple[int, VehicleState]] = {}
        self.reported: dict[str, Report] = {}
        self.done: dict[str, str] = {}  # completed step -> vehicle id
        self.dispatched: set[str] = set()
        self.breaks_taken: dict[str, set[str]] = {}
        self.position: dict[str, Any] = {}  # vehicle id -> index or [lon, lat]; absent: unchanged
        self.on_board: dict[str, str] = {}  # shipment id -> vehicle id
        self.cancelled: set[str] = set()  # stop and shipment ids
        # the steps of added work: a base plan that already serves them keeps them
        self.added = {s.id for s in changes.add_stops} | {
            f"{s.id}:{leg}" for s in changes.add_shipments for leg in LEGS}

    def add(self, where: str, message: str) -> None:
        self.issues.add(where, message)

    def check(self) -> None:
        for j, state in enumerate(self.changes.vehicles):
            self._vehicle(j, state)
        self._positions()
        self._carry_over()
        self._shipments()
        self._stop_changes()
        if self.issues:
            raise InvalidInput(self.issues, "problem")

    # -- questions -----------------------------------------------------------------------

    def task(self, label: str) -> dict | None:
        """The object holding a step's place and service (a stop, or a shipment's leg)."""
        if label in self.stops:
            return self.stops[label]
        sid, _, leg = label.rpartition(":")
        return self.shipments[sid][leg] if leg in LEGS and sid in self.shipments else None

    def is_open(self, label: str) -> bool:
        """Is the step part of the new problem (not done, not cancelled, or added)?"""
        if label in self.added:
            return True
        if label in self.stops:
            return label not in self.done and label not in self.cancelled
        sid = label.rpartition(":")[0]
        return (self.task(label) is not None and f"{sid}:delivery" not in self.done
                and sid not in self.cancelled)

    def owner(self, label: str) -> str | None:
        """The vehicle the request puts this step's stop or shipment on, if any."""
        sid, _, leg = label.rpartition(":")
        labels = [f"{sid}:{x}" for x in LEGS] if leg in LEGS and sid in self.shipments else [label]
        found = [self.reported[x][0] for x in labels if x in self.reported]
        return found[0] if found else self.on_board.get(sid)

    def serving(self, label: str) -> str | None:
        report = self.reported.get(label)
        return report[0] if report and report[1] == "in_progress" else None

    def route_steps(self, vid: str) -> list[str]:
        return list(self.routes.get(vid, (None, {}))[1])

    def place(self, obj: Mapping[str, Any], start: bool = False) -> Any:
        field = ("start" if start else "location") if self.matrix_size is None else (
            "start_index" if start else "location_index")
        value = obj.get(field)
        return list(value) if isinstance(value, list | tuple) else value

    # -- checks --------------------------------------------------------------------------

    def _vehicle(self, j: int, state: VehicleState) -> None:
        if state.id not in self.vehicles:
            self.add(pointer("vehicles", j, "id"), f"unknown vehicle {state.id!r}")
            return
        if state.id in self.states:
            self.add(pointer("vehicles", j, "id"),
                     f"vehicle {state.id!r} is reported twice (also at /vehicles/{self.states[state.id][0]})")
            return
        self.states[state.id] = (j, state)
        self._position(j, state)
        breaks = {b["id"] for b in self.vehicles[state.id].get("breaks", [])}
        for m, label in enumerate(state.completed):
            if label.startswith("break:") and label[6:] in breaks:
                self.breaks_taken.setdefault(state.id, set()).add(label[6:])
            else:
                self._report(state.id, label, "completed", pointer("vehicles", j, "completed", m))
        if state.in_progress is not None:
            self._report(state.id, state.in_progress, "in_progress", pointer("vehicles", j, "in_progress"))
        for m, label in enumerate(state.dispatched):
            self._report(state.id, label, "dispatched", pointer("vehicles", j, "dispatched", m))

    def _report(self, vid: str, label: str, how: str, where: str) -> None:
        if self.task(label) is None:
            self.add(where, f"unknown step {label!r}: not a stop id or '<shipment>:pickup|delivery' "
                     "of the base problem" + (" nor 'break:<id>' of this vehicle" if how == "completed" else ""))
        elif label in self.reported:
            self.add(where, f"step {label!r} is already reported at {self.reported[label][2]}")
        else:
            self.reported[label] = (vid, how, where)
            if how == "completed":
                self.done[label] = vid
            elif how == "dispatched":
                self.dispatched.add(label)

    def _position(self, j: int, state: VehicleState) -> None:
        where, value = pointer("vehicles", j, "position"), state.position
        if value is None:
            return
        if self.matrix_size is None and not isinstance(value, tuple):
            self.add(where, "the base problem has coordinates: give [lon, lat]")
        elif self.matrix_size is not None and isinstance(value, tuple):
            self.add(where, "the base problem has a matrix: give an index of it")
        elif self.matrix_size is not None and value >= self.matrix_size:
            self.add(where, f"index {value} is outside the {self.matrix_size}x{self.matrix_size} matrix")

    def _positions(self) -> None:
        for vid, (_, state) in self.states.items():
            if state.position is not None:
                self.position[vid] = list(state.position) if isinstance(state.position, tuple) else state.position
                continue
            served = [state.in_progress] if state.in_progress else []
            served += [label for label in reversed(state.completed) if self.task(label) is not None]
            if served and self.task(served[0]) is not None:
                self.position[vid] = self.place(self.task(served[0]))

    def _carry_over(self) -> None:
        """Leading locked steps served at the start place without service are done once the
        vehicle has left it (see ``reoptimize``: chained re-optimizations)."""
        for vid, (j, _) in self.states.items():
            start = self.place(self.vehicles[vid], start=True)
            if vid not in self.position or start is None or self.position[vid] == start:
                continue
            for label in self.base_locks.get(vid, []):
                report, task = self.reported.get(label), self.task(label)
                if report is not None and report[:2] == (vid, "completed"):
                    continue
                if report is not None or task is None or self.place(task) != start or task.get("service", 0):
                    break
                self.reported[label] = (vid, "completed", pointer("vehicles", j, "position"))
                self.done[label] = vid

    def _shipments(self) -> None:
        for sid in self.shipments:
            pickup, delivery = (self.reported.get(f"{sid}:{leg}") for leg in LEGS)
            if pickup and delivery and pickup[0] != delivery[0]:
                self.add(delivery[2], f"{sid!r} is picked up by vehicle {pickup[0]!r} ({pickup[2]}); "
                         "the same vehicle delivers it")
            elif delivery and delivery[1] != "dispatched" and pickup and pickup[1] != "completed":
                self.add(delivery[2], f"the delivery of {sid!r} cannot be {delivery[1].replace('_', ' ')} "
                         f"while its pickup is {pickup[1].replace('_', ' ')} ({pickup[2]})")
            elif delivery and delivery[1] == "completed":
                continue
            elif pickup and pickup[1] == "completed":
                self.on_board[sid] = pickup[0]
            elif delivery and delivery[1] == "in_progress":
                self.on_board[sid] = delivery[0]

    def _stop_changes(self) -> None:
        for k, ident in enumerate(self.changes.cancel_stops):
            where = pointer("cancel_stops", k)
            labels = [ident] if ident in self.stops else [f"{ident}:{leg}" for leg in LEGS]
            if ident not in self.stops and ident not in self.shipments:
                self.add(where, f"unknown stop or shipment {ident!r}")
                continue
            hit = [self.reported[x] for x in labels if x in self.reported and self.reported[x][1] != "dispatched"]
            if hit or ident in self.on_board:
                what = f"reported {hit[0][1].replace('_', ' ')} ({hit[0][2]})" if hit else "on board"
                self.add(where, f"{ident!r} is {what}: it cannot be cancelled")
            else:
                self.cancelled.add(ident)
        for k, update in enumerate(self.changes.update_stops):
            where = pointer("update_stops", k, "id")
            if update.id not in self.stops:
                self.add(where, f"unknown stop {update.id!r}")
            elif update.id in self.cancelled or update.id in self.done:
                self.add(where, f"stop {update.id!r} is {'cancelled' if update.id in self.cancelled else 'completed'}")
        for k, stop in enumerate(self.changes.add_stops):
            if stop.id in self.stops:
                self.add(pointer("add_stops", k, "id"),
                         f"stop {stop.id!r} is in the base problem (change it with update_stops)")
        for k, shipment in enumerate(self.changes.add_shipments):
            if shipment.id in self.shipments:
                self.add(pointer("add_shipments", k, "id"), f"shipment {shipment.id!r} is in the base problem")


def _matrix_size(matrix: Mapping[str, Any]) -> int | None:
    rows = matrix.get("distances") or matrix.get("durations")
    return len(rows) if isinstance(rows, list) else None


def _routes(solution: Mapping[str, Any]) -> dict[str, tuple[float | None, dict[str, float]]]:
    out = {}
    for route in solution.get("routes") or []:
        steps = route.get("steps") or []
        start = steps[0].get("departure") if steps and steps[0].get("type") == "start" else None
        tasks = {(s["id"] if s["type"] == "stop" else f"{s['id']}:{s['type']}"): s.get("distance", 0.0)
                 for s in steps if s.get("type") in ("stop", *LEGS)}
        out[route["vehicle_id"]] = (start, tasks)
    return out
