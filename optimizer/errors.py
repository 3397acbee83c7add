"""Exceptions raised by the optimizer, and the bounded list of issues they carry.

OptimizerError
 └── InvalidProblem      the input breaks the contract; ``issues`` lists the first
                         ``MAX_ISSUES`` errors found, ``omitted`` counts the others
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

MAX_ISSUES = 100  # errors one answer lists; the others are only counted


@dataclass(frozen=True, slots=True)
class Issue:
    """One validation error: a JSON pointer into the input and a plain sentence."""

    pointer: str
    message: str

    def __str__(self) -> str:
        return f"{self.pointer or '/'}: {self.message}"


class Issues:
    """Errors as they are found: the first ``limit`` kept (each once, in order), the rest
    only counted, so that no input can make a list of errors grow without bound."""

    def __init__(self, issues: Iterable[Issue] = (), omitted: int = 0, limit: int = MAX_ISSUES):
        self.limit = limit
        self.kept: list[Issue] = []
        self.omitted = 0
        self._seen: set[Issue] = set()
        self.extend(issues, omitted)

    @property
    def room(self) -> int:
        """How many more issues would be kept."""
        return self.limit - len(self.kept)

    @property
    def full(self) -> bool:
        return len(self.kept) >= self.limit

    @property
    def total(self) -> int:
        return len(self.kept) + self.omitted

    def __bool__(self) -> bool:
        return self.total > 0

    def __len__(self) -> int:
        return self.total

    def add(self, pointer: str, message: str) -> None:
        self.append(Issue(pointer, message))

    def append(self, issue: Issue) -> None:
        if issue in self._seen:
            return
        if self.full:
            self.omitted += 1
            return
        self._seen.add(issue)
        self.kept.append(issue)

    def __iter__(self) -> Iterator[Issue]:
        return iter(self.kept)

    def extend(self, issues: Iterable[Issue], omitted: int = 0) -> None:
        """Add ``issues`` (another ``Issues``: its kept ones, and its omitted count too)."""
        for issue in issues:
            self.append(issue)
        self.omitted += omitted + (issues.omitted if isinstance(issues, Issues) else 0)

    def under(self, prefix: str) -> Issues:
        """These issues with their pointers moved under ``prefix`` (``/jobs/3``)."""
        return Issues((Issue(prefix + i.pointer, i.message) for i in self.kept), self.omitted, self.limit)

    def count(self, n: int) -> None:
        """``n`` more errors, found but not described."""
        self.omitted += n


def describe(issues: list[Issue], omitted: int, sep: str) -> str:
    """The issues one per part, then how many were left out."""
    parts = [str(issue) for issue in issues]
    if omitted:
        parts.append(f"{omitted} more error(s) not listed (at most {MAX_ISSUES} are)")
    return sep.join(parts)


class OptimizerError(Exception):
    """Root of the optimizer's exceptions."""


class InvalidProblem(OptimizerError):
    def __init__(self, issues: Iterable[Issue] | Issues, omitted: int = 0):
        found = issues if isinstance(issues, Issues) else Issues(issues, omitted)
        self.issues = list(found.kept)
        self.omitted = found.omitted
        super().__init__(describe(self.issues, self.omitted, "\n"))
