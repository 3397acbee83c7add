"""The solution document: routes with timelines, unassigned work with reasons, solver facts."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

Status = Literal["feasible", "infeasible", "no_solution"]
StepType = Literal["start", "stop", "pickup", "delivery", "break", "end"]
Reason = Literal[
    "capacity", "time_window", "skills", "max_distance", "max_duration", "unreachable", "dropped"
]
REASONS: tuple[str, ...] = Reason.__args__  # type: ignore[attr-defined]


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Step(_Out):
    type: StepType
    id: str | None = None  # stop, shipment or break id; none on start and end
    arrival: float  # seconds
    departure: float | None = None  # seconds; none on the end step
    waiting: float = 0.0  # seconds between arrival and the start of service
    load: list[int]  # after the step
    distance: float  # metres driven since the start


class Costs(_Out):
    """What a route (or the whole plan) adds to the objective, in the objective's units
    (metres for ``distance``, seconds for ``duration``, currency for ``cost``); the parts
    add up to ``total``. Parts the objective does not count are 0."""

    total: float
    distance: float  # driving: the metres, or cost_per_km x km
    time: float  # the route's duration but its waiting: seconds, or cost_per_hour x hours
    waiting: float  # the steps' waiting: seconds, or cost_per_hour x hours
    fixed: float  # fixed_cost of a used vehicle (objective cost)
    penalties: float = 0.0  # drop penalties of unserved work (the plan's summary only)


class Tightest(_Out):
    """A route's tightest constraints: the step with the least window slack, and its load."""

    step: str | None = None  # the stop or shipment step closest to its window's end; none: no windows
    window_slack: float | None = None  # seconds between its service start and its window's end
    load: list[int]  # the most the vehicle carries, per dimension
    capacity: list[int]  # per dimension; empty: no capacity limit


class Route(_Out):
    vehicle_id: str
    distance: float  # metres
    duration: float  # seconds from the start step's departure to the end step's arrival
    cost: float
    steps: list[Step]
    costs: Costs | None = None
    tightest: Tightest | None = None


FixKind = Literal["fits", "drop_penalty", "time_window", "shift_end", "max_duration", "max_distance",
                  "max_stops", "capacity", "skills"]


class Fix(_Out):
    """One relaxation that makes an unassigned task fit into the plan as it is, checked.

    ``by``: seconds (``time_window``: every window of the task widened by this much on both
    sides; ``shift_end``, ``max_duration``: the vehicle's), metres (``max_distance``), tasks
    (``max_stops``), or the insertion's cost in objective units (``drop_penalty``: a penalty
    above it makes serving the task cheaper than dropping it; ``fits``: the task fits the plan
    as it is, at that cost).
    """

    kind: FixKind
    vehicle_id: str | None = None  # the vehicle that serves it then (the one relaxed, for a vehicle's limit)
    by: float | None = None
    capacity: list[int] | None = None  # capacity: added per dimension
    skills: list[str] | None = None  # skills: added to the vehicle
    after: str  # where it then fits: the step it follows ("start", a stop id, "s1:pickup", ...)
    delivery_after: str | None = None  # a shipment's delivery: the step it follows
    message: str


class Unassigned(_Out):
    id: str
    type: Literal["stop", "shipment"]
    reason: Reason
    # the smallest relaxations that make it fit, one per kind (empty: no single one does);
    # absent when not explained (past the farm's bounds)
    fixes: list[Fix] | None = None


class Summary(_Out):
    distance: float
    duration: float
    cost: float
    vehicles_used: int
    unassigned: int
    costs: Costs | None = None  # the objective by part: the routes' parts plus the penalties


class EngineRun(_Out):
    """One engine's part in a solve (``auto`` may run several)."""

    engine: str  # name and version
    seconds: float  # of search it was given
    objective: float | None = None  # the contract's objective of its checked solution
    rejected: str | None = None  # why its result was not taken (refused, failed, a violation)


class SolverInfo(_Out):
    engine: str
    search: str | None = None  # the metaheuristic that ran ("iterated_local_search", ...)
    wall_time: float  # seconds spent in solve(), model building included
    objective: int | None  # the solver's internal integer objective
    improvements: list[tuple[float, int]]  # (elapsed seconds, objective) per improvement
    stopped_by: Literal["time_limit", "stop_request", "finished", "no_solution"]
    message: str | None = None
    runs: list[EngineRun] | None = None  # the engines that ran, in order (auto)


class Change(_Out):
    """A step of ``initial_routes`` that the new plan serves differently."""

    step: str  # "c1", or "s1:pickup" / "s1:delivery"
    from_vehicle: str
    to_vehicle: str | None  # none: the step is no longer served
    from_position: int  # 0-based, among the steps of the initial route
    to_position: int | None  # 0-based, among the stop, pickup and delivery steps of the new route


class Changes(_Out):
    """The new plan against ``initial_routes`` (present when the problem has them).

    ``reordered`` steps stay on their vehicle but their order relative to the other steps
    that stayed changed: the fewest such steps that explain the new order (the others form
    a longest common subsequence of both routes). New work inserted between steps, or work
    taken away, moves positions but reorders nothing.
    """

    reassigned: list[Change]  # served by another vehicle, or not any more
    reordered: list[Change]
    unchanged: int  # steps kept on their vehicle, in their relative order


class TravelUsed(_Out):
    """The roads a problem's coordinates were priced on (``travel`` in the problem)."""

    source: str  # the road source's URL
    profile: str
    data_version: str | None = None  # the source's data (its OpenStreetMap file's hash), if it says


class Solution(_Out):
    status: Status
    summary: Summary
    routes: list[Route]
    unassigned: list[Unassigned]
    solver: SolverInfo
    changes: Changes | None = None
    travel: TravelUsed | None = None  # set by the farm for a problem priced on roads

    def to_json_dict(self) -> dict:
        return self.model_dump(mode="json", exclude_none=True)
