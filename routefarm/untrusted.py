"""Decoding untrusted JSON (request bodies, Kafka events) into documents the farm can store.

``loads`` accepts JSON as RFC 8259 defines it: no ``NaN`` or ``Infinity`` (nor a number
too large for a float), and a document nested too deeply for the decoder is an error, not a
crash. ``storage_issues`` lists what PostgreSQL would refuse in a decoded document: strings
(keys too) with a NUL character or an unpaired surrogate; and values nested more than
``MAX_DEPTH`` levels deep, which no contract needs and which every later encoding would
have to recurse through. Each issue is a (JSON pointer, sentence) pair; at most
``MAX_ISSUES`` are kept (``storage_findings`` counts the others). ``time_limit_issues``
holds a time limit against the farm's maximum. (The shape of each request body is its
``routefarm.contract`` model's to check.)
"""

from __future__ import annotations

import json
import math
from typing import Any

from optimizer import Issue, Issues

MAX_DEPTH = 64
# arrays and objects one body may hold: each costs the decoder about 100 bytes, however small
# its text ("[]," is 3 bytes), so this bounds a body's memory where its size alone would not
# (a problem of the largest size the limits allow holds far fewer: a row per matrix place,
# a few per stop)
MAX_CONTAINERS = 1_000_000


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text[:40]} is too large")
    return value


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


def containers(raw: bytes) -> int:
    """An upper bound of the arrays and objects in ``raw`` (brackets inside strings count
    too), read at the speed of a byte search, before anything is decoded."""
    return raw.count(b"[") + raw.count(b"{")


def loads(raw: bytes | str) -> Any:
    """The decoded document; ``ValueError`` (with a reason) when ``raw`` is not JSON."""
    try:
        return json.loads(raw, parse_float=_finite, parse_constant=_no_constant)
    except RecursionError:
        raise ValueError("the document is nested too deeply") from None


def _escape(part: object) -> str:
    return str(part).replace("~", "~0").replace("/", "~1")


def _string_issue(text: str) -> str | None:
    if "\x00" in text:
        return "must not contain the NUL character (\\u0000)"
    if text.isascii():
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "must be valid Unicode (it has an unpaired surrogate)"
    return None


Path = tuple | None  # (parent path, key): a pointer, spelled out only for an issue


def _pointer(path: Path, base: str) -> str:
    parts = []
    while path is not None:
        path, key = path
        parts.append(_escape(key))
    return base + "".join("/" + part for part in reversed(parts))


def _items(value: dict | list):
    return iter(value.items()) if type(value) is dict else enumerate(value)


def storage_findings(document: Any, pointer: str = "") -> Issues:
    """Every string a database cannot store and every value nested too deeply (walked
    without recursion, so any depth the decoder accepted is safe here): the first
    ``MAX_ISSUES`` found, sorted by pointer, and how many more. The walk visits each value
    once and spells out a pointer only for an issue, so a large document costs one pass."""
    found = Issues()

    def check(text: str, path: Path, prefix: str = "") -> None:
        reason = _string_issue(text)
        if reason:
            found.add(_pointer(path, pointer), prefix + reason)

    if isinstance(document, str):
        check(document, None)
    if not isinstance(document, dict | list):
        return found
    # depth first, one iterator per open container: memory follows the nesting, not the size
    stack: list[tuple[Any, int, Path]] = [(_items(document), 0, None)]
    while stack:
        items, depth, path = stack[-1]
        for key, item in items:
            if type(key) is str:
                check(key, (path, key), "key ")
            kind = type(item)
            if kind is str:
                check(item, (path, key))
            elif kind is dict or kind is list:
                if depth + 1 >= MAX_DEPTH:
                    found.add(_pointer((path, key), pointer), f"is nested more than {MAX_DEPTH} levels deep")
                    continue
                stack.append((_items(item), depth + 1, (path, key)))
                break
        else:
            stack.pop()
    found.kept.sort(key=lambda issue: (issue.pointer, issue.message))
    return found


def storage_issues(document: Any, pointer: str = "") -> list[tuple[str, str]]:
    """``storage_findings`` as (pointer, sentence) pairs (the first ``MAX_ISSUES``)."""
    return [(i.pointer, i.message) for i in storage_findings(document, pointer)]


def time_limit_issues(seconds: Any, max_s: float, pointer: str) -> list[Issue]:
    """A time limit (seconds) above the farm's maximum; other values are the contract's to check."""
    if isinstance(seconds, int | float) and not isinstance(seconds, bool) and seconds > max_s:
        return [Issue(pointer, f"{seconds:g} s exceeds this farm's limit of {max_s:g} s")]
    return []
