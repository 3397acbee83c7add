"""Exceptions raised by the optimizer.

OptimizerError
 └── InvalidProblem      the input breaks the contract; ``issues`` lists every error found
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Issue:
    """One validation error: a JSON pointer into the input and a plain sentence."""

    pointer: str
    message: str

    def __str__(self) -> str:
        return f"{self.pointer or '/'}: {self.message}"


class OptimizerError(Exception):
    """Root of the optimizer's exceptions."""


class InvalidProblem(OptimizerError):
    def __init__(self, issues: list[Issue]):
        self.issues = list(issues)
        super().__init__("\n".join(str(issue) for issue in self.issues))
