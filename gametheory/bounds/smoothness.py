"""The best smoothness parameters of a class of congestion games, and the robust PoA.

A cost-minimisation game is ``(lambda, mu)``-smooth if
``sum_i C_i(s*_i, s_-i) <= lambda C(s*) + mu C(s)`` for all profiles ``s, s*``; then every
coarse correlated equilibrium (hence every pure, mixed and correlated equilibrium, and
the time average of no-regret play) costs at most ``lambda / (1 - mu)`` times the optimum
(Roughgarden, Intrinsic robustness of the price of anarchy, JACM 62(5) 2015, Theorem 3.2).
For congestion games with nondecreasing costs in a cone ``{sum_j a_j b_j, a_j >= 0}``
it suffices that every basis function satisfies, for all loads ``x, y`` of ``0..n``,

.. math:: y\\, b(x + 1) \\le \\lambda\\, y\\, b(y) + \\mu\\, x\\, b(x),

and the best such bound is tight for pure equilibria (Roughgarden 2015, Section 4).
Writing ``t = 1/(1 - mu)`` and ``B = lambda/(1 - mu)`` the condition becomes
``t (y b(x+1) - x b(x)) + x b(x) <= B y b(y)``, linear in ``(t, B)``: the best bound is
the linear program ``min B`` over ``t >= 1``, solved here with HiGHS.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linprog

from gametheory.bounds._basis import BasisLike, basis_labels, resolve_basis, tabulate_basis
from gametheory.bounds._common import as_count, check_lp_rows
from gametheory.bounds.results import BoundResult
from gametheory.errors import SolverError

__all__ = ["smoothness_bound"]

FloatArray = NDArray[np.float64]

_ROUGHGARDEN = "Roughgarden, Intrinsic robustness of the price of anarchy, JACM 62(5) 2015"


def smoothness_bound(
    n_players: int = 100,
    basis: BasisLike | None = None,
    *,
    degree: int | None = None,
) -> BoundResult:
    """Best ``(lambda, mu)`` smoothness parameters and the robust PoA ``lambda / (1 - mu)``.

    Parameters
    ----------
    n_players
        Largest load ``n`` considered (the number of players); the bound holds for every
        game with at most ``n`` players.
    basis
        Nondecreasing, nonnegative basis cost functions; the class is their nonnegative
        combinations.
    degree
        Instead of ``basis``: the monomials ``1, x, ..., x^d``.

    Returns
    -------
    BoundResult
        ``value = lambda / (1 - mu)``, a bound on the PoA of coarse correlated equilibria;
        certificate ``lambda``, ``mu``, the binding ``(basis, x, y)`` constraints and the
        largest violation of the smoothness inequality at the returned parameters.

    Raises
    ------
    GameError
        On an empty basis or a basis function that is negative or decreasing.
    SolverError
        If HiGHS does not return an optimal solution.

    References
    ----------
    Roughgarden, JACM 62(5) 2015, Definition 3.1 and Theorem 3.2 (robust PoA of smooth
    games), Section 4 (congestion games: the resource-level condition, tightness).
    """
    n = as_count(n_players, "n_players")
    funcs = resolve_basis(basis, degree)
    check_lp_rows(len(funcs) * (n + 1) ** 2, n, "smoothness")
    table = tabulate_basis(funcs, n + 1, monotone=True)
    r = np.arange(n + 1)
    x, y = (v.ravel() for v in np.meshgrid(r, r, indexing="ij"))
    xb = x * table[:, x]
    yb_next = y * table[:, x + 1]
    yb = y * table[:, y]
    # rows: t (y b(x+1) - x b(x)) - B y b(y) <= -x b(x)
    a_mat = np.stack([(yb_next - xb).ravel(), -yb.ravel()], axis=1)
    ub = -xb.ravel()
    scale = np.maximum(np.maximum(np.abs(a_mat).max(axis=1), np.abs(ub)), 1.0)
    res = linprog(
        c=[0.0, 1.0],
        A_ub=a_mat / scale[:, None],
        b_ub=ub / scale,
        bounds=[(1.0, None), (0.0, None)],
        method="highs",
    )
    if res.status != 0:
        raise SolverError(f"smoothness LP: HiGHS status {res.status} ({res.message})")
    sol = np.asarray(res.x, dtype=np.float64)
    t, bound = float(sol[0]), float(sol[1])
    mu = 1.0 - 1.0 / t
    lam = bound / t
    viol = (lam * yb + mu * xb - yb_next).ravel()
    duals = -np.asarray(res.ineqlin.marginals, dtype=np.float64)
    on = np.nonzero(duals > 1e-12)[0]
    m = table.shape[0]
    jj = np.repeat(np.arange(m), x.size)
    xx, yy = np.tile(x, m), np.tile(y, m)
    binding = [(int(jj[i]), int(xx[i]), int(yy[i])) for i in on]
    labels = basis_labels(funcs)
    return BoundResult(
        value=bound,
        quantity="robust PoA",
        setting=(
            f"atomic congestion games, <= {n} players, nondecreasing costs in "
            f"cone{{{', '.join(labels)}}}; coarse correlated equilibria"
        ),
        tight=True,
        tight_instance="tight for pure equilibria of congestion games with costs in the class",
        source=_ROUGHGARDEN,
        theorem="Theorem 3.2 (smooth games: CCE cost <= lambda/(1-mu) OPT); Section 4 (tightness)",
        certificate={
            "lambda": lam,
            "mu": mu,
            "binding": binding,
            "max_violation": float(max(0.0, -float(viol.min()))),
        },
        method="linear program (HiGHS)",
        iterations=int(res.nit),
    )
