"""What every command shares: one-line errors with exit status 2, reading and writing JSON."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from ..errors import BadRequest

EXIT_NEGATIVE = 1
EXIT_BAD_INPUT = 2


class BadInput(BadRequest, click.ClickException):
    """Input the command cannot use; printed one error per line, exit status 2 (click's
    exception, in routefarm's tree as the API's 400 is)."""

    exit_code = EXIT_BAD_INPUT

    def __init__(self, lines: list[str] | str):
        self.lines = [lines] if isinstance(lines, str) else list(lines)
        super().__init__("\n".join(self.lines))

    def show(self, file=None) -> None:
        for line in self.lines:
            click.echo(f"error: {line}", err=True)


def read_text(path: str) -> str:
    try:
        return sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"{path}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None


def read_json(path: str) -> Any:
    text = read_text(path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadInput(f"{path}: not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None


def write_json(document: Any, output: str | None, indent: int | None = 2) -> None:
    write_text(json.dumps(document, indent=indent) + "\n", output)


def write_text(text: str, output: str | None) -> None:
    if output in (None, "-"):
        click.echo(text, nl=False)
    else:
        try:
            Path(output).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise BadInput(f"{output}: cannot write: {exc.strerror or exc}") from None


def read_problem(path: str):
    """(the problem's JSON, the parsed problem); every contract error is a BadInput line."""
    from optimizer import InvalidProblem, parse_problem

    data = read_json(path)
    try:
        return data, parse_problem(data)
    except InvalidProblem as exc:
        more = [f"{path}: {exc.omitted} more error(s) not listed"] if exc.omitted else []
        raise BadInput([f"{path}: {issue}" for issue in exc.issues] + more) from None


def load_problem(path: str):
    return read_problem(path)[1]
