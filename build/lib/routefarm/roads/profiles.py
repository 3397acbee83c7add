"""Vehicle profiles: which OSM ways a vehicle may use, in which direction, and how fast.

``speeds(tags, profile)`` gives (forward, backward) km/h for a way, 0 where the way is
closed in that direction. Access is decided by the most specific of the profile's
access keys that the way carries (``hgv`` before ``motor_vehicle`` before ``access``
for a truck); ``oneway`` is honoured (yes/1/true, -1/reverse; implied on motorways and
roundabouts); ``maxspeed`` (and ``maxspeed:forward``/``:backward``) where present,
else the highway type's default speed; a truck's speed is capped per highway type and
ways whose ``maxweight``/``maxheight``/``maxlength``/``maxwidth`` are below the truck's
are closed to it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

CAR_SPEEDS = MappingProxyType({
    "motorway": 110, "motorway_link": 60, "trunk": 90, "trunk_link": 50,
    "primary": 70, "primary_link": 40, "secondary": 60, "secondary_link": 40,
    "tertiary": 50, "tertiary_link": 30, "unclassified": 40, "residential": 30,
    "living_street": 10, "service": 15, "road": 30,
})
TRUCK_CAPS = MappingProxyType({
    "motorway": 80, "motorway_link": 50, "trunk": 70, "trunk_link": 45,
    "primary": 60, "primary_link": 35, "secondary": 50, "secondary_link": 35,
    "tertiary": 45, "tertiary_link": 30, "unclassified": 35, "residential": 25,
    "living_street": 10, "service": 10, "road": 25,
})
DENIED = frozenset({"no", "private", "agricultural", "forestry", "emergency", "psv", "bus",
                    "military", "use_sidepath"})
ZONE_SPEEDS = {"urban": 50, "rural": 80, "motorway": 110, "trunk": 100,
               "living_street": 20, "walk": 7, "zone30": 30, "zone20": 20}
_NUMBER = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([a-z/]*)\s*$")


@dataclass(frozen=True)
class Profile:
    name: str
    speeds: Mapping[str, float]
    access_keys: tuple[str, ...]  # most specific first
    caps: Mapping[str, float] = field(default_factory=dict)
    weight_t: float | None = None
    height_m: float | None = None
    length_m: float | None = None
    width_m: float | None = None

    def fingerprint(self) -> str:
        """A stable text naming everything that changes the graph built with this profile."""
        return repr((self.name, sorted(self.speeds.items()), self.access_keys,
                     sorted(self.caps.items()), self.weight_t, self.height_m,
                     self.length_m, self.width_m))


CAR = Profile("car", CAR_SPEEDS, ("motorcar", "motor_vehicle", "vehicle", "access"))
TRUCK = Profile("truck", CAR_SPEEDS, ("hgv", "goods", "motor_vehicle", "vehicle", "access"),
                caps=TRUCK_CAPS, weight_t=18.0, height_m=4.0, length_m=12.0, width_m=2.55)
PROFILES: Mapping[str, Profile] = MappingProxyType({"car": CAR, "truck": TRUCK})


def speeds(tags: Mapping[str, str], profile: Profile) -> tuple[float, float]:
    """(forward, backward) km/h of a way for a profile; 0 where it may not go."""
    highway = tags.get("highway")
    default = profile.speeds.get(highway or "")
    if default is None or tags.get("area") == "yes" or not _allowed(tags, profile):
        return 0.0, 0.0
    forward = backward = _maxspeed(tags.get("maxspeed")) or float(default)
    forward = _maxspeed(tags.get("maxspeed:forward")) or forward
    backward = _maxspeed(tags.get("maxspeed:backward")) or backward
    cap = profile.caps.get(highway)
    if cap is not None:
        forward, backward = min(forward, cap), min(backward, cap)
    oneway = tags.get("oneway", "")
    if oneway in ("yes", "1", "true"):
        backward = 0.0
    elif oneway in ("-1", "reverse"):
        forward = 0.0
    elif oneway == "reversible":
        return 0.0, 0.0
    elif oneway != "no" and (highway == "motorway"
                             or tags.get("junction") in ("roundabout", "circular")):
        backward = 0.0
    return forward, backward


def _allowed(tags: Mapping[str, str], profile: Profile) -> bool:
    for key in profile.access_keys:
        value = tags.get(key)
        if value is not None:
            if value in DENIED:
                return False
            break
    limits = ((profile.weight_t, ("maxweight", "maxweight:hgv"), _tonnes),
              (profile.height_m, ("maxheight",), _metres),
              (profile.length_m, ("maxlength",), _metres),
              (profile.width_m, ("maxwidth",), _metres))
    for own, keys, parse in limits:
        if own is None:
            continue
        for key in keys:
            limit = parse(tags.get(key))
            if limit is not None and limit < own:
                return False
    return True


def _maxspeed(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip().lower()
    if ":" in value:
        return ZONE_SPEEDS.get(value.split(":", 1)[1])
    if value in ZONE_SPEEDS:
        return float(ZONE_SPEEDS[value])
    match = _NUMBER.match(value)
    if not match or float(match.group(1)) <= 0:
        return None
    number, unit = float(match.group(1)), match.group(2)
    return number * 1.609344 if unit == "mph" else number if unit in ("", "km/h", "kmh", "kph") else None


def _tonnes(value: str | None) -> float | None:
    match = _NUMBER.match(value.lower()) if value else None
    if not match:
        return None
    number, unit = float(match.group(1)), match.group(2)
    return number / 1000 if unit == "kg" else number if unit in ("", "t") else None


def _metres(value: str | None) -> float | None:
    match = _NUMBER.match(value.lower()) if value else None
    if not match:
        return None
    return float(match.group(1)) if match.group(2) in ("", "m") else None
