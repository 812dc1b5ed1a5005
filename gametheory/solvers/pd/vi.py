"""The variational inequality behind generalized equilibria: feasible set, projection,
natural residual and the shared-constraint multipliers.

A normalized equilibrium for weights ``r`` solves ``VI(X, F_r)``,
``F_r(x) = (r_i d f_i / d x_i)_i``, over the feasible set
``X = {lower <= x <= upper, A x <= b}`` (Rosen, Econometrica 33(3) 1965). ``x`` solves it
exactly when the natural residual ``||x - P_X(x - F_r(x))||`` is zero (Facchinei and Pang,
*Finite-Dimensional Variational Inequalities*, 2003, prop. 1.5.8). The projection is
exact on a box with one half-space and a quadratic program (cvxpy) otherwise; a feasible
start is a Chebyshev centre of ``X`` (a linear program). The solvers of
:mod:`gametheory.solvers.pd.continuous` are built on these pieces.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import nnls

from gametheory._lazy import lazy_module
from gametheory.errors import GameError, SolverError
from gametheory.games.base import ContinuousGame
from gametheory.solvers.pd.results import ContinuousEquilibriumResult

if TYPE_CHECKING:
    import cvxpy as cp
else:
    cp = lazy_module("cvxpy")

__all__ = [
    "equilibrium_result",
    "feasible_set",
    "natural_residual",
    "player_weights",
    "project",
    "shared_multipliers",
    "start_point",
    "weighted_field",
]

FloatArray = NDArray[np.float64]


def feasible_set(game: ContinuousGame) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Validated ``(lower, upper, A, b)`` of a game."""
    n = game.n_players
    lo = np.asarray(game.lower, dtype=np.float64).reshape(-1)
    hi = np.asarray(game.upper, dtype=np.float64).reshape(-1)
    a_mat, b_vec = game.shared_constraints
    a_mat = np.atleast_2d(np.asarray(a_mat, dtype=np.float64))
    b_vec = np.asarray(b_vec, dtype=np.float64).reshape(-1)
    if lo.shape != (n,) or hi.shape != (n,):
        raise GameError(f"lower and upper must have one bound per player ({n})")
    if np.any(np.isnan(lo)) or np.any(np.isnan(hi)) or np.any(lo > hi):
        raise GameError("lower and upper must be ordered bounds (lower <= upper, no NaN)")
    if a_mat.shape != (b_vec.shape[0], n) or not np.all(np.isfinite(a_mat)):
        raise GameError(f"shared constraints A must be finite of shape (m, {n}) matching b")
    if np.any(np.isnan(b_vec)):
        raise GameError("shared constraint bounds b must not be NaN")
    return lo, hi, a_mat, b_vec


def player_weights(game: ContinuousGame, weights: ArrayLike | None) -> FloatArray:
    """Validated Rosen weights ``r > 0`` (default: all ones, the variational equilibrium)."""
    n = game.n_players
    if weights is None:
        return np.ones(n)
    r = np.asarray(weights, dtype=np.float64).reshape(-1)
    if r.shape != (n,) or not np.all(np.isfinite(r)) or np.any(r <= 0):
        raise GameError(f"weights must be {n} positive finite numbers, got {weights!r}")
    return r


def _project_halfspace_box(
    y: FloatArray, a: FloatArray, b: float, lo: FloatArray, hi: FloatArray
) -> FloatArray:
    """Exact projection onto ``{lo <= x <= hi, a.x <= b}``.

    The projection is ``clip(y - tau a, lo, hi)`` for the least ``tau >= 0`` meeting the
    constraint; ``a.clip(y - tau a)`` is piecewise linear and nonincreasing in ``tau``, so
    ``tau`` is found exactly between two consecutive breakpoints.
    """
    x = np.clip(y, lo, hi)
    if a @ x <= b:
        return x
    nz = a != 0
    with np.errstate(divide="ignore", invalid="ignore"):
        bps = np.concatenate([(y[nz] - lo[nz]) / a[nz], (y[nz] - hi[nz]) / a[nz]])
    taus = np.unique(bps[np.isfinite(bps) & (bps > 0)])
    vals = np.clip(y[None, :] - taus[:, None] * a[None, :], lo, hi) @ a
    below = np.nonzero(vals <= b)[0]
    if below.size:
        k = int(below[0])
        t0 = float(taus[k - 1]) if k > 0 else 0.0
        v0 = float(vals[k - 1]) if k > 0 else float(a @ x)
        t1, v1 = float(taus[k]), float(vals[k])
        tau = t1 if v0 == v1 else t0 + (v0 - b) * (t1 - t0) / (v0 - v1)
        return np.clip(y - tau * a, lo, hi)
    t_last = float(taus[-1]) if taus.size else 0.0
    v_last = float(vals[-1]) if taus.size else float(a @ x)
    z = y - t_last * a
    free = nz & (z > lo) & (z < hi) if taus.size else nz
    slope = float(a[free] @ a[free])
    if slope == 0.0:
        raise GameError("the feasible set is empty: the shared constraint cannot be met")
    return np.clip(y - (t_last + (v_last - b) / slope) * a, lo, hi)


