"""Integer scales for the solver, chosen so that no precision the caller gave is lost.

OR-Tools works on integers. A problem's numbers are multiplied by the smallest power of
ten (up to ``MAX_SCALE``) that makes every one of them whole: CVRPLIB distances stay as
they are, Solomon's one-decimal distances are counted in tenths, and a millisecond or
millimetre is the finest unit kept.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

MAX_SCALE = 1000
_TOLERANCE = 1e-6


def decimal_scale(values: Iterable[np.ndarray | float]) -> int:
    """Smallest power of ten ``s`` (at most ``MAX_SCALE``) making ``values * s`` whole."""
    arrays = [np.asarray(v, dtype=np.float64).ravel() for v in values]
    arrays = [a[np.isfinite(a)] for a in arrays if a.size]
    scale = 1
    while scale < MAX_SCALE:
        if all(_whole(a * scale) for a in arrays):
            return scale
        scale *= 10
    return MAX_SCALE


def _whole(a: np.ndarray) -> bool:
    return bool(np.all(np.abs(a - np.round(a)) <= _TOLERANCE * np.maximum(1.0, np.abs(a))))


def to_int(value: float, scale: int) -> int:
    return int(round(value * scale))
