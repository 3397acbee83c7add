"""What the decisions answer: insertion quotes, and why new work fits nowhere."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ..solution import Costs


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Placement(_Out):
    """Where one new step goes and when it is served."""

    step: str = Field(description="the new step: a stop id, or '<shipment>:pickup' / '<shipment>:delivery'")
    after: str = Field(description=(
        "the step of the route as it is that it follows: 'start', a stop id, '<shipment>:pickup', "
        "'break:<id>' (a break the route then needs may come between)"))
    position: int = Field(description="its index among the route's steps once inserted (the start is 0)")
    arrival: float = Field(description="seconds")
    service_start: float = Field(description="seconds: arrival plus waiting")


class RouteSlack(_Out):
    """What room the route has left once the new work is in."""

    time: float | None = Field(description=(
        "seconds the new work's service could start later with every window after it and the shift "
        "end still kept (null: nothing bounds it)"))
    capacity: list[int] = Field(description="room left per dimension (empty: no capacity limit)")
    distance: float | None = Field(None, description="metres left under max_distance")
    duration: float | None = Field(None, description="seconds left under max_duration")
    stops: int | None = Field(None, description="tasks left under max_stops")


class Insertion(_Out):
    vehicle_id: str
    placements: list[Placement] = Field(description="one per new step (a shipment: pickup, then delivery)")
    cost: Costs = Field(description="the change of the objective, by part; total: the whole change")
    slack: RouteSlack
    binding: str = Field(description=(
        "the constraint with the least room left, relative to its limit: 'time_window at <step>', "
        "'shift end', 'capacity', 'max_duration', 'max_distance', 'max_stops' (a time slack is "
        "counted against the route's duration)"))


class Shortfall(_Out):
    constraint: Literal["skills", "unreachable", "capacity", "max_stops", "time_window", "shift", "break",
                        "max_duration", "max_distance"]
    step: str | None = Field(None, description="where it binds: a step id, 'end' for the shift")
    by: float | None = Field(None, description="how much is missing: seconds, metres, units of capacity or tasks")
    dimension: int | None = Field(None, description="the capacity dimension")
    skills: list[str] | None = Field(None, description="skills the vehicle lacks")
    message: str


class Closest(_Out):
    """A vehicle that came close to taking the new work, and what it lacks there."""

    vehicle_id: str
    after: str | None = Field(description="the step after which it came closest (null: nowhere to try)")
    shortfalls: list[Shortfall]


class TaskQuote(_Out):
    id: str
    type: Literal["stop", "shipment"]
    insertions: list[Insertion] = Field(description="the cheapest feasible insertions, cheapest first")
    closest: list[Closest] = Field([], description=(
        "when none is feasible: the vehicles closest to fitting (fewest failing constraints, then "
        "the smallest shortfalls), each with what fails and by how much"))
    complete: bool = Field(True, description=(
        "false: the request's time budget ran out before every place was judged; the insertions "
        "listed are exact, but cheaper ones may exist (ask for fewer tasks or insertions at once)"))
