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

from typing import TypeVar

import numpy as np
from numpy.typing import NDArray

from gametheory.solvers.common.compiled import jit

__all__ = ["DEGENERATE", "SIMPLE", "row_complements", "simple_polytope_vertices"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]
_Table = TypeVar("_Table", IntArray, FloatArray)

#: Status: every vertex was found and the polytope is simple.
SIMPLE = 0
#: Status: a vertex with more than ``d`` tight constraints (or a basis that rounding
#: made infeasible) was met; nothing is returned.
DEGENERATE = 1


_EMPTY = -1  # a free slot of the hash set (keys are nonnegative bit masks)


@jit
def _slot(table: IntArray, key: int) -> int:
    """The slot of ``key`` in the open-addressing set ``table``, or the free slot for it."""
    mask = table.size - 1
    h = (np.uint64(key) * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(40)
    i = int(h) & mask
    while table[i] != _EMPTY and table[i] != key:
        i = (i + 1) & mask  # linear probing
    return i


@jit
def _grown(table: IntArray) -> IntArray:
    """The set rehashed into twice the slots."""
    bigger = np.full(2 * table.size, _EMPTY, dtype=np.int64)
    for key in table:
        if key != _EMPTY:
            bigger[_slot(bigger, key)] = key
    return bigger


@jit
def _doubled(table: _Table, used: int) -> _Table:
    """``table`` (one row per vertex) with twice the rows, the first ``used`` copied."""
    bigger = np.empty((2 * table.shape[0], table.shape[1]), dtype=table.dtype)
    for k in range(used):
        for j in range(table.shape[1]):
            bigger[k, j] = table[k, j]
    return bigger


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
    # One row per vertex found: its dictionary (rows x width, row-major), the label basic
    # in each row and the label of each column.
    tabs = np.empty((64, rows * width))
    basic = np.empty((64, rows), dtype=np.int64)
    nonbasic = np.empty((64, d), dtype=np.int64)
    for i in range(rows):
        for j in range(d):
            tabs[0, i * width + j] = M[i, j]
        tabs[0, i * width + d] = 1.0
        basic[0, i] = d + i
    for c in range(d):
        nonbasic[0, c] = c
    seen = np.full(256, _EMPTY, dtype=np.int64)  # vertex keys: their nonbasic labels' bits
    origin = (1 << d) - 1
    seen[_slot(seen, origin)] = origin
    found, head, status = 1, 0, SIMPLE
    while head < found and status == SIMPLE:
        for c in range(d):
            cur = tabs[head]
            r = -1
            low = np.inf
            for i in range(rows):
                if cur[i * width + c] > tol:
                    ratio = cur[i * width + d] / cur[i * width + c]
                    if ratio < low:
                        low, r = ratio, i
            if r < 0:  # unbounded: impossible for M > 0; let Qhull report it
                status = DEGENERATE
                break
            enter, leave = nonbasic[head, c], basic[head, r]
            key = np.int64(1) << leave
            for j in range(d):
                if j != c:
                    key |= np.int64(1) << nonbasic[head, j]
            slot = _slot(seen, key)
            if seen[slot] == key:
                continue
            if found == tabs.shape[0]:
                tabs = _doubled(tabs, found)
                basic = _doubled(basic, found)
                nonbasic = _doubled(nonbasic, found)
                cur = tabs[head]
            # Pivot into the new row: the entering label becomes basic in row r.
            t = tabs[found]
            p = cur[r * width + c]
            for j in range(width):
                f = cur[r * width + j] / p
                for i in range(rows):
                    t[i * width + j] = cur[i * width + j] - cur[i * width + c] * f
                t[r * width + j] = f
            for i in range(rows):
                t[i * width + c] = -cur[i * width + c] / p
            t[r * width + c] = 1.0 / p
            for i in range(rows):
                basic[found, i] = basic[head, i]
            basic[found, r] = enter
            for j in range(d):
                nonbasic[found, j] = nonbasic[head, j]
            nonbasic[found, c] = leave
            big = 1.0
            for i in range(rows):
                if basic[found, i] < d:  # a coordinate of z
                    big = max(big, abs(t[i * width + d]))
            for i in range(rows):
                if t[i * width + d] <= tol * big:
                    status = DEGENERATE
            if status != SIMPLE:
                break
            seen[slot] = key
            found += 1
            if 2 * found > seen.size:  # keep the set at most half full
                seen = _grown(seen)
        head += 1
    if status != SIMPLE:
        found = 0
    vertices = np.zeros((found, d))
    tight = np.zeros((found, d + rows), dtype=np.bool_)
    for k in range(found):
        for i in range(rows):
            if basic[k, i] < d:
                vertices[k, basic[k, i]] = tabs[k, i * width + d]
        for c in range(d):
            tight[k, nonbasic[k, c]] = True
    return vertices, tight, status


@jit
def _dominated(An: FloatArray, labels: BoolArray, tol: float) -> bool:
    """Whether a row in the support is beaten on every best-response column by another."""
    m, n = An.shape
    for i in range(m):
        if labels[i]:
            continue  # x_i = 0: not in the support
        for other in range(m):
            beaten = other != i
            for j in range(n):
                if beaten and labels[m + j] and not An[other, j] - An[i, j] > 2.0 * tol:
                    beaten = False
            if beaten:
                return True
    return False


@jit
def row_complements(
    An: FloatArray, tight: BoolArray, tol: float
) -> tuple[IntArray, FloatArray, BoolArray, int]:
    """The points of ``Q = {A y <= 1, y >= 0}`` completing the simple vertices of ``P``.

    For each vertex of ``P`` (labels ``tight``, ``m`` of them) not ruled out by dominance,
    the ``n`` missing labels give ``n`` equations (``(A y)_i = 1`` for a missing row
    label, ``y_j = 0`` for a missing column label), solved by Gaussian elimination with
    partial pivoting; a feasible solution with exactly the missing labels is the
    equilibrium's ``y``. The compiled form of
    the row-polytope shortcut of ``vertex_enumeration``, with the same rules.

    Returns
    -------
    tuple
        ``(vertex indices, y (k, n), labels of y (k, m + n), status)``; status 1 (and
        nothing found) when a system is singular or a point of ``Q`` is degenerate.
    """
    m, n = An.shape
    k = tight.shape[0]
    hit = np.empty(k, dtype=np.int64)
    ys = np.empty((k, n))
    labels = np.zeros((k, m + n), dtype=np.bool_)
    a = np.empty((n, n + 1))
    y = np.empty(n)
    found = 0
    for v in range(k):
        if _dominated(An, tight[v], tol):
            continue
        row = 0
        for label in range(m + n):
            if tight[v, label]:
                continue
            a[row, :] = 0.0
            if label < m:
                a[row, :n] = An[label]
                a[row, n] = 1.0
            else:
                a[row, label - m] = 1.0
            row += 1
        for c in range(n):  # elimination with partial pivoting
            p = c
            for i in range(c + 1, n):
                if abs(a[i, c]) > abs(a[p, c]):
                    p = i
            if a[p, c] == 0.0:
                return hit[:0], ys[:0], labels[:0], 1
            if p != c:
                for j in range(n + 1):
                    a[c, j], a[p, j] = a[p, j], a[c, j]
            for i in range(c + 1, n):
                f = a[i, c] / a[c, c]
                if f != 0.0:
                    for j in range(c, n + 1):
                        a[i, j] -= f * a[c, j]
        for c in range(n - 1, -1, -1):
            total = a[c, n]
            for j in range(c + 1, n):
                total -= a[c, j] * y[j]
            y[c] = total / a[c, c]
        low, high = np.inf, 0.0
        for j in range(n):
            low, high = min(low, y[j]), max(high, abs(y[j]))
        scale = max(1.0, high)
        if low < -tol * scale:
            continue
        mass = 0.0
        feasible = True
        for j in range(n):
            mass += y[j]
        for i in range(m):  # slacks of the solution as solved, then y clipped at 0
            slack = 1.0
            for j in range(n):
                slack -= An[i, j] * y[j]
            if slack < -tol * scale:
                feasible = False
                break
            labels[found, i] = abs(slack) <= tol * scale
        if not feasible or not mass > tol:
            labels[found, :] = False
            continue
        for j in range(n):
            y[j] = max(y[j], 0.0)
            labels[found, m + j] = y[j] <= tol * scale
        for label in range(m + n):  # exactly the missing labels (so n of them: P is simple)
            if labels[found, label] == tight[v, label]:
                return hit[:0], ys[:0], labels[:0], 1
        hit[found] = v
        ys[found] = y
        found += 1
    return hit[:found], ys[:found], labels[:found], 0
