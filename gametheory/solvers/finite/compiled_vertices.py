"""Compiled vertex enumeration of a simple best-response polytope by pivoting.

Imported only when Numba is installed (:mod:`gametheory.solvers.common.compiled`). The
polytope ``{z >= 0, M z <= 1}`` with ``M > 0`` is bounded and has the origin as a vertex.
When it is *simple* (every vertex has exactly ``d`` tight constraints, the
nondegenerate case of von Stengel 2002, Theorem 2.6) its vertices are the feasible bases
of the dictionary ``s = 1 - M z``, two vertices are adjacent when their bases differ by
one pivot, and the vertex graph is connected (Balinski, Pacific J. Math. 11(2) 1961). A
breadth-first search from the origin, one minimum-ratio pivot per nonbasic column and
vertex, therefore visits every vertex exactly once (Dyer, "The complexity of vertex
enumeration methods", Math. Oper. Res. 8(3) 1983, Section 2: the adjacency method), each
identified by its set of nonbasic (tight) labels. A vertex with a basic variable at zero
means the polytope is not simple; the search then stops and reports it, and the caller
falls back to Qhull, which handles any polytope.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from gametheory.solvers.common.compiled import jit

__all__ = ["DEGENERATE", "SIMPLE", "simple_polytope_vertices"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

#: Status: every vertex was found and the polytope is simple.
SIMPLE = 0
#: Status: a vertex with more than ``d`` tight constraints (or a basis that rounding
#: made infeasible) was met; nothing is returned.
DEGENERATE = 1


@jit
def simple_polytope_vertices(M: FloatArray, tol: float) -> tuple[FloatArray, BoolArray, int]:
    """All vertices of ``{z >= 0, M z <= 1}`` (``M > 0``, shape ``(rows, d)``, ``d + rows
    <= 62``) by breadth-first pivoting from the origin.

    Parameters
    ----------
    M
        The constraint matrix, positive, scaled to a maximum of 1.
    tol
        A basic variable at most ``tol * max(1, max z)`` counts as zero (degenerate).

    Returns
    -------
    tuple
        ``(vertices, tight, status)``: vertices ``(k, d)`` in visiting order, origin
        first; their tight labels ``(k, d + rows)`` (``z_j = 0`` as label ``j``, row
        ``r`` tight as label ``d + r``); and SIMPLE, or DEGENERATE with empty arrays.
    """
    rows, d = M.shape
    width = d + 1
    capacity = 64
    tabs = np.empty((capacity, rows, width))  # the dictionary of every vertex found
    basic = np.empty((capacity, rows), dtype=np.int64)  # label basic in each row
    nonbasic = np.empty((capacity, d), dtype=np.int64)  # label of each column
    tabs[0, :, :d] = M
    tabs[0, :, d] = 1.0
    for r in range(rows):
        basic[0, r] = d + r
    for c in range(d):
        nonbasic[0, c] = c
    seen = {np.int64((1 << d) - 1): np.int64(0)}  # vertex key: its nonbasic labels' bits
    found = 1
    head = 0
    t = np.empty((rows, width))
    while head < found:
        for c in range(d):
            r = -1
            low = np.inf
            for i in range(rows):
                if tabs[head, i, c] > tol:
                    ratio = tabs[head, i, d] / tabs[head, i, c]
                    if ratio < low:
                        low, r = ratio, i
            if r < 0:  # unbounded: impossible for M > 0; let Qhull report it
                return np.empty((0, d)), np.empty((0, d + rows), dtype=np.bool_), DEGENERATE
            enter, leave = nonbasic[head, c], basic[head, r]
            key = 0
            for j in range(d):
                if j != c:
                    key |= np.int64(1) << nonbasic[head, j]
            key |= np.int64(1) << leave
            if key in seen:
                continue
            # Pivot into t: the entering label becomes basic in row r.
            p = tabs[head, r, c]
            for j in range(width):
                f = tabs[head, r, j] / p
                for i in range(rows):
                    t[i, j] = tabs[head, i, j] - tabs[head, i, c] * f
                t[r, j] = f
            for i in range(rows):
                t[i, c] = -tabs[head, i, c] / p
            t[r, c] = 1.0 / p
            big = 1.0
            for i in range(rows):
                if (enter if i == r else basic[head, i]) < d:  # a coordinate of z
                    big = max(big, abs(t[i, d]))
            for i in range(rows):
                if t[i, d] <= tol * big:
                    return np.empty((0, d)), np.empty((0, d + rows), dtype=np.bool_), DEGENERATE
            if found == capacity:
                capacity *= 2
                grown = np.empty((capacity, rows, width))
                grown[:found] = tabs[:found]
                tabs = grown
                grown_b = np.empty((capacity, rows), dtype=np.int64)
                grown_b[:found] = basic[:found]
                basic = grown_b
                grown_n = np.empty((capacity, d), dtype=np.int64)
                grown_n[:found] = nonbasic[:found]
                nonbasic = grown_n
            tabs[found] = t
            basic[found] = basic[head]
            basic[found, r] = enter
            nonbasic[found] = nonbasic[head]
            nonbasic[found, c] = leave
            seen[key] = np.int64(found)
            found += 1
        head += 1
    vertices = np.zeros((found, d))
    tight = np.zeros((found, d + rows), dtype=np.bool_)
    for k in range(found):
        for i in range(rows):
            if basic[k, i] < d:
                vertices[k, basic[k, i]] = tabs[k, i, d]
        for c in range(d):
            tight[k, nonbasic[k, c]] = True
    return vertices, tight, SIMPLE
