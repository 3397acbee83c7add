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


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text[:40]} is too large")
    return value


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


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
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "must be valid Unicode (it has an unpaired surrogate)"
    return None


def storage_findings(document: Any, pointer: str = "") -> Issues:
    """Every string a database cannot store and every value nested too deeply (walked
    without recursion, so any depth the decoder accepted is safe here): the first
    ``MAX_ISSUES`` found, sorted by pointer, and how many more."""
    found = Issues()
    pending: list[tuple[str, Any, int]] = [(pointer, document, 0)]
    while pending:
        where, value, depth = pending.pop()
        if isinstance(value, str):
            reason = _string_issue(value)
            if reason:
                found.add(where, reason)
        elif isinstance(value, dict | list):
            if depth >= MAX_DEPTH:
                found.add(where, f"is nested more than {MAX_DEPTH} levels deep")
                continue
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                here = f"{where}/{_escape(key)}"
                reason = _string_issue(key) if isinstance(key, str) else None
                if reason:
                    found.add(here, f"key {reason}")
                pending.append((here, item, depth + 1))
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
