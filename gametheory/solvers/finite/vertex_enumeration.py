"""All extreme Nash equilibria of a bimatrix game by vertex enumeration.

Mathematics (von Stengel, "Computing equilibria for two-person games", Handbook of Game
Theory vol. 3, ch. 45, 2002, Sections 2-3). With payoff matrices ``A`` (row player) and
``B`` (column player), both shifted to be positive, the best-response polytopes are

    P = {x in R^m : x >= 0, B^T x <= 1},    Q = {y in R^n : A y <= 1, y >= 0}.

A point of ``P`` has label ``i`` (a row) when ``x_i = 0`` and label ``m + j`` (a column)
when ``(B^T x)_j = 1``; a point of ``Q`` has label ``i`` when ``(A y)_i = 1`` and ``m + j``
when ``y_j = 0``. A pair ``(x, y) != (0, 0)`` is, after normalisation, a Nash equilibrium
iff it is *completely labelled* (every label in ``{0, ..., m + n - 1}`` is a label of
``x`` or of ``y``), and the extreme equilibria are exactly the completely labelled pairs
of *vertices* — for every game, degenerate or not (Avis, Rosenberg, Savani and von Stengel,
Economic Theory 42(1) 2010, Section 3). The game is nondegenerate iff no point of ``P``
has more than ``m`` labels and no point of ``Q`` more than ``n`` (von Stengel 2002,
Theorem 2.6); it suffices to check the vertices.

Algorithm. The vertices of each polytope are the facets of its polar with respect to an
interior point, computed by Qhull through SciPy (or, with Numba installed and the
polytope simple, by breadth-first pivoting from the origin:
:mod:`gametheory.solvers.finite.compiled_vertices`). Unlike solvers that read
the labels of a vertex off the (triangulated) facet that produced it, every constraint is
evaluated at every vertex, so a degenerate vertex carries all its labels. A simple vertex
(as many labels as its dimension) can only pair with the vertex carrying exactly the
complementary labels, found by sorting bit masks; pairs involving a degenerate vertex are
found by a matrix product of "missing label" indicators. With
integer or rational payoffs every vertex is recomputed in rational arithmetic and its
labels recomputed exactly before matching, so the reported set is exact. Components and
maximal Nash subsets follow from :mod:`gametheory.solvers.finite.nash_components`.

With ``polytopes="row"`` only the row player's polytope is enumerated. Each of its
vertices ``x`` with exactly ``m`` labels determines the only point of the other polytope
that could complete it: the ``n`` missing labels are ``n`` equations (``(A y)_i = 1`` for
a missing row label, ``y_j = 0`` for a missing column label), solved for all vertices in
one batched call; the feasible solutions are the equilibria's ``y``. This halves the
Qhull work. Vertices whose support holds a row beaten on every best-response column by
another row are skipped before solving (about three in four on random games): no
``y >= 0`` can make a dominated row a best response. The shortcut is used only when it
is provably complete (every vertex of ``P`` simple, every system regular, every ``y``
with exactly ``n`` labels); otherwise both polytopes are enumerated.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import ConvexHull, QhullError

from gametheory.errors import GameError, SolverError
from gametheory.games.normal_form import NormalFormGame
from gametheory.solvers.common.compiled import Kernel, use_compiled
from gametheory.solvers.finite.nash_components import nash_subsets
from gametheory.solvers.finite.rational import integer_matrix, is_integral, solve_integer
from gametheory.solvers.finite.results import NashEquilibriaResult

__all__ = ["vertex_enumeration"]

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
FracVec = tuple[Fraction, ...]
IntVec = tuple[int, ...]
IntArray = NDArray[np.intp]

#: Most labels (``d + rows``) for which a simple polytope is enumerated by pivoting: each
#: vertex is keyed by the bit mask of its tight labels in a 64-bit integer.
_PIVOTING_MAX_LABELS = 62


@dataclass(frozen=True)
class _Polytope:
    """Nonzero vertices of ``{z >= 0, M z <= 1}`` with their labels in the game's order
    (label sets are packed into bit masks by :func:`_label_keys` when matched)."""

    vertices: FloatArray  # (k, d)
    tight: BoolArray  # (k, m + n): labels, rows of the game first, then columns
    simple: BoolArray  # (k,): exactly d labels
    exact: tuple[IntVec, ...] | None  # numerators over a common denominator


def _facet_equations(points: FloatArray) -> FloatArray:
    """Hyperplanes ``normal . p + offset = 0`` of the facets of the hull of ``points``.

    Calls SciPy's Qhull wrapper directly when it is available: ``ConvexHull`` always
    triangulates (a non-simplicial facet then comes back once per simplex) and computes
    the volume and area too, a quarter of the run time at these sizes. Falls back to
    ``ConvexHull`` otherwise.
    """
    try:
        from scipy.spatial._qhull import _Qhull
    except ImportError:
        return np.asarray(ConvexHull(points, qhull_options="Qx").equations, dtype=np.float64)
    qhull = _Qhull(b"i", np.ascontiguousarray(points), b"Qx", required_options=b"")
    try:
        return np.asarray(qhull.get_hull_facets()[1], dtype=np.float64)
    finally:
        qhull.close()


def _float_vertices(M: FloatArray, tol: float, compiled: bool) -> tuple[FloatArray, BoolArray]:
    """Vertices of ``{z >= 0, M z <= 1}`` (``M > 0``, shape ``(rows, d)``) and their labels.

    With ``compiled``, by pivoting when the polytope is simple (Qhull otherwise).
    """
    rows, d = M.shape
    if compiled and d > 1 and d + rows <= _PIVOTING_MAX_LABELS:
        from gametheory.solvers.finite.compiled_vertices import SIMPLE, simple_polytope_vertices

        found, labels, status = simple_polytope_vertices(np.ascontiguousarray(M), tol)
        if status == SIMPLE:
            return found[1:], labels[1:]  # the origin comes first
    if d == 1:
        vertices = np.array([[0.0], [1.0 / M.max()]])
    else:
        t = 0.5 / M.sum(axis=1).max()
        z0 = np.full(d, t)
        rhs = 1.0 - M @ z0
        polar = np.vstack([-np.eye(d) / t, M / rhs[:, None]])
        try:
            eq = _facet_equations(polar)
        except QhullError as exc:
            raise SolverError(f"Qhull failed on a best-response polytope: {exc}") from exc
        vertices = -eq[:, :d] / eq[:, d:] + z0
    slack = np.hstack([vertices, 1.0 - vertices @ M.T])
    tight = np.abs(slack) <= tol * np.maximum(1.0, np.abs(vertices).max(axis=1, keepdims=True))
    if (tight.sum(axis=1) > d).any():
        # Only a degenerate vertex (a non-simplicial facet of the polar, which
        # ConvexHull triangulates) can be reported more than once.
        _, first = np.unique(_label_keys(tight), return_index=True)
        first.sort()
        vertices, tight = vertices[first], tight[first]
    vertices[tight[:, :d]] = 0.0  # exact zeros off the support (Qhull leaves +-1e-17)
    nonzero = ~tight[:, :d].all(axis=1)
    return vertices[nonzero], tight[nonzero]


def _label_keys(tight: BoolArray) -> NDArray[np.generic]:
    """One hashable key per row of a label matrix (bit masks, or packed bytes if wide)."""
    packed = np.packbits(tight, axis=1, bitorder="little")
    if tight.shape[1] <= 64:
        # Bit i of the key is label i.
        padded = np.zeros((tight.shape[0], 8), dtype=np.uint8)
        padded[:, : packed.shape[1]] = packed
        return padded.view("<u8").ravel()
    packed = np.ascontiguousarray(packed)
    return packed.view(np.dtype((np.void, packed.shape[1]))).ravel()


def _complete_pairs(P: _Polytope, Q: _Polytope, m: int, n: int) -> NDArray[np.intp]:
    """Index pairs ``(u, v)`` whose labels together cover all ``m + n`` labels.

    A vertex with exactly as many labels as its dimension (a simple vertex) pairs with a
    simple vertex only if their label sets are complementary, which is found by sorting
    bit masks; pairs involving a degenerate vertex (more labels) are tested directly.
    """
    p_simple = P.simple if m + n <= 64 else np.zeros_like(P.simple)
    q_simple = Q.simple
    found = []
    if p_simple.any() and q_simple.any():
        ps, qs = np.flatnonzero(p_simple), np.flatnonzero(q_simple)
        qk = _label_keys(Q.tight[qs])
        order = np.argsort(qk)
        qk_sorted = qk[order]
        want = np.bitwise_xor(_label_keys(P.tight[ps]), np.uint64(2 ** (m + n) - 1))
        pos = np.minimum(np.searchsorted(qk_sorted, want), len(qs) - 1)
        hit = qk_sorted[pos] == want
        found.append(np.column_stack([ps[hit], qs[order[pos[hit]]]]))
    for rows, cols in ((~p_simple, np.ones_like(q_simple)), (p_simple, ~q_simple)):
        if rows.any() and cols.any():
            p_miss = (~P.tight).astype(np.float32)
            q_miss = (~Q.tight).astype(np.float32)
            ri, ci = np.flatnonzero(rows), np.flatnonzero(cols)
            hit2 = np.argwhere(p_miss[ri] @ q_miss[ci].T == 0)
            found.append(np.column_stack([ri[hit2[:, 0]], ci[hit2[:, 1]]]))
    if not found:
        return np.zeros((0, 2), dtype=np.intp)
    return np.vstack(found)


def _exact_vertices(M: list[list[int]], tight: BoolArray) -> tuple[list[IntVec], BoolArray]:
    """Recompute each vertex exactly from its tight constraints; return exact labels.

    ``M`` is the integer constraint matrix; a vertex is returned as the numerators of its
    coordinates over a common positive denominator (enough for normalised strategies).
    """
    d = len(M[0])
    out: list[IntVec] = []
    labels = np.zeros_like(tight)
    for k, row in enumerate(tight.tolist()):
        support = [j for j in range(d) if not row[j]]
        eq_rows = [[M[r][j] for j in support] for r in range(len(M)) if row[d + r]]
        sol = solve_integer(eq_rows, [1] * len(eq_rows))
        if sol is None:
            raise SolverError(
                "exact verification failed: the tight constraints found in floating point "
                "do not define a vertex; retry with exact=False or rescale the payoffs"
            )
        nums, den = sol
        z = [0] * d
        for j, v in zip(support, nums, strict=True):
            z[j] = v
        slack = [den - sum(Mr[j] * z[j] for j in support) for Mr in M]
        if min(z) < 0 or min(slack) < 0:
            raise SolverError("exact verification failed: a floating-point vertex is infeasible")
        labels[k] = [v == 0 for v in z] + [v == 0 for v in slack]
        out.append(tuple(z))
    return out, labels


def _polytope(
    M: FloatArray, exact: bool, tol: float, rows_first: bool, compiled: bool
) -> _Polytope:
    """The polytope ``{z >= 0, M z <= 1}``; ``rows_first`` when ``z`` is the column player's.

    Labels are reordered to the game's order (the row player's strategies first).
    """
    scale = M.max()
    vertices, tight = _float_vertices(M / scale, tol, compiled)
    zs: tuple[IntVec, ...] | None = None
    if exact:
        exact_zs, tight = _exact_vertices(integer_matrix(M), tight)
        vertices, zs = np.array(exact_zs, dtype=np.float64), tuple(exact_zs)
    d = M.shape[1]
    simple = np.count_nonzero(tight, axis=1) == d
    if rows_first:
        tight = np.hstack([tight[:, d:], tight[:, :d]])
    return _Polytope(vertices, tight, simple, zs)


def _undominated(An: FloatArray, tight: BoolArray, tol: float) -> IntArray:
    """The vertices of ``P`` whose complementary ``y`` can be feasible.

    A vertex ``x`` with support ``S`` and best responses ``T`` needs ``y >= 0`` on ``T``
    with ``(A y)_i = 1`` for ``i`` in ``S`` and ``A y <= 1``; if some row beats a row of
    ``S`` on every column of ``T`` by more than ``2 tol`` (``A`` scaled to at most 1,
    so the excess is at least ``2 tol`` times ``max(1, max y)``), no such ``y`` exists.
    Checked for all vertices by one matrix product per chunk of vertices.
    """
    m, n = An.shape
    support, best = ~tight[:, :m], tight[:, m:].astype(np.float64)
    beats = (An[:, None, :] - An[None, :, :] > 2.0 * tol).reshape(m * m, n).astype(np.float64)
    size = best.sum(axis=1)
    keep = np.empty(tight.shape[0], dtype=bool)
    step = max(1, (1 << 22) // (m * m))
    for a in range(0, tight.shape[0], step):
        covered = beats @ best[a : a + step].T  # (row i' * m + row i, vertex)
        dominated = (covered == size[a : a + step]).reshape(m, m, -1).any(axis=0)
        keep[a : a + step] = ~(dominated & support[a : a + step].T).any(axis=0)
    return np.flatnonzero(keep)


def _complements(
    P: _Polytope, A: FloatArray, tol: float, compiled: bool
) -> tuple[_Polytope, IntArray] | None:
    """The points of ``Q = {A y <= 1, y >= 0}`` completing the vertices of ``P``, and the pairs.

    ``None`` when the shortcut is not provably complete (see the module notes). With
    ``compiled``, the same rules in one compiled loop
    (:func:`gametheory.solvers.finite.compiled_vertices.row_complements`).
    """
    m, n = A.shape
    if not P.simple.all() or not P.vertices.shape[0]:
        return None
    An = A / A.max()
    if compiled:
        from gametheory.solvers.finite.compiled_vertices import row_complements

        hit, y, tight, status = row_complements(An, P.tight, tol)
        if status:
            return None
        Q = _Polytope(y, tight, np.ones(hit.size, dtype=bool), None)
        return Q, np.column_stack([hit, np.arange(hit.size)]).astype(np.intp)
    candidate = _undominated(An, P.tight, tol)
    rows = np.vstack([An, np.eye(n)])  # label i: (A y)_i = 1; label m + j: y_j = 0
    missing = np.nonzero(~P.tight[candidate])[1].reshape(-1, n)
    try:
        y = np.linalg.solve(rows[missing], (missing < m).astype(np.float64)[..., None])[..., 0]
    except np.linalg.LinAlgError:
        return None
    low, high = y.min(axis=1), np.abs(y).max(axis=1)
    hit = np.flatnonzero(low >= -tol * np.maximum(1.0, high))  # y >= 0: few vertices pass
    y, scale = y[hit], np.maximum(1.0, high[hit])[:, None]
    hit = candidate[hit]
    slack = 1.0 - y @ An.T
    keep = (slack >= -tol * scale).all(axis=1) & (y.sum(axis=1) > tol)
    hit, y, slack, scale = hit[keep], np.clip(y[keep], 0.0, None), slack[keep], scale[keep]
    tight = np.hstack([np.abs(slack) <= tol * scale, np.abs(y) <= tol * scale])
    if (np.count_nonzero(tight, axis=1) != n).any() or (tight != ~P.tight[hit]).any():
        return None  # a degenerate point of Q: enumerate both polytopes
    simple = np.ones(hit.size, dtype=bool)
    Q = _Polytope(y, tight, simple, None)
    return Q, np.column_stack([hit, np.arange(hit.size)]).astype(np.intp)


def _supports(mask: BoolArray) -> list[IntVec]:
    """The column indices of each row of ``mask`` (one ``nonzero`` for all rows)."""
    flat = np.nonzero(mask)[1].tolist()
    ends = np.cumsum(np.count_nonzero(mask, axis=1)).tolist()
    return [tuple(flat[a:b]) for a, b in zip([0, *ends[:-1]], ends, strict=True)]


def _normalise(z: IntVec) -> FracVec:
    total = sum(z)
    return tuple(Fraction(v, total) for v in z)


def vertex_enumeration(
    game: NormalFormGame,
    exact: bool | Literal["auto"] = "auto",
    tol: float = 1e-9,
    *,
    polytopes: Literal["both", "row"] = "both",
    kernel: Kernel = "auto",
) -> NashEquilibriaResult:
    """Every extreme Nash equilibrium of a two-player game, with its components.

    Parameters
    ----------
    game
        A two-player :class:`~gametheory.games.normal_form.NormalFormGame` (costs).
    exact
        ``"auto"`` (default): verify in rational arithmetic when all costs are integers;
        True: always (floats are taken at their exact binary value); False: never.
    tol
        Relative tolerance for a constraint to count as tight in floating point.
    polytopes
        ``"both"`` (default) enumerates both best-response polytopes, so ``degenerate``
        is certified for the whole game. ``"row"`` enumerates the row player's and solves
        for the matching points of the other (about half the time on random games, the
        same equilibria); it falls back to ``"both"`` whenever it cannot prove the set
        complete, and is not used with exact arithmetic. Its ``degenerate`` is then False
        for the row polytope and the equilibria only: a degenerate vertex of the column
        player's polytope that belongs to no equilibrium is not looked for (the
        ``method`` says ``row-polytope``).
    kernel
        ``"auto"`` (default), ``"numba"`` or ``"numpy"``
        (:func:`~gametheory.solvers.common.compiled.use_compiled`). With Numba a simple
        polytope (the nondegenerate case) is enumerated by compiled pivoting instead of
        Qhull; any other falls back to Qhull. The same vertices either way.

    Returns
    -------
    NashEquilibriaResult
        Extreme equilibria sorted lexicographically, supports, expected costs, component
        membership, maximal Nash subsets, degeneracy and the exactness flag.

    Raises
    ------
    GameError
        If the game does not have two players or ``polytopes`` is unknown.
    SolverError
        If Qhull fails or the exact verification disagrees with floating point.

    Notes
    -----
    Method of Avis, Rosenberg, Savani and von Stengel (Economic Theory 42(1) 2010): extreme
    equilibria are the completely labelled vertex pairs of the best-response polytopes.
    """
    if not isinstance(game, NormalFormGame) or game.n_players != 2:
        raise GameError("game must be a two-player NormalFormGame")
    if polytopes not in ("both", "row"):
        raise GameError(f"polytopes must be 'both' or 'row', got {polytopes!r}")
    costs1, costs2 = game.bimatrix()
    use_exact = is_integral(game.cost_tensor) if exact == "auto" else bool(exact)
    # Payoffs -costs, shifted to be >= 1 (the shift does not change best responses).
    A = costs1.max() - costs1 + 1.0
    B = costs2.max() - costs2 + 1.0
    m, n = A.shape
    compiled = use_compiled(kernel)
    P = _polytope(B.T, use_exact, tol, False, compiled)  # [x >= 0 | B^T x <= 1]
    shortcut = _complements(P, A, tol, compiled) if polytopes == "row" and not use_exact else None
    if shortcut is None:
        Q = _polytope(A, use_exact, tol, True, compiled)  # [A y <= 1 | y >= 0]
        pairs = _complete_pairs(P, Q, m, n)
    else:
        Q, pairs = shortcut
    if shortcut is None:
        rows_used, pair_rows = np.unique(pairs[:, 0], return_inverse=True)
        cols_used, pair_cols = np.unique(pairs[:, 1], return_inverse=True)
    else:  # a matching, already sorted by row vertex: each vertex is used once
        rows_used, cols_used = pairs[:, 0], pairs[:, 1]
        pair_rows = pair_cols = cols_used
    xs = P.vertices[rows_used]
    ys = Q.vertices[cols_used]
    xs = xs / xs.sum(axis=1, keepdims=True)
    ys = ys / ys.sum(axis=1, keepdims=True)
    local = np.column_stack([pair_rows, pair_cols]).astype(np.int64).reshape(-1, 2)
    # Sort on coordinates rounded to 12 digits: rounding noise must not order equal ones.
    keys = np.round(np.vstack([-ys[local[:, 1]].T[::-1], -xs[local[:, 0]].T[::-1]]), 12)
    order = np.lexsort(keys) if local.size else np.zeros(0, dtype=np.int64)
    local = local[order]
    component, subsets = nash_subsets(local, len(rows_used), len(cols_used))
    x_eq, y_eq = xs[local[:, 0]], ys[local[:, 1]]
    cost_matrix = np.column_stack(
        [((x_eq @ c) * y_eq).sum(axis=1) for c in (costs1, costs2)]
    ).reshape(-1, 2)
    regret1 = cost_matrix[:, 0] - (y_eq @ costs1.T).min(axis=1, initial=np.inf)
    regret2 = cost_matrix[:, 1] - (x_eq @ costs2).min(axis=1, initial=np.inf)
    regrets = np.concatenate([regret1, regret2, [0.0]])
    exact_eq = None
    if P.exact is not None and Q.exact is not None:
        px, qy = P.exact, Q.exact
        exact_eq = tuple(
            (_normalise(px[rows_used[r]]), _normalise(qy[cols_used[c]])) for r, c in local
        )
    degenerate = not (P.simple.all() and Q.simple.all())
    x_supports = _supports(~P.tight[rows_used, :m])
    y_supports = _supports(~Q.tight[cols_used, m:])
    supports = tuple((x_supports[r], y_supports[c]) for r, c in local.tolist())
    return NashEquilibriaResult(
        equilibria=tuple((x.copy(), y.copy()) for x, y in zip(x_eq, y_eq, strict=True)),
        supports=supports,
        costs=cost_matrix,
        social_costs=cost_matrix.sum(axis=1),
        pairs=local,
        row_vertices=xs,
        column_vertices=ys,
        component=component,
        maximal_nash_subsets=subsets,
        degenerate=degenerate,
        exact=exact_eq is not None,
        exact_equilibria=exact_eq,
        max_regret=float(max(0.0, regrets.max())),
        converged=True,
        iterations=int(P.vertices.shape[0] + Q.vertices.shape[0]),
        method="vertex-enumeration"
        + ("-exact" if exact_eq is not None else "")
        + (" (row-polytope)" if shortcut is not None else ""),
    )
