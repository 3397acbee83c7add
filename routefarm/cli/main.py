"""The ``routefarm`` command line.

Exit status: 0 success; 1 the command ran but the answer is negative (no solution found,
violations found); 2 bad input (every error on its own line, no traceback).
"""

from __future__ import annotations

import sys

import click

from ..local.command import up
from .common import (
    EXIT_NEGATIVE,
    BadInput,
    load_problem,
    read_json,
    read_problem,
    read_text,
    write_json,
    write_text,
)
from .decisions import explain, insert
from .farm import clients, db, purge, shards
from .kafka import clients_ingest_key, outbox
from .keys import clients_revoke, clients_rotate
from .roads import roads


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="routefarm")
def main() -> None:
    """routefarm: vehicle-route optimization, from one problem file to a worker farm."""


@main.command()
@click.argument("problem", metavar="PROBLEM.json")
@click.option("--time-limit", type=click.FloatRange(min=0, min_open=True), help="Seconds of search (default: the problem's options.time_limit).")
@click.option("--seed", type=click.IntRange(min=0), help="Search seed (default: the problem's options.seed).")
@click.option("--memory-limit", type=click.IntRange(min=1), metavar="MIB", help="Memory limit of the search in MiB (default: sized from this machine).")
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write the solution here instead of standard output.")
def solve(problem: str, time_limit: float | None, seed: int | None, memory_limit: int | None,
          output: str | None) -> None:
    """Solve PROBLEM.json ('-' for standard input) and print the solution JSON.

    The search runs in a child process, as in a farm worker, so both give the same routes
    for the same problem, limit and seed. Ctrl-C stops it and prints the best solution so far.
    """
    import signal
    import time

    from ..runner import Runner
    from ..runner.memory import resolve_limit

    started = time.monotonic()
    data, parsed = read_problem(problem)
    limit = time_limit if time_limit is not None else parsed.options.time_limit
    interrupted: list[bool] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: interrupted.append(True))
    try:
        result = Runner(resolve_limit(memory_limit or 0), method="fork").solve(
            data, time_limit=limit, seed=seed,
            started=started, stop=lambda: "interrupted" if interrupted else None)
    finally:
        signal.signal(signal.SIGINT, previous)
    if result.failure is not None and result.solution is None:
        click.echo(f"error: {result.failure[1]} ({result.failure[0]})", err=True)
        sys.exit(EXIT_NEGATIVE)
    document = result.solution
    if document is None:
        click.echo("no solution: stopped before a first solution was found", err=True)
        sys.exit(EXIT_NEGATIVE)
    if result.stopped is not None:
        document = {**document, "solver": {**document["solver"], "stopped_by": "stop_request"}}
        click.echo(f"stopped ({result.stopped}): the best solution so far", err=True)
    write_json(document, output)
    if document["status"] == "no_solution":
        click.echo(f"no solution: {document['solver'].get('message')}", err=True)
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


for _group in (insert, explain, db, clients, shards, purge, up, roads):
    main.add_command(_group)
for _command in (clients_revoke, clients_rotate, clients_ingest_key):
    clients.add_command(_command)
main.add_command(outbox)
