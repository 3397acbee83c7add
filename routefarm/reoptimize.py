"""Re-optimization requests and the problem they derive (pure: no I/O).

A re-optimization request says what happened since a job was solved: where each vehicle is
and when it can go on, which steps it completed, which one it is serving, what was
dispatched to its driver, and which stops were added, cancelled or changed. ``derive`` turns
the base job's problem and solution plus such a request into a new contract problem:

- completed stops and shipments are removed (never routed again); cancelled ones too;
  updates are applied and new stops added;
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

import uuid
from collections.abc import Mapping
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from optimizer import InvalidProblem, Issue, Limits, parse_problem
from optimizer.model import Coordinate, Count, Identifier, NonNegative, Positive, Stop, Window
from optimizer.validate import pydantic_issues

from .derivation import Derivation

EventId = Annotated[str, Field(min_length=1, max_length=180)]
StepId = Annotated[str, Field(min_length=1, max_length=220, description=(
    "a stop id, '<shipment id>:pickup' or '<shipment id>:delivery'"))]


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
    available_from: NonNegative | None = Field(None, description=(
        "seconds (the base problem's clock): when the vehicle can leave its position, e.g. the "
        "end of the service in progress; absent: at"))
    completed: list[StepId] = Field([], description=(
        "steps served since the base job's plan, in the order served: never routed again; "
        "'break:<id>' for a break already taken"))
    in_progress: StepId | None = Field(None, description=(
        "the step being served now: it stays on this vehicle, first (after goods on board)"))
    dispatched: list[StepId] = Field([], description=(
        "steps already sent to the driver: locked right after the step in progress, in order"))


class StopUpdate(_Strict):
    """New values for some fields of a stop; a field set to null returns to its default."""

    id: Identifier = Field(description="a stop id of the base problem")
    location: Coordinate | None = None
    location_index: Count | None = None
    demand: list[Count] | None = None
    service: NonNegative | None = None
    time_windows: list[Window] | None = None
    skills: list[Identifier] | None = None
    drop_penalty: NonNegative | None = None


class ReoptimizeChanges(_Strict):
    """What happened since the base job was solved; times in the base problem's seconds."""

    at: NonNegative = Field(description="seconds: the time of this re-plan (no vehicle leaves earlier)")
    vehicles: list[VehicleState] = Field([], description="the state of vehicles that have moved or worked")
    add_stops: list[Stop] = Field([], description="new stops, complete as in a problem")
    cancel_stops: list[Identifier] = Field([], description="ids of stops or shipments no longer wanted")
    update_stops: list[StopUpdate] = Field([], description="changed fields of existing stops, by id")
    reassign_penalty: NonNegative | None = Field(None, description=(
        "plan stability: the cost of moving a stop to another vehicle than in the previous "
        "routes, in objective units; absent: the base problem's"))
    time_limit: Positive | None = Field(None, description="seconds of search; absent: the base problem's")


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
    """Validate decoded JSON as ``model``; raise ``InvalidProblem`` with pointers into it."""
    if not isinstance(data, Mapping):
        raise InvalidProblem([Issue("", "the request must be a JSON object")])
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        issues = []
        for issue in pydantic_issues(exc):
            head, found, _ = issue.pointer.partition("/position/")
            if found:  # a union's inner errors: one sentence for the field
                issue = Issue(head + "/position", "must be [lon, lat] or a matrix index (an integer >= 0)")
            if issue not in issues:
                issues.append(issue)
        raise InvalidProblem(issues) from None


def idempotency_key(event_id: str) -> str:
    """The job idempotency key of a re-optimization event (apart from clients' own keys)."""
    return f"reoptimize:{event_id}"


def derive(base_problem: Mapping[str, Any], base_solution: Mapping[str, Any],
           request: ReoptimizeChanges | Mapping[str, Any], limits: Limits | None = None) -> dict:
    """The new problem (a contract dict) for ``request`` against a solved base problem.

    Raises ``InvalidProblem`` whose pointers point into the request (``/vehicles/0/completed/2``).
    """
    changes = request if isinstance(request, ReoptimizeChanges) else parse_request(request, ReoptimizeChanges)
    derivation = Derivation(base_problem, base_solution, changes)
    problem = derivation.build()
    try:
        parse_problem(problem, limits)
    except InvalidProblem as exc:
        raise InvalidProblem([derivation.locate(issue) for issue in exc.issues]) from None
    return problem
