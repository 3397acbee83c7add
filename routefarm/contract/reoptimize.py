"""Re-optimization requests: what happened since a job was solved, as validated models.

A request says where each vehicle is and when it can go on, which steps it completed, which
one it is serving, what was dispatched to its driver, and which stops were added, cancelled
or changed (and which shipments were added) (``ReoptimizeChanges``; ``ReoptimizeBody`` over the API, ``ReoptimizeRequest`` on
Kafka). ``parse_request`` validates decoded JSON as one of them, every error with a pointer
into the request. ``derive`` (in ``derive.py``) turns a request into the new problem.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from optimizer import Issue, Issues
from optimizer.issues import add_errors
from optimizer.model import (
    MAX_STEPS,
    MAX_TIME_LIMIT,
    Amounts,
    Coordinate,
    Count,
    Duration,
    Identifier,
    Penalty,
    Shipment,
    Skills,
    Stop,
    Time,
    Windows,
)

from ..errors import InvalidInput

EventId = Annotated[str, Field(min_length=1, max_length=180)]
StepId = Annotated[str, Field(min_length=1, max_length=220, description=(
    "a stop id, '<shipment id>:pickup' or '<shipment id>:delivery'"))]
MAX_VEHICLE_STATES = 10_000  # vehicles of one request
MAX_CHANGED_STOPS = 100_000  # add_stops, cancel_stops, update_stops: each at most this many
POSITION = "must be [lon, lat] or a matrix index (an integer >= 0)"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class VehicleState(_Strict):
    """Where one vehicle of the base problem stands at ``at``. Vehicles left out have done
    nothing yet: they are at their start and can leave at ``at`` at the earliest."""

    id: Identifier = Field(description="a vehicle id of the base problem")
    position: Coordinate | Count | None = Field(None, description=(
        "where the vehicle is: [lon, lat] for a problem with coordinates, an index of its matrix "
        "for a matrix problem; absent: at its in-progress step, else at its last completed step, "
        "else at its start"))
    available_from: Time | None = Field(None, description=(
        "seconds (the base problem's clock): when the vehicle can leave its position, e.g. the "
        "end of the service in progress; absent: at"))
    completed: list[StepId] = Field([], max_length=MAX_STEPS, description=(
        "steps served since the base job's plan, in the order served: never routed again; "
        "'break:<id>' for a break already taken"))
    in_progress: StepId | None = Field(None, description=(
        "the step being served now: it stays on this vehicle, first (after goods on board)"))
    dispatched: list[StepId] = Field([], max_length=MAX_STEPS, description=(
        "steps already sent to the driver: locked right after the step in progress, in order"))


class StopUpdate(_Strict):
    """New values for some fields of a stop; a field set to null returns to its default."""

    id: Identifier = Field(description="a stop id of the base problem")
    location: Coordinate | None = None
    location_index: Count | None = None
    demand: Amounts | None = None
    service: Duration | None = None
    time_windows: Windows | None = None
    skills: Skills | None = None
    drop_penalty: Penalty | None = None


class ReoptimizeChanges(_Strict):
    """What happened since the base job was solved; times in the base problem's seconds."""

    at: Time = Field(description="seconds: the time of this re-plan (no vehicle leaves earlier)")
    vehicles: list[VehicleState] = Field([], max_length=MAX_VEHICLE_STATES, description=(
        "the state of vehicles that have moved or worked"))
    add_stops: list[Stop] = Field([], max_length=MAX_CHANGED_STOPS, description="new stops, complete as in a problem")
    add_shipments: list[Shipment] = Field([], max_length=MAX_CHANGED_STOPS, description=(
        "new shipments, complete as in a problem"))
    cancel_stops: list[Identifier] = Field([], max_length=MAX_CHANGED_STOPS, description=(
        "ids of stops or shipments no longer wanted"))
    update_stops: list[StopUpdate] = Field([], max_length=MAX_CHANGED_STOPS, description=(
        "changed fields of existing stops, by id"))
    reassign_penalty: Penalty | None = Field(None, description=(
        "plan stability: the cost of moving a stop to another vehicle than in the previous "
        "routes, in objective units; absent: the base problem's"))
    time_limit: Annotated[float, Field(gt=0, le=MAX_TIME_LIMIT, allow_inf_nan=False)] | None = Field(
        None, description="seconds of search; absent: the base problem's")


class ReoptimizeBody(ReoptimizeChanges):
    """``POST /v1/jobs/{id}/reoptimize``: the base job is in the URL, the client is the caller."""

    event_id: EventId | None = Field(None, description=(
        "the event's id: the same event sent again creates no second job"))


class ReoptimizeRequest(ReoptimizeChanges):
    """A re-optimization event (e.g. from Kafka): the changes, for a client's base job."""

    event_id: EventId = Field(description="idempotency key: a redelivered event creates no second job")
    client_id: Identifier
    base_job_id: uuid.UUID


Model = TypeVar("Model", bound=ReoptimizeChanges)


def parse_request(data: Any, model: type[Model]) -> Model:
    """Validate decoded JSON as ``model``; raise ``InvalidInput`` with pointers into it (the
    first ``MAX_ISSUES`` errors, and how many more)."""
    if not isinstance(data, Mapping):
        raise InvalidInput([Issue("", "the request must be a JSON object")], "problem")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        found = Issues()
        add_errors(exc, model, data, found)
    raise InvalidInput(request_issues(found), "problem")


def request_issues(found: Issues) -> Issues:
    """``found`` with the errors of a union (a position) said once for the field."""
    out = Issues()
    for issue in found.kept:
        head, inside, _ = issue.pointer.partition("/position/")
        out.append(Issue(head + "/position", POSITION) if inside else issue)
    out.count(found.omitted)
    return out


def idempotency_key(event_id: str) -> str:
    """The job idempotency key of a re-optimization event (apart from clients' own keys)."""
    return f"reoptimize:{event_id}"
