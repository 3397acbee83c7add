"""The ``routefarm`` command line.

Exit status: 0 success; 1 the command ran but the answer is negative (no solution found,
violations found); 2 bad input (every error on its own line, no traceback).
"""

from __future__ import annotations

import sys

import click

from .cli_common import EXIT_NEGATIVE, BadInput, read_json, read_text, write_json, write_text
from .cli_farm import clients, db, shards
from .local.command import up


def load_problem(path: str):
    from optimizer import InvalidProblem, parse_problem

    data = read_json(path)
    try:
        return parse_problem(data)
    except InvalidProblem as exc:
        raise BadInput([f"{path}: {issue}" for issue in exc.issues]) from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="routefarm")
def main() -> None:
    """routefarm: vehicle-route optimization, from one problem file to a worker farm."""


@main.command()
@click.argument("problem", metavar="PROBLEM.json")
@click.option("--time-limit", type=click.FloatRange(min=0, min_open=True), help="Seconds of search (default: the problem's options.time_limit).")
@click.option("--seed", type=click.IntRange(min=0), help="Search seed (default: the problem's options.seed).")
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write the solution here instead of standard output.")
def solve(problem: str, time_limit: float | None, seed: int | None, output: str | None) -> None:
    """Solve PROBLEM.json ('-' for standard input) and print the solution JSON."""
    from optimizer import solve as run_solver

    parsed = load_problem(problem)
    solution = run_solver(parsed, time_limit=time_limit, seed=seed)
    write_json(solution.to_json_dict(), output)
    if solution.status == "no_solution":
        click.echo(f"no solution: {solution.solver.message}", err=True)
        sys.exit(EXIT_NEGATIVE)


@main.command()
@click.argument("problem", metavar="PROBLEM.json")
@click.argument("solution", metavar="SOLUTION.json")
def check(problem: str, solution: str) -> None:
    """Audit SOLUTION.json against PROBLEM.json; list every violation found."""
    from optimizer import check as audit

    parsed = load_problem(problem)
    document = read_json(solution)
    if not isinstance(document, dict) or not isinstance(document.get("routes"), list):
        raise BadInput(f"{solution}: not a solution document (an object with a 'routes' list)")
    violations = audit(parsed, document)
    for violation in violations:
        click.echo(str(violation))
    if violations:
        click.echo(f"{len(violations)} violation(s)", err=True)
        sys.exit(EXIT_NEGATIVE)
    click.echo("ok: no violations", err=True)


@main.command()
@click.argument("file", metavar="FILE")
@click.option("--format", "fmt", type=click.Choice(["cvrplib", "solomon"]), help="Input format (default: detected).")
@click.option("--fleet", type=click.IntRange(min=1), help="Number of vehicles (CVRPLIB; default: k from the name).")
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write the problem here instead of standard output.")
def convert(file: str, fmt: str | None, fleet: int | None, output: str | None) -> None:
    """Convert a CVRPLIB (.vrp) or Solomon (.txt) instance to a routefarm problem."""
    from optimizer.convert import convert as run_convert

    try:
        problem = run_convert(read_text(file), fmt=fmt, fleet=fleet)
    except ValueError as exc:
        raise BadInput(f"{file}: {exc}") from None
    write_json(problem, output, indent=None)


@main.command()
@click.argument("problem", metavar="PROBLEM.json")
@click.argument("solution", metavar="SOLUTION.json")
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write the SVG here instead of standard output.")
def render(problem: str, solution: str, output: str | None) -> None:
    """Draw SOLUTION.json over PROBLEM.json's places as SVG (one path per route)."""
    from optimizer.render import RenderError, render_svg

    parsed = load_problem(problem)
    document = read_json(solution)
    if not isinstance(document, dict) or not isinstance(document.get("routes"), list):
        raise BadInput(f"{solution}: not a solution document (an object with a 'routes' list)")
    try:
        svg = render_svg(parsed, document)
    except (RenderError, ValueError, AttributeError, TypeError, KeyError) as exc:
        raise BadInput(f"{solution}: cannot draw: {exc}") from None
    write_text(svg, output)


for _group in (db, clients, shards, up):
    main.add_command(_group)
