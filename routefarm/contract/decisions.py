"""Bodies and answers of the decisions endpoints: insertion quotes and applying one."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from optimizer.decisions.answers import TaskQuote
from optimizer.decisions.insertion import DEFAULT_LIMIT
from optimizer.model import MAX_TIME_LIMIT, Identifier, Objective, Shipment, Stop, Time

from .reoptimize import EventId, StepId

MAX_NEW_TASKS = 100  # stops and shipments quoted in one request
MAX_LIMIT = 20  # insertions asked for per task
AT = Field(None, description=(
    "seconds (the job's clock): steps that start before it stay as they are, nothing is placed "
    "before them and nothing new starts before it; absent: the whole plan may move"))


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Work(_Body):
    stops: list[Stop] = Field([], max_length=MAX_NEW_TASKS, description=(
        "new stops, complete as in a problem; ids unused by the job's problem"))
    shipments: list[Shipment] = Field([], max_length=MAX_NEW_TASKS, description=(
        "new shipments, complete as in a problem; ids unused by the job's problem"))
    at: Time | None = AT

    def tasks(self) -> int:
        return len(self.stops) + len(self.shipments)


class InsertionRequest(_Work):
    """``POST /v1/jobs/{id}/insertions``: where new work fits into the job's plan (each task
    quoted alone against the plan as it is)."""

    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="insertions per task, cheapest first")

    @model_validator(mode="after")
    def _some_work(self) -> InsertionRequest:
        if not 1 <= self.tasks() <= MAX_NEW_TASKS:
            raise ValueError(f"give 1 to {MAX_NEW_TASKS} new stops and shipments in all (got {self.tasks()})")
        return self


class InsertionChoice(_Body):
    """Where to insert: a quote's ``vehicle_id`` and the steps its placements follow."""

    vehicle_id: Identifier
    after: StepId = Field(description="the step the new stop (or the shipment's pickup) follows: 'start', a stop "
                                      "id, '<shipment>:pickup|delivery' or 'break:<id>' of that vehicle's route")
    delivery_after: StepId | None = Field(None, description=(
        "a shipment: the step its delivery follows ('<shipment>:pickup' for right after its pickup)"))


class InsertionApplyRequest(_Work):
    """``POST /v1/jobs/{id}/insertions/apply``: one new stop or shipment, inserted where
    ``choice`` says (absent: the cheapest place), then improved by a re-optimization job."""

    choice: InsertionChoice | None = Field(None, description="absent: the cheapest feasible insertion")
    time_limit: Annotated[float, Field(gt=0, le=MAX_TIME_LIMIT, allow_inf_nan=False)] | None = Field(
        None, description="seconds of search; absent: the job's problem's")
    event_id: EventId | None = Field(None, description="the same event sent again creates no second job")

    @model_validator(mode="after")
    def _one_task(self) -> InsertionApplyRequest:
        if self.tasks() != 1:
            raise ValueError(f"give exactly one new stop or shipment (got {self.tasks()})")
        return self


class InsertionQuotes(BaseModel):
    """The quotes for each new task, in the order of the request (stops, then shipments)."""

    model_config = ConfigDict(extra="forbid")

    job_id: uuid.UUID
    plan: Literal["solution", "incumbent"] = Field(description=(
        "what was quoted against: the job's solution, or a running job's best solution so far"))
    objective: Objective = Field(description="the units of every cost: metres, seconds or currency")
    at: float | None = None
    tasks: list[TaskQuote]
