"""pydantic's validation errors as issues: JSON pointers and plain sentences, never more
than an ``Issues`` collection keeps.

A ``ValidationError`` over a large input can hold hundreds of thousands of errors, and
``errors()`` builds a dictionary for each. ``collect`` asks only ``error_count()`` of it;
when the count is more than the collection has room for, it validates the input again
part by part (the fields of a model, the items of a list, each with a cached
``TypeAdapter``) and lists the errors of the first parts only, until the collection is
full; the others are counted from the first count, so the total stays exact.
"""

from __future__ import annotations

import functools
import types
from collections.abc import Iterator, Mapping
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, TypeAdapter, ValidationError

from .errors import Issue, Issues

_MESSAGES = {
    "extra_forbidden": "unknown field",
    "missing": "required field is missing",
    "finite_number": "must be a finite number",
    "dict_type": "must be an object",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "list_type": "must be a list",
}
_SHOWN = 40  # characters of an input a sentence quotes


def pointer(*parts: object) -> str:
    """RFC 6901 JSON pointer for a path of keys and indices."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _SHOWN else text[:_SHOWN] + "…"


def _sentence(error: dict) -> str:
    kind, ctx = error["type"], error.get("ctx") or {}
    message = _MESSAGES.get(kind, error["msg"])
    if kind == "value_error":
        return message.removeprefix("Value error, ")
    if kind == "greater_than_equal":
        return f"must not be negative (got {_shown(error['input'])})" if ctx.get("ge") == 0 else \
            f"must be at least {ctx.get('ge')} (got {_shown(error['input'])})"
    if kind == "less_than_equal":
        return f"must be at most {ctx.get('le')} (got {_shown(error['input'])})"
    if kind == "too_short" and ctx.get("min_length") == 1:
        return "must not be empty"
    if kind == "too_long" and "max_length" in ctx:
        return f"must have at most {ctx['max_length']} items (it has {ctx.get('actual_length', 'more')})"
    if kind == "string_too_long":
        return f"must have at most {ctx.get('max_length')} characters (it has {len(error['input'])})"
    if message.startswith("Input should be "):
        return "must be " + message.removeprefix("Input should be ")
    return message


def pydantic_issues(exc: ValidationError, at: tuple = ()) -> Iterator[Issue]:
    """Every error of a pydantic validation as an issue, its pointer under ``at``. It calls
    ``errors()``: for an error of unknown size, use ``collect`` or ``add_errors``."""
    for error in exc.errors(include_url=False):
        loc = [p for p in error["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
        yield Issue(pointer(*at, *loc), _sentence(error))


@functools.cache
def adapter(kind: Any) -> TypeAdapter:
    """The (cached) validator of a type."""
    return TypeAdapter(kind)


@functools.cache
def field_kind(model: type[BaseModel], name: str) -> Any:
    """The type of a model's field, with its constraints."""
    field = model.model_fields[name]
    return Annotated[(field.annotation, *field.metadata)] if field.metadata else field.annotation


def collect(kind: Any, value: Any, issues: Issues, at: tuple = ()) -> int:
    """Validate ``value`` as ``kind``; add its issues to ``issues`` (pointers under ``at``)
    without ever listing more errors than it has room for. Returns how many errors there are."""
    try:
        adapter(kind).validate_python(value)
    except ValidationError as exc:
        return add_errors(exc, kind, value, issues, at)
    return 0


def add_errors(exc: ValidationError, kind: Any, value: Any, issues: Issues, at: tuple = ()) -> int:
    """Add the errors of ``exc`` (``value`` validated as ``kind``) to ``issues``; returns
    ``exc.error_count()``. When they are more than ``issues`` has room for, the parts of
    ``value`` are validated one by one until it is full."""
    total = exc.error_count()
    if total <= issues.room:
        issues.extend(pydantic_issues(exc, at))
        return total
    found = _by_part(kind, value, issues, at)
    if found is None:  # nothing to split: one value whose errors are bounded by its own size
        listed = 0
        for issue in pydantic_issues(exc, at):
            if issues.full:
                break
            issues.append(issue)
            listed += 1
        found = listed
    issues.count(max(0, total - found))
    return total


def _by_part(kind: Any, value: Any, issues: Issues, at: tuple) -> int | None:
    """The errors of ``value``'s parts added until ``issues`` is full; how many were seen
    (None: ``kind`` has no parts to look at one by one)."""
    kind = _plain(kind)
    if get_origin(kind) is list and isinstance(value, list):
        (item,) = get_args(kind) or (Any,)
        found = 0
        for i, part in enumerate(value):
            if issues.full:
                break
            found += collect(item, part, issues, (*at, i))
        return found
    if isinstance(kind, type) and issubclass(kind, BaseModel) and isinstance(value, Mapping):
        return _by_field(kind, value, issues, at)
    return None


def _by_field(model: type[BaseModel], value: Mapping, issues: Issues, at: tuple) -> int:
    fields = model.model_fields
    found = 0
    if model.model_config.get("extra") == "forbid":
        for key in value:
            if key not in fields:
                issues.append(Issue(pointer(*at, key), _MESSAGES["extra_forbidden"]))
                found += 1
    for name, field in fields.items():
        if issues.full:
            break
        if name not in value:
            if field.is_required():
                issues.append(Issue(pointer(*at, name), _MESSAGES["missing"]))
                found += 1
            continue
        found += collect(field_kind(model, name), value[name], issues, (*at, name))
    return found


def _plain(kind: Any) -> Any:
    """``kind`` without ``Annotated`` constraints and without ``| None``."""
    while True:
        origin = get_origin(kind)
        if origin is Annotated:
            kind = get_args(kind)[0]
        elif origin in (Union, types.UnionType):
            options = [a for a in get_args(kind) if a is not type(None)]
            if len(options) != 1:
                return kind
            kind = options[0]
        else:
            return kind
