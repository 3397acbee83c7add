"""Parsing OSRM-style requests: ``{lon},{lat};{lon},{lat}...`` and the options we serve.

Errors are ``OsrmError(code, message)`` with OSRM's codes: ``InvalidUrl`` for a path that
does not parse, ``InvalidOptions`` for an option we do not know, ``InvalidValue`` for a
value out of range, ``InvalidQuery`` for a query the service cannot answer as asked,
``TooBig`` for more coordinates than the server's limit.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..errors import BadRequest

TABLE_OPTIONS = frozenset({"sources", "destinations", "annotations", "generate_hints",
                           "skip_waypoints"})
ROUTE_OPTIONS = frozenset({"overview", "geometries", "steps", "alternatives", "annotations",
                           "generate_hints", "skip_waypoints", "continue_straight"})


class OsrmError(BadRequest):
    """A road request the server refuses, with OSRM's code (``InvalidQuery``, ``TooBig``, ...)."""

    def __init__(self, code: str, message: str):
        self.code = code
        self.message = message
        super().__init__(f"{code}: {message}")


def coordinates(text: str, limit: int, service: str) -> np.ndarray:
    """Rows of (lon, lat) from the path's last part ('.json' allowed at its end)."""
    if text.endswith(".json"):
        text = text[: -len(".json")]
    if text.startswith(("polyline(", "polyline6(")):
        raise OsrmError("InvalidQuery", "polyline coordinates are not supported: send {lon},{lat};...")
    parts = text.split(";") if text else []
    if len(parts) > limit:
        raise OsrmError("TooBig", f"Too many {service} coordinates: {len(parts)} (the limit is {limit})")
    rows = []
    for i, part in enumerate(parts):
        pair = part.split(",")
        try:
            if len(pair) != 2:
                raise ValueError
            lon, lat = float(pair[0]), float(pair[1])
        except ValueError:
            raise OsrmError("InvalidUrl", f"coordinate {i} is not {{lon}},{{lat}}: {part[:40]!r}") from None
        if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0) or lon != lon or lat != lat:
            raise OsrmError("InvalidValue", f"coordinate {i} is out of range: {part[:40]!r}")
        rows.append((lon, lat))
    if not rows:
        raise OsrmError("InvalidUrl", "no coordinates in the URL")
    return np.array(rows, dtype=np.float64)


def check_options(args: Mapping[str, str], known: frozenset[str]) -> None:
    for name in args:
        if name not in known:
            raise OsrmError("InvalidOptions", f"unsupported option {name!r}; this server knows "
                            + ", ".join(sorted(known)))


def indices(value: str | None, count: int, name: str) -> np.ndarray:
    """``all`` (the default) or ``i;j;...`` with 0 <= i < count."""
    if value is None or value == "all":
        return np.arange(count)
    try:
        out = np.array([int(x) for x in value.split(";")], dtype=np.int64)
    except ValueError:
        raise OsrmError("InvalidQuery", f"{name} must be 'all' or indices like 0;2;5") from None
    bad = out[(out < 0) | (out >= count)]
    if len(bad):
        raise OsrmError("InvalidValue", f"{name} index {int(bad[0])} is not between 0 and {count - 1}")
    return out


def choice(args: Mapping[str, str], name: str, allowed: tuple[str, ...], default: str) -> str:
    value = args.get(name, default)
    if value not in allowed:
        raise OsrmError("InvalidValue", f"{name} must be one of {', '.join(allowed)}, not {value[:40]!r}")
    return value


def annotations(value: str | None) -> tuple[bool, bool]:
    """(durations, distances) asked for by ``annotations`` (default: durations only)."""
    parts = set((value or "duration").split(","))
    if not parts <= {"duration", "distance"}:
        raise OsrmError("InvalidValue", "annotations must be duration, distance or duration,distance")
    return "duration" in parts, "distance" in parts
