"""``routefarm insert`` and ``routefarm explain``: the decisions of the API, on files."""

from __future__ import annotations

import click

from .common import BadInput, load_problem, read_json, write_json


def read_plan(problem_path: str, solution_path: str):
    """(problem, its travel, solution): the solution must be one the checker accepts."""
    from pydantic import ValidationError

    from optimizer import Solution, check, pydantic_issues
    from optimizer.travel import Travel

    problem = load_problem(problem_path)
    if problem.travel is not None:
        raise BadInput(f"{problem_path}: priced on roads: decide on the solved job's matrix problem instead")
    document = read_json(solution_path)
    if not isinstance(document, dict) or not isinstance(document.get("routes"), list):
        raise BadInput(f"{solution_path}: not a solution document (an object with a 'routes' list)")
    try:
        solution = Solution.model_validate(document)
    except ValidationError as exc:
        raise BadInput([f"{solution_path}: {issue}" for issue in pydantic_issues(exc)]) from None
    violations = check(problem, solution)
    if violations:
        more = f" (+{len(violations) - 1} more)" if len(violations) > 1 else ""
        raise BadInput(f"{solution_path}: the solution breaks the problem: {violations[0]}{more}")
    return problem, Travel.of(problem), solution


@click.command()
@click.argument("problem", metavar="PROBLEM.json")
@click.argument("solution", metavar="SOLUTION.json")
@click.argument("new", metavar="NEW.json")
@click.option("--limit", type=click.IntRange(min=1, max=20), default=5, show_default=True,
              help="Insertions per new task, cheapest first.")
@click.option("--at", type=click.FloatRange(min=0), help="Seconds: steps that start before it stay as they are.")
def insert(problem: str, solution: str, new: str, limit: int, at: float | None) -> None:
    """Quote where the stops and shipments of NEW.json ({"stops": [...], "shipments": [...]})
    fit into SOLUTION.json; print the quotes as JSON (as POST /v1/jobs/{id}/insertions answers)."""
    from pydantic import ValidationError

    from optimizer import pydantic_issues
    from optimizer.decisions import quote, work_issues

    from ..contract.decisions import InsertionRequest

    parsed, travel, plan = read_plan(problem, solution)
    data = read_json(new)
    if not isinstance(data, dict):
        raise BadInput(f"{new}: must be an object with 'stops' and/or 'shipments'")
    try:
        request = InsertionRequest.model_validate({**data, "limit": limit, "at": at})
    except ValidationError as exc:
        raise BadInput([f"{new}: {issue}" for issue in pydantic_issues(exc)]) from None
    issues = work_issues(parsed, request.stops, request.shipments)
    if issues:
        raise BadInput([f"{new}: {issue}" for issue in issues])
    tasks = quote(parsed, travel, plan, request.stops, request.shipments, at=at, limit=limit)
    write_json({"objective": parsed.objective, "at": at, "tasks": [t.model_dump(mode="json") for t in tasks]}, None)


@click.command()
@click.argument("problem", metavar="PROBLEM.json")
@click.argument("solution", metavar="SOLUTION.json")
@click.option("--budget", type=click.FloatRange(min=0), default=30.0, show_default=True,
              help="Seconds for the explanations (the tasks not reached have no fixes).")
def explain(problem: str, solution: str, budget: float) -> None:
    """Print what each route of SOLUTION.json costs (by part, as the objective counts it, and
    its tightest constraint), and for each unassigned task the smallest relaxations that make
    it fit, each confirmed by the checker."""
    from optimizer.decisions import explain as explained
    from optimizer.decisions import priced

    parsed, travel, plan = read_plan(problem, solution)
    plan = explained(parsed, travel, priced(parsed, plan), max_tasks=len(plan.unassigned), budget_s=budget)
    write_json({
        "objective": parsed.objective,
        "summary": plan.summary.costs.model_dump(mode="json"),
        "routes": [{"vehicle_id": r.vehicle_id, "costs": r.costs.model_dump(mode="json"),
                    "tightest": r.tightest.model_dump(mode="json")} for r in plan.routes],
        "unassigned": [u.model_dump(mode="json", exclude_none=True) for u in plan.unassigned],
    }, None)