def project(game: ContinuousGame, y: ArrayLike) -> FloatArray:
    """Euclidean projection of ``y`` onto the game's feasible set.

    One shared constraint is handled exactly by a breakpoint search; several go through a
    cvxpy quadratic program.

    Raises
    ------
    GameError
        If the feasible set is empty.
    SolverError
        If the quadratic program does not solve to optimality.
    """
    lo, hi, a_mat, b_vec = feasible_set(game)
    point = np.asarray(y, dtype=np.float64).reshape(-1)
    if point.shape != lo.shape or not np.all(np.isfinite(point)):
        raise GameError(f"point must be {lo.size} finite numbers, got {y!r}")
    if a_mat.shape[0] == 1:
        return _project_halfspace_box(point, a_mat[0], float(b_vec[0]), lo, hi)
    x = cp.Variable(lo.size)
    cons = [x @ a_mat.T <= b_vec]
    fin_lo, fin_hi = np.isfinite(lo), np.isfinite(hi)
    if fin_lo.any():
        cons.append(x[fin_lo] >= lo[fin_lo])
    if fin_hi.any():
        cons.append(x[fin_hi] <= hi[fin_hi])
    prob: Any = cp.Problem(cp.Minimize(cp.quad_over_lin(x - point, 1.0)), cons)
    prob.solve(solver=cp.CLARABEL)
    if prob.status == cp.INFEASIBLE:
        raise GameError("the feasible set is empty: the shared constraints cannot be met")
    if prob.status != cp.OPTIMAL:
        raise SolverError(f"projection quadratic program ended with status {prob.status!r}")
    return np.clip(np.asarray(x.value, dtype=np.float64), lo, hi)


def start_point(game: ContinuousGame, x0: ArrayLike | None) -> FloatArray:
    """A feasible start: ``x0`` projected, else a Chebyshev centre of the feasible set.

    The centre maximises the least slack ``s`` of the bounds and of the shared constraints
    (each scaled by its row norm), a linear program solved by HiGHS; ``s`` is capped at
    the largest finite bound magnitude (at least 1) when the set is unbounded.
    """
    lo, hi, a_mat, b_vec = feasible_set(game)
    if x0 is not None:
        return project(game, x0)
    finite = np.concatenate([lo[np.isfinite(lo)], hi[np.isfinite(hi)], b_vec[np.isfinite(b_vec)]])
    cap = max(1.0, float(np.max(np.abs(finite)))) if finite.size else 1.0
    x = cp.Variable(lo.size)
    s = cp.Variable()
    norms = np.linalg.norm(a_mat, axis=1)
    cons = [x @ a_mat.T + s * norms <= b_vec, s <= cap]
    fin_lo, fin_hi = np.isfinite(lo), np.isfinite(hi)
    if fin_lo.any():
        cons.append(x[fin_lo] - s >= lo[fin_lo])
    if fin_hi.any():
        cons.append(x[fin_hi] + s <= hi[fin_hi])
    prob: Any = cp.Problem(cp.Maximize(s), cons)
    prob.solve(solver=cp.HIGHS)
    if prob.status != cp.OPTIMAL or float(np.asarray(s.value)) < 0:
        raise GameError("the feasible set is empty or has no interior point")
    return project(game, np.asarray(x.value, dtype=np.float64))


def weighted_field(game: ContinuousGame, x: FloatArray, r: FloatArray) -> FloatArray:
    """The weighted pseudo-gradient ``F_r(x) = (r_i d f_i / d x_i)_i``."""
    return r * np.asarray(game.pseudo_gradient(x), dtype=np.float64)


def natural_residual(game: ContinuousGame, x: ArrayLike, weights: ArrayLike | None = None) -> float:
    """``||x - P_X(x - F_r(x))||``: zero exactly at a normalized equilibrium for ``r``.

    Facchinei and Pang, *Finite-Dimensional Variational Inequalities*, 2003, prop. 1.5.8.
    Infinite when the pseudo-gradient is not finite at ``x``.
    """
    r = player_weights(game, weights)
    point = np.asarray(x, dtype=np.float64)
    f = weighted_field(game, point, r)
    if not np.all(np.isfinite(f)):
        return math.inf
    return float(np.linalg.norm(point - project(game, point - f)))


def shared_multipliers(game: ContinuousGame, x: FloatArray, r: FloatArray) -> FloatArray:
    """``lambda_0`` of the shared constraints at ``x``, by nonnegative least squares.

    Uses the stationarity rows of the players whose own bounds are not active:
    ``r_i F_i(x) + sum_k lambda_k A_ki = 0``; constraints slack at ``x`` get zero.
    """
    lo, hi, a_mat, b_vec = feasible_set(game)
    scale = np.maximum(1.0, np.abs(b_vec))
    active = a_mat @ x >= b_vec - 1e-7 * scale
    lam = np.zeros(b_vec.size)
    span = np.maximum(1.0, np.abs(x))
    interior = (x > lo + 1e-9 * span) & (x < hi - 1e-9 * span)
    if not active.any() or not interior.any():
        return lam
    f = weighted_field(game, x, r)
    sol, _ = nnls(a_mat[np.ix_(active, interior)].T, -f[interior])
    lam[active] = sol
    return lam


def equilibrium_result(
    game: ContinuousGame,
    x: FloatArray,
    r: FloatArray,
    lam: FloatArray,
    iterations: int,
    tol: float,
    method: str,
) -> ContinuousEquilibriumResult:
    """The result at ``x``: costs, multipliers and the natural residual as certificate."""
    residual = natural_residual(game, x, r)
    return ContinuousEquilibriumResult(
        x=x,
        costs=np.asarray(game.costs(x), dtype=np.float64),
        weights=r,
        shared_multipliers=lam,
        residual=residual,
        converged=bool(residual <= tol),
        iterations=iterations,
        method=method,
    )
