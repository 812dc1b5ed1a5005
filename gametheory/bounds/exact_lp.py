"""The exact Price of Anarchy of atomic congestion games as a two-variable linear program.

Paccagnan, Chandan and Marden (IEEE TAC 65(11) 2020; Chandan, Paccagnan and Marden,
"When smoothness is not enough", CDC 2019) show that for ``n`` players and resource costs
``c(k) = sum_j a_j b_j(k)`` with ``a_j >= 0`` the worst pure-equilibrium PoA is ``1/mu*``,

.. math:: \\mu^* = \\max_{\\lambda \\ge 0,\\ \\mu} \\mu \\quad \\text{s.t.}\\quad
          \\mu\\, w_j(a+x) \\le w_j(b+x) + \\lambda\\,(a\\, b_j(a+x) - b\\, b_j(a+x+1))

for every basis function ``j`` and all integers ``a, x, b >= 0`` with
``1 <= a + x + b <= n``, where ``w_j(k) = k b_j(k)``. A resource used by ``a`` players
only at the equilibrium, ``b`` only at the optimum and ``x`` at both contributes one
such constraint; the dual variables are the weights of these resource types in a worst
instance (the dual certificate).

For ``n = 100`` and a cubic basis the LP has about 7e5 rows and two columns. It is solved
by constraint generation: HiGHS solves the LP on a few rows, every row is checked with
one vectorised product, and the most violated rows are added until none is violated.
The last small LP is optimal for the full one and its duals certify ``mu*``.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction
from typing import Any

import numpy as np
import sympy as sp
from numpy.typing import NDArray
from scipy.optimize import linprog

from gametheory.bounds._basis import BasisLike, basis_labels, resolve_basis, tabulate_basis
from gametheory.bounds._common import as_count, check_lp_rows, latex_of
from gametheory.bounds.results import BoundResult
from gametheory.errors import SolverError

__all__ = ["exact_poa_lp", "lp_constraints"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

_PCM = (
    "Paccagnan, Chandan and Marden, Utility design for distributed resource allocation "
    "- Part I, IEEE TAC 65(11) 2020; Chandan, Paccagnan and Marden, When smoothness is not "
    "enough, CDC 2019"
)


def _triples(n: int) -> tuple[IntArray, IntArray, IntArray]:
    """All ``(a, x, b) >= 0`` with ``1 <= a + x + b <= n``, without building a cube."""
    r = np.arange(n + 1, dtype=np.int64)
    a2, x2 = np.meshgrid(r, r, indexing="ij")
    keep = (a2 + x2) <= n
    a2, x2 = a2[keep], x2[keep]
    counts = n - a2 - x2 + 1  # b = 0..n-a-x
    a = np.repeat(a2, counts)
    x = np.repeat(x2, counts)
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    b = np.arange(a.size, dtype=np.int64) - starts
    nonzero = (a + x + b) >= 1
    return a[nonzero], x[nonzero], b[nonzero]


def lp_constraints(n_players: int, table: FloatArray) -> dict[str, Any]:
    """The LP rows ``[-g, w(a+x)] . (lambda, mu) <= w(b+x)`` for a tabulated basis.

    Parameters
    ----------
    n_players
        Number of players ``n``.
    table
        ``b_j(k)`` for ``k = 0..n``, shape ``(m, n + 1)``.

    Returns
    -------
    dict
        ``A`` (rows x 2), ``ub`` (rows), and the row labels ``j``, ``a``, ``x``, ``b``.
    """
    n = n_players
    a, x, b = _triples(n)
    m = table.shape[0]
    ks = np.arange(n + 1, dtype=np.float64)
    w = table * ks
    s = a + x
    nxt = np.minimum(s + 1, n)  # b >= 1 implies s + 1 <= n; with b = 0 the term vanishes
    g = a * table[:, s] - b * table[:, nxt]
    a_mat = np.stack([-g.ravel(), w[:, s].ravel()], axis=1)
    ub = w[:, b + x].ravel()
    rows = a.size
    return {
        "A": a_mat,
        "ub": ub,
        "j": np.repeat(np.arange(m), rows),
        "a": np.tile(a, m),
        "x": np.tile(x, m),
        "b": np.tile(b, m),
    }


def _solve_rows(a_mat: FloatArray, ub: FloatArray) -> Any:
    res = linprog(
        c=[0.0, -1.0],
        A_ub=a_mat,
        b_ub=ub,
        bounds=[(0.0, None), (None, None)],
        method="highs",
    )
    if res.status != 0:
        raise SolverError(f"exact PoA LP: HiGHS status {res.status} ({res.message})")
    return res


def _rational_vertex(
    a_mat: FloatArray, ub: FloatArray, tight: IntArray, lam: float, mu: float
) -> tuple[Fraction, Fraction] | None:
    """The optimal vertex ``(lambda*, mu*)`` in exact rational arithmetic.

    With integer basis values every row has integer coefficients, so the optimum is the
    solution of two tight rows (or of one tight row and ``lambda = 0``), found here with
    fractions and accepted when it matches the floating-point optimum to 1e-9.
    """
    rows: list[tuple[Fraction, Fraction, Fraction]] = [
        (Fraction(float(a_mat[i, 0])), Fraction(float(a_mat[i, 1])), Fraction(float(ub[i])))
        for i in tight[:24]
    ]
    if abs(lam) <= 1e-9 * max(1.0, abs(mu)):
        rows.append((Fraction(1), Fraction(0), Fraction(0)))  # lambda = 0
    for (a1, b1, c1), (a2, b2, c2) in itertools.combinations(rows, 2):
        det = a1 * b2 - a2 * b1
        if det == 0:
            continue
        lam_q, mu_q = (c1 * b2 - c2 * b1) / det, (a1 * c2 - a2 * c1) / det
        if abs(float(lam_q) - lam) <= 1e-9 * max(1.0, abs(lam)) and abs(
            float(mu_q) - mu
        ) <= 1e-9 * max(1.0, abs(mu)):
            return lam_q, mu_q
    return None


def exact_poa_lp(
    n_players: int,
    basis: BasisLike | None = None,
    *,
    degree: int | None = None,
    tol: float = 1e-10,
    max_rounds: int = 60,
) -> BoundResult:
    """Exact pure PoA of ``n``-player congestion games with costs in a nonnegative cone.

    Parameters
    ----------
    n_players
        Number of players ``n >= 1``.
    basis
        Basis cost functions ``b_j`` (library cost functions or callables on integer
        loads), nonnegative on ``1..n``; the class is all ``sum_j a_j b_j`` with
        ``a_j >= 0``.
    degree
        Instead of ``basis``: the monomials ``1, x, ..., x^d`` (polynomials of degree
        ``<= d`` with nonnegative coefficients).
    tol
        Relative feasibility tolerance of the constraint generation.
    max_rounds
        Largest number of constraint-generation rounds.

    Returns
    -------
    BoundResult
        ``value = 1/mu*``; certificate: ``lambda``, ``mu``, the active rows ``(j, a, x, b)``
        with their dual weights, the maximum violation over all rows and the numbers of
        rows in the full and in the final LP. When the basis takes integer values on
        ``0..n`` (monomials do), ``expr`` is the exact rational PoA (e.g. 115/12): the
        optimal vertex re-solved in fractions from its two tight rows.

    Raises
    ------
    GameError
        On an empty basis, a negative basis value or a bad ``n_players``.
    SolverError
        If HiGHS fails or the generation does not close within ``max_rounds``.

    References
    ----------
    Paccagnan, Chandan and Marden, IEEE TAC 65(11) 2020 (the exact PoA as a linear
    program); Chandan, Paccagnan and Marden, CDC 2019.
    """
    n = as_count(n_players, "n_players")
    funcs = resolve_basis(basis, degree)
    # (a, x, b) >= 0 with 1 <= a + x + b <= n: C(n + 3, 3) - 1 triples per basis function
    check_lp_rows(len(funcs) * (math.comb(n + 3, 3) - 1), n, "exact PoA")
    table = tabulate_basis(funcs, n)
    rows = lp_constraints(n, table)
    a_mat, ub = rows["A"], rows["ub"]
    scale = np.maximum(np.maximum(np.abs(a_mat).max(axis=1), np.abs(ub)), 1e-300)
    a_mat, ub = a_mat / scale[:, None], ub / scale
    small = np.nonzero((rows["a"] + rows["x"] + rows["b"]) <= min(n, 4))[0]
    active = np.unique(np.concatenate([small, np.argsort(ub)[:8]]))
    rounds = 0
    while True:
        rounds += 1
        res = _solve_rows(a_mat[active], ub[active])
        v = np.asarray(res.x, dtype=np.float64)
        slack = ub - a_mat @ v
        viol = np.nonzero(slack < -tol)[0]
        if viol.size == 0:
            break
        if rounds == max_rounds:
            raise SolverError(
                f"exact PoA LP: constraint generation did not close in {max_rounds} rounds"
            )
        worst = viol[np.argsort(slack[viol])[:256]]
        active = np.union1d(active, worst)
    lam, mu = float(v[0]), float(v[1])
    if mu <= 0:
        raise SolverError(f"exact PoA LP: mu* = {mu:g} <= 0, the PoA is unbounded for this basis")
    duals = -np.asarray(res.ineqlin.marginals, dtype=np.float64) / scale[active]
    on = np.nonzero(duals > 1e-12)[0]
    idx = active[on]
    support = [
        {
            "basis": int(rows["j"][i]),
            "a": int(rows["a"][i]),
            "x": int(rows["x"][i]),
            "b": int(rows["b"][i]),
            "weight": float(d),
        }
        for i, d in zip(idx, duals[on])
    ]
    labels = basis_labels(funcs)
    expr: sp.Expr | None = None
    if np.array_equal(table, np.round(table)) and np.abs(table).max() < 2.0**40:
        raw, raw_ub = rows["A"], rows["ub"]
        raw_slack = raw_ub - raw @ v
        tight = active[np.abs(raw_slack[active]) <= 1e-9 * np.maximum(1.0, np.abs(raw_ub[active]))]
        vertex = _rational_vertex(raw, raw_ub, tight, lam, mu)
        if vertex is not None and vertex[1] > 0:
            expr = sp.Rational(vertex[1].denominator, vertex[1].numerator)
    return BoundResult(
        value=1.0 / mu,
        quantity="PoA",
        setting=f"atomic congestion games, {n} players, costs in cone{{{', '.join(labels)}}}",
        tight=True,
        tight_instance=(
            "a game whose resources are the dual support: resource type (a, x, b) used by "
            "a players at equilibrium only, b at optimum only, x at both, in proportion to "
            "the dual weights"
        ),
        source=_PCM,
        theorem="exact PoA of pure equilibria as a linear program (tight for every n)",
        certificate={
            "lambda": lam,
            "mu": mu,
            "dual_support": support,
            "max_violation": float(max(0.0, -float((slack * scale).min()))),
            "rows_full": int(ub.size),
            "rows_final": int(active.size),
        },
        expr=expr,
        latex=latex_of(expr),
        method="linear program (HiGHS, constraint generation)",
        iterations=rounds,
        notes=(
            "expr: the optimal vertex solved in rational arithmetic (integer basis values)"
            if expr is not None
            else ""
        ),
    )
