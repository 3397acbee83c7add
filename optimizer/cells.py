"""Matrix cells: validated row by row, apart from the rest of the problem.

A matrix is most of a large problem's input. It is validated row by row by one cached
validator (pydantic's core, no Python per cell), so a valid matrix costs what validating
it inside the problem would. A row with bad cells adds its issues until the collection is
full, and after that only their number: pydantic holds the errors of one row at a time,
never a list of errors for every cell of the matrix. ``split`` takes the matrices out
of a problem's input, so the rest is validated without them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from .errors import Issues
from .issues import adapter, add_errors
from .model import DistanceCell, DurationCell
from .sizes import MATRICES

ROW = {"distances": list[DistanceCell], "durations": list[DurationCell]}


def split(data: Mapping) -> tuple[Mapping, Mapping | None]:
    """(``data`` with an empty list for each matrix given as a list, that matrix object)."""
    matrix = data.get("matrix")
    if not isinstance(matrix, Mapping) or not any(isinstance(matrix.get(k), list) for k in MATRICES):
        return data, None
    shell = {k: [] if k in MATRICES and isinstance(v, list) else v for k, v in matrix.items()}
    return {**data, "matrix": shell}, matrix


def cells(matrix: Mapping, issues: Issues) -> dict[str, list[list[float | None]]] | None:
    """The validated rows of each matrix given as a list; None when a cell is bad (its
    issues are in ``issues``, pointed at ``/matrix/<name>/<row>/<column>``)."""
    out: dict[str, Any] = {}
    bad = False
    for key in MATRICES:
        rows = matrix.get(key)
        if not isinstance(rows, list):
            continue
        validate, valid = adapter(ROW[key]).validate_python, []
        for r, row in enumerate(rows):
            try:
                valid.append(validate(row))
            except ValidationError as exc:
                bad = True
                add_errors(exc, ROW[key], row, issues, ("matrix", key, r))
        out[key] = valid
    return None if bad else out
