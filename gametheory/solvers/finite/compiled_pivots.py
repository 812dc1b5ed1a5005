"""Compiled Lemke-Howson path: the complementary pivots of both tableaux in one loop.

Imported only when Numba is installed (:mod:`gametheory.solvers.common.compiled`). The
same condensed tableaux, minimum-ratio test and lexicographic tie-break as the NumPy
loop of :mod:`gametheory.solvers.finite.lemke_howson` (von Stengel, Handbook of Game
Theory vol. 3, ch. 45, 2002, Sections 3.4-3.7), as scalar loops: the rank-one update
runs column by column over the column-major table, without a temporary and without a
call per pivot.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from gametheory.solvers.common.compiled import jit

__all__ = ["UNBOUNDED", "lemke_howson_path"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: Status of a path stopped by a pivot column with no positive entry.
UNBOUNDED = -1

_TIE = 1e-12


@jit
def _keep_near_min(keep: IntArray, ratio: FloatArray, count: int) -> int:
    """Compact ``keep[:count]`` to the entries whose ``ratio`` ties the minimum; the count."""
    low = np.inf
    for s in range(count):
        low = min(low, ratio[s])
    bound = low + _TIE * max(1.0, abs(low))
    kept = 0
    for s in range(count):
        if ratio[s] <= bound:
            keep[kept] = keep[s]
            ratio[kept] = ratio[s]
            kept += 1
    return kept


@jit
def _lexmin_row(
    t: FloatArray,
    col: FloatArray,
    slack_labels: IntArray,
    col_of: IntArray,
    row_of: IntArray,
    tol: float,
) -> int:
    """The row of the lexicographically smallest ``(rhs, B^-1 row) / pivot``."""
    rows = t.shape[0]
    rhs = t.shape[1] - 1
    keep = np.empty(rows, dtype=np.int64)
    ratio = np.empty(rows)
    count = 0
    for i in range(rows):
        if col[i] > tol:
            keep[count] = i
            ratio[count] = t[i, rhs] / col[i]
            count += 1
    kept = _keep_near_min(keep, ratio, count)
    for label in slack_labels:
        if kept <= 1:
            break
        c = col_of[label]
        for s in range(kept):
            i = keep[s]
            entry = t[i, c] if c >= 0 else (1.0 if i == row_of[label] else 0.0)
            ratio[s] = entry / col[i]
        kept = _keep_near_min(keep, ratio, kept)
    return int(keep[0])


@jit
def _pivot(
    t: FloatArray,
    basis: IntArray,
    col_of: IntArray,
    row_of: IntArray,
    slack_labels: IntArray,
    col: FloatArray,
    entering: int,
    tol: float,
) -> int:
    """Enter ``entering`` into the tableau ``t``; the label that leaves, or UNBOUNDED."""
    rows, width = t.shape
    rhs = width - 1
    c = col_of[entering]
    r = -1
    low = np.inf
    for i in range(rows):
        col[i] = t[i, c]
        if col[i] > tol:
            ratio = t[i, rhs] / col[i]
            if ratio < low:
                low, r = ratio, i
    if r < 0:
        return UNBOUNDED
    bound = low + _TIE * max(1.0, abs(low))
    for i in range(rows):  # a second row within the tie tolerance: the lexicographic rule
        if i != r and col[i] > tol and t[i, rhs] / col[i] <= bound:
            r = _lexmin_row(t, col, slack_labels, col_of, row_of, tol)
            break
    leaving = basis[r]
    p = col[r]
    for j in range(width):  # t -= col (row r / p)^T, then row r = row r / p
        if j == c:
            continue
        f = t[r, j] / p
        if f != 0.0:
            for i in range(rows):
                t[i, j] -= col[i] * f
        t[r, j] = f
    for i in range(rows):
        t[i, c] = -col[i] / p
    t[r, c] = 1.0 / p
    basis[r] = entering
    row_of[entering], col_of[entering] = r, -1
    row_of[leaving], col_of[leaving] = -1, c
    return int(leaving)


@jit
def lemke_howson_path(
    t0: FloatArray,
    basis0: IntArray,
    col0: IntArray,
    row0: IntArray,
    slack0: IntArray,
    t1: FloatArray,
    basis1: IntArray,
    col1: IntArray,
    row1: IntArray,
    slack1: IntArray,
    label: int,
    side: int,
    max_pivots: int,
    tol: float,
) -> tuple[int, int, int]:
    """Follow the path from dropping ``label`` (entering on ``side``), tableaux in place.

    Tableau 0 is ``B^T x + s = 1``, tableau 1 is ``r + A y = 1``; each comes with its
    basic labels by row, the column and row of every label (-1 when not there) and its
    slack labels in order (the lexicographic rule's columns of the basis inverse).

    Returns
    -------
    tuple of int
        ``(pivots, status, label)``: status 1 when the dropped label left (an
        equilibrium), 0 when the budget ran out, UNBOUNDED with the entering label.
    """
    col = np.empty(max(t0.shape[0], t1.shape[0]))
    entering = label
    pivots = 0
    while pivots < max_pivots:
        if side == 0:
            leaving = _pivot(t0, basis0, col0, row0, slack0, col, entering, tol)
        else:
            leaving = _pivot(t1, basis1, col1, row1, slack1, col, entering, tol)
        if leaving == UNBOUNDED:
            return pivots, UNBOUNDED, entering
        pivots += 1
        if leaving == label:
            return pivots, 1, label
        entering, side = leaving, 1 - side
    return pivots, 0, label
