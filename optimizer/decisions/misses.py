"""What keeps a route from taking new work, and by how much, in words a dispatcher reads."""

from __future__ import annotations

from dataclasses import dataclass

from ..timeline import fmt

KINDS = ("skills", "unreachable", "capacity", "max_stops", "time_window", "shift", "break",
         "max_duration", "max_distance")


@dataclass(frozen=True, slots=True)
class Miss:
    kind: str  # one of KINDS
    by: float | None = None  # seconds, metres, units or tasks missing
    step: str | None = None  # the step where it binds ("c17"; "end" for the shift)
    dimension: int | None = None  # capacity
    skills: tuple[str, ...] = ()  # skills the vehicle lacks

    @property
    def message(self) -> str:
        by = fmt(round(self.by, 3)) if self.by is not None else ""
        if self.kind == "time_window":
            return f"{self.step} starts {by} s after its window closes"
        if self.kind == "shift":
            return f"the route ends {by} s after the shift ends"
        if self.kind == "break":
            return f"{self.step} cannot start inside its windows ({by} s late)" if self.step \
                else "a break the route needs does not fit"
        if self.kind == "capacity":
            return f"capacity short by {by} in dimension {self.dimension}"
        if self.kind == "max_duration":
            return f"the route takes {by} s more than max_duration"
        if self.kind == "max_distance":
            return f"the route drives {by} m more than max_distance"
        if self.kind == "max_stops":
            return f"the route serves {by} task(s) more than max_stops"
        if self.kind == "skills":
            return f"the vehicle lacks skills {list(self.skills)}"
        return f"no road leads to or from {self.step}"


def worst(misses: list[Miss]) -> list[Miss]:
    """One miss per kind (and capacity dimension): the largest."""
    kept: dict[tuple, Miss] = {}
    for miss in misses:
        key = (miss.kind, miss.dimension)
        if key not in kept or (miss.by or 0) > (kept[key].by or 0):
            kept[key] = miss
    return sorted(kept.values(), key=lambda m: (KINDS.index(m.kind), m.dimension or 0))
