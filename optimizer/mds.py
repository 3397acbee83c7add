"""Places without coordinates laid out in the plane from their distance matrix (pure: no I/O).

``mds_layout`` is landmark multidimensional scaling (de Silva and Tenenbaum, 2004): up to
``landmarks`` places chosen farthest-first are laid out by classical (Torgerson) MDS, and
every other place is placed from its distances to them. For ``n`` places it reads ``n x k``
matrix cells and costs O(n k + k^3) with ``k`` landmarks, never the O(n^3) of classical MDS
over everything; with ``n <= landmarks`` it is classical MDS exactly.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

LANDMARKS = 64  # places laid out exactly; the others are placed from their distances to these
MIN_LANDMARKS = 3  # kept even past the deadline: fewer cannot span a plane

Cells = Sequence[Sequence[float | None]]


def _distances(matrix: Cells, rows: list[int], landmark: int) -> np.ndarray:
    """Symmetrised distances between ``landmark`` and each of ``rows`` (NaN where either
    direction has no value)."""
    there = np.array([matrix[landmark][r] for r in rows], dtype=float)
    back = np.array([matrix[r][landmark] for r in rows], dtype=float)
    return (there + back) / 2.0


def mds_layout(matrix: Cells, indices: Sequence[int] | None = None, landmarks: int = LANDMARKS,
               deadline: float | None = None) -> np.ndarray:
    """``len(indices)`` x 2 positions (rows of ``matrix`` named by ``indices``, default all)
    whose distances approximate the matrix's. Missing cells (no road) count as the largest
    known distance. ``deadline`` (``time.monotonic()`` seconds): no landmark is added after
    it (at least three are kept), so a late layout is coarser, never later."""
    rows = list(range(len(matrix))) if indices is None else [int(i) for i in indices]
    n = len(rows)
    if n == 0:
        return np.zeros((0, 2))
    chosen = [0]
    columns = [_distances(matrix, rows, rows[0])]
    nearest = np.where(np.isnan(columns[0]), np.inf, columns[0])  # to the closest landmark
    while len(chosen) < min(n, landmarks):
        if deadline is not None and len(chosen) >= MIN_LANDMARKS and time.monotonic() > deadline:
            break
        far = int(np.argmax(nearest))
        if nearest[far] <= 0:  # every place coincides with a landmark
            break
        chosen.append(far)
        columns.append(_distances(matrix, rows, rows[far]))
        nearest = np.minimum(nearest, np.where(np.isnan(columns[-1]), np.inf, columns[-1]))
    delta = np.column_stack(columns)  # n x k
    known = delta[np.isfinite(delta)]
    delta = np.where(np.isfinite(delta), delta, known.max() if known.size else 1.0)
    squared = delta ** 2
    among = squared[chosen]  # k x k
    among = (among + among.T) / 2.0
    np.fill_diagonal(among, 0.0)
    # classical MDS of the landmarks: double centring costs O(k^2), the eigenproblem O(k^3)
    centred = among - among.mean(axis=0) - among.mean(axis=1)[:, None] + among.mean()
    values, vectors = np.linalg.eigh(-0.5 * centred)
    order = np.argsort(values)[::-1][:2]
    values, vectors = values[order], vectors[:, order]
    positive = values > 1e-12 * max(1.0, float(abs(values).max(initial=0.0)))
    # every place from its squared distances to the landmarks: x = -1/2 L# (d - mean)
    pseudo = np.zeros_like(vectors)
    pseudo[:, positive] = vectors[:, positive] / np.sqrt(values[positive])
    coords = -0.5 * (squared - among.mean(axis=0)) @ pseudo
    if coords.shape[1] < 2:
        coords = np.hstack([coords, np.zeros((n, 2 - coords.shape[1]))])
    return coords
