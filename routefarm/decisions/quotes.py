"""Insertion quotes over a job's plan, and applying one through the re-optimization door.

``quotes`` answers at once: the job's plan (``plans``), the new work checked against its
problem, ``optimizer.decisions.quote``. ``apply`` inserts one new stop or shipment where the
client chose (or at the cheapest place), then submits a re-optimization of the job
(``reoptimize.submit.reoptimize``): the new work is added (``add_stops``/``add_shipments``),
the plan with it inserted is the base solution, hence the new job's warm start
(``initial_routes``); with ``at``, what started before it is reported done (or in progress)
as a re-optimization request reports it.
"""

from __future__ import annotations

import time
import uuid
from typing import Any, TypeVar

from pydantic import BaseModel

from optimizer import InvalidProblem
from optimizer.decisions import Plan, Quoter, quote, work_issues

from ..contract.decisions import InsertionApplyRequest, InsertionQuotes, InsertionRequest
from ..contract.reoptimize import ReoptimizeChanges, VehicleState
from ..contract.requests import shape_issues
from ..errors import Conflict, InvalidInput
from ..jobs.services import Services
from ..jobs.submit import Accepted
from ..reoptimize.submit import reoptimize
from .plans import JobPlan, Plans

Body = TypeVar("Body", bound=BaseModel)


class NoRoom(Conflict):
    """The new work fits nowhere in the plan."""

    def __init__(self, task: str, closest: list[dict]):
        super().__init__(f"{task!r} fits nowhere in the plan; 'closest' says what fails on the vehicles that "
                         "came closest", "no-feasible-insertion", closest=closest)


def parse(body: Any, model: type[Body]) -> Body:
    issues = shape_issues(body, model)
    if issues:
        raise InvalidInput(issues, "problem")
    return model.model_validate(body)


def _checked(plans: Plans, farm: Services, client_id: str, job_id: uuid.UUID, request) -> JobPlan:
    plan = plans.read(farm, client_id, job_id)
    issues = work_issues(plan.problem, request.stops, request.shipments)
    if issues:
        raise InvalidInput(issues, "problem")
    return plan


def quotes(farm: Services, plans: Plans, client_id: str, job_id: uuid.UUID, body: Any) -> dict:
    """The answer to ``POST /v1/jobs/{id}/insertions``; the request's budget counts from here,
    reading the plan included."""
    deadline = time.monotonic() + farm.settings.decisions_budget_s
    request = parse(body, InsertionRequest)
    plan = _checked(plans, farm, client_id, job_id, request)
    tasks = quote(plan.problem, plan.travel, plan.solution, request.stops, request.shipments,
                  at=request.at, limit=request.limit, plan=plans.plan(plan, request.at), deadline=deadline)
    return InsertionQuotes(job_id=job_id, plan=plan.source, objective=plan.problem.objective, at=request.at,
                           tasks=tasks).model_dump(mode="json")


def apply(farm: Services, plans: Plans, client_id: str, job_id: uuid.UUID, body: Any,
          request_id: str | None = None) -> Accepted:
    """``POST /v1/jobs/{id}/insertions/apply``: the re-optimization job, accepted."""
    deadline = time.monotonic() + farm.settings.decisions_budget_s
    request = parse(body, InsertionApplyRequest)
    plan = _checked(plans, farm, client_id, job_id, request)
    quoter = Quoter.with_work(plans.plan(plan, request.at), request.stops, request.shipments, limit=1,
                              deadline=deadline)
    [task] = quoter.new_tasks(request.stops, request.shipments)
    grown = quoter.problem
    if request.choice is not None:
        choice = request.choice
        try:
            slot, run = quoter.chosen(task, choice.vehicle_id, choice.after, choice.delivery_after)
        except InvalidProblem as exc:
            raise InvalidInput.of(exc, about="request") from None
    else:
        found, near = quoter.place(task)
        if not found:
            raise NoRoom(task.id, [c.model_dump(mode="json") for c in quoter.closest_vehicles(near)])
        slot, run = found[0]
    inserted = quoter.plan.with_route(slot.v, run.route, grown)
    afters = quoter.afters(task, slot)
    where = {"id": task.id, "vehicle_id": grown.vehicles[slot.v].id, "after": afters[0]}
    if task.type == "shipment":
        where["delivery_after"] = afters[1]
    changes = ReoptimizeChanges(at=request.at or 0.0, vehicles=_states(quoter.plan, request.at),
                                add_stops=request.stops, add_shipments=request.shipments,
                                time_limit=request.time_limit)
    return reoptimize(farm, client_id, job_id, changes, event_id=request.event_id, request_id=request_id,
                      plan=inserted.to_json_dict(), metadata={"inserted": where})


def _states(plan: Plan, at: float | None) -> list[VehicleState]:
    """What the vehicles did before ``at``, as a re-optimization request reports it: steps
    that started before it are done, the last one in progress while it lasts past ``at``."""
    if at is None:
        return []
    states = []
    for view in plan.routes:
        if not view.frozen:
            continue
        labels = [w.label for w in view.work[: view.frozen]]
        last = view.steps[view.frozen]
        free_at = max(last.departure or at, at)
        busy = last.type != "break" and (last.departure or 0.0) > at
        states.append(VehicleState(id=plan.problem.vehicles[view.v].id, available_from=free_at,
                                   completed=labels[:-1] if busy else labels,
                                   in_progress=labels[-1] if busy else None))
    return states
