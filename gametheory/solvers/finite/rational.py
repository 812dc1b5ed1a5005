"""Exact integer linear algebra for verifying equilibria of finite games.

Floating-point solvers find candidate vertices of best-response polytopes; the functions
here recompute them exactly so that labels (tight constraints) and equilibrium conditions
are decided without rounding. Every double is a dyadic rational, so a float matrix times a
common power of two is an integer matrix; systems are then solved by fraction-free
Gauss-Jordan elimination (Bareiss, "Sylvester's identity and multistep integer-preserving
Gaussian elimination", Math. Comp. 22(103) 1968), whose intermediate entries are minors of
the input and so stay integers without any gcd computations.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from math import lcm

import numpy as np
from numpy.typing import NDArray

__all__ = ["integer_matrix", "is_integral", "solve_integer"]


def is_integral(values: NDArray[np.float64]) -> bool:
    """Whether every entry is an integer small enough to be represented exactly."""
    return bool(np.all(values == np.round(values)) and np.all(np.abs(values) < 2.0**52))


def integer_matrix(values: NDArray[np.float64]) -> list[list[int]]:
    """The 2-d float array times the least power of two making every entry an integer.

    The scaling is exact (each double is ``p / 2^k``); a polytope ``{z : M z <= 1}`` and
    its scaled copy have the same vertices up to that factor and the same labels.
    """
    ratios = [[Fraction(v) for v in row] for row in values.tolist()]
    scale = lcm(1, *(f.denominator for row in ratios for f in row))
    return [[int(f * scale) for f in row] for row in ratios]


def solve_integer(
    rows: Sequence[Sequence[int]], rhs: Sequence[int]
) -> tuple[list[int], int] | None:
    """Solve ``rows @ z = rhs`` exactly when the solution exists and is unique.

    The system may be overdetermined (a degenerate vertex has more tight constraints than
    its dimension). Fraction-free Gauss-Jordan elimination (Bareiss 1968).

    Returns
    -------
    (numerators, denominator) or None
        ``z = numerators / denominator`` with ``denominator > 0``, or None when the system
        is inconsistent or its solution set is not a single point.
    """
    n_cols = len(rows[0]) if rows else 0
    a = [[*row, b] for row, b in zip(rows, rhs, strict=True)]
    prev = 1
    for c in range(n_cols):
        p = next((k for k in range(c, len(a)) if a[k][c] != 0), None)
        if p is None:
            return None
        a[c], a[p] = a[p], a[c]
        pivot_row = a[c]
        piv = pivot_row[c]
        for i in range(len(a)):
            if i != c:
                f = a[i][c]
                a[i] = [(piv * x - f * y) // prev for x, y in zip(a[i], pivot_row, strict=True)]
        prev = piv
    if any(a[k][n_cols] != 0 for k in range(n_cols, len(a))):
        return None
    den = prev
    nums = [a[k][n_cols] for k in range(n_cols)]
    if den < 0:
        den, nums = -den, [-v for v in nums]
    return nums, den
