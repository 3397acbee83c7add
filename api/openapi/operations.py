"""What a view declares of itself: ``@documented(...)`` under its route.

A view names its summary, its request body and query models (``routefarm.contract``), and
each status it can answer with the model or media type of the body. What every view of a
kind shares is added here, once: a view that needs an API key can answer 401 and 429; one
that reads the client's shard, 503; one that takes a JSON body, 400, 413 and 422.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from routefarm.contract.problems import ProblemDetails

PROBLEM_JSON = "application/problem+json"


@dataclass(frozen=True)
class Answer:
    """One status of an operation: its description and the body's model or media type."""

    description: str
    model: type[BaseModel] | None = None  # application/json (problem+json for an error)
    media: str | None = None  # another content type, its body a string
    headers: Mapping[str, dict[str, Any]] = field(default_factory=dict)  # name: header object


def json(model: type[BaseModel], description: str) -> Answer:
    return Answer(description, model)


RETRY_AFTER = {"Retry-After": {"description": "seconds to wait before trying again",
                               "schema": {"type": "integer", "minimum": 1}}}
WITH_RETRY_AFTER = (429, 503)  # statuses whose problem details come with Retry-After


def problem(description: str, status: int | None = None) -> Answer:
    return Answer(description, ProblemDetails, PROBLEM_JSON, RETRY_AFTER if status in WITH_RETRY_AFTER else {})


def text(media: str, description: str) -> Answer:
    return Answer(description, None, media)


def empty(description: str) -> Answer:
    return Answer(description)


SECURED = {401: "Missing or unknown API key", 429: "Rate limit exceeded; see Retry-After"}
SHARD = {503: "The client's shard cannot be reached; see Retry-After"}
BODY = {400: "Not JSON", 413: "Body too large", 422: "Invalid body, every error with its JSON pointer"}


@dataclass(frozen=True)
class Operation:
    summary: str
    answers: Mapping[int, Answer]
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    headers: Mapping[str, dict[str, Any]] = field(default_factory=dict)  # name: parameter fields
    description: str | None = None
    secured: bool = True


def documented(summary: str, answers: Mapping[int, Answer | str], *, body: type[BaseModel] | None = None,
               query: type[BaseModel] | None = None, secured: bool = True, shard: bool = True,
               headers: Mapping[str, dict[str, Any]] | None = None,
               description: str | None = None) -> Callable:
    """Attach the operation to the view; an answer given as a string is problem details."""
    shared: dict[int, str] = {}
    if body is not None:
        shared |= BODY
    if secured:
        shared |= SECURED
        if shard:
            shared |= SHARD
    declared = {status: problem(a, status) if isinstance(a, str) else a for status, a in answers.items()}
    for status, text_ in shared.items():
        declared.setdefault(status, problem(text_, status))
    operation = Operation(summary, dict(sorted(declared.items())), body, query, headers or {}, description,
                          secured)

    def attach(view: Callable) -> Callable:
        view.__openapi__ = operation  # type: ignore[attr-defined]
        return view

    return attach


def operation_of(view: Callable) -> Operation | None:
    return getattr(view, "__openapi__", None)
