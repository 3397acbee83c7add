"""What a search found, in solver terms: the input of ``assemble``.

Any engine reads its result back into an ``Outcome``: task nodes per vehicle (the layout's
numbering), and when it planned a schedule, the service start of every route position
(start, each task, end) in the layout's time units (``1 / time_scale`` seconds).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Outcome:
    routes: list[list[int]] | None  # node sequence per vehicle, tasks only
    service_starts: list[list[int]] | None  # time cumul per route position (start, tasks, end)
    breaks: list[list[tuple[str, int, int]]] | None  # (break id, start, duration) per vehicle
    objective: int | None
    improvements: list[tuple[float, int]] = field(default_factory=list)
    stopped_by: str = "time_limit"
    message: str | None = None
    search: str | None = None  # the metaheuristic that ran
