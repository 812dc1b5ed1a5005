r"""Generalized Nash equilibria of continuous games with shared (coupled) constraints.

A :class:`~gametheory.games.base.ContinuousGame` has players choosing real actions
``x_i in [lower_i, upper_i]`` under shared constraints ``A x <= b``; each minimises its cost
``f_i``. A *generalized* Nash equilibrium (GNE) is a feasible ``x`` where no player can lower
its cost by a feasible unilateral change. The set of GNE is usually a continuum (Facchinei
and Kanzow, 4OR 5(3) 2007, section 4); two selections are computed here:

* **Normalized equilibria** (Rosen, Econometrica 33(3) 1965, section 3): for weights
  ``r > 0``, the GNE whose KKT multipliers of the shared constraints are ``lambda_0 / r_i``
  for player ``i``. Equivalently, ``x`` solves the variational inequality
  ``VI(X, F_r)`` with ``F_r(x) = (r_i d f_i / d x_i)_i`` over the whole feasible set ``X``.
* The **variational equilibrium** is the normalized equilibrium with ``r = 1`` (Facchinei
  and Kanzow 2007, theorem 3.9): all players see the same price on the shared constraints.

Two independent solvers are provided: the extragradient method with Khobotov's adaptive
step (Korpelevich, Ekonomika i Mat. Metody 12 1976; Khobotov, USSR Comp. Math. Math. Phys.
27(5) 1987; Marcotte, INFOR 29(4) 1991), which needs only projections onto ``X``; and a
solver of the KKT system, written as nonlinear equations with the Fischer-Burmeister
function ``phi(a, b) = a + b - sqrt(a^2 + b^2)`` (Fischer, Optimization 24 1992) and solved
by SciPy's bounded trust-region least squares. Rosen's theorem 2 gives uniqueness of the
normalized equilibrium when ``sum r_i u_i`` is diagonally strictly concave; a sufficient
condition (his theorem 6) is that ``G + G^T`` is negative definite, ``G`` the Jacobian of
the weighted pseudo-gradient of the utilities ``u_i = -f_i``.
:func:`diagonal_strict_concavity` checks it numerically on sample points. The feasible
set, the projection and the natural residual live in :mod:`gametheory.solvers.pd.vi`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import least_squares

from gametheory._lazy import lazy_module
from gametheory.errors import GameError, SolverError
from gametheory.games.base import ContinuousGame
from gametheory.solvers.common.blas import single_blas_thread
from gametheory.solvers.pd.results import ConcavityCheckResult, ContinuousEquilibriumResult
from gametheory.solvers.pd.vi import (
    equilibrium_result,
    feasible_set,
    player_weights,
    project,
    shared_multipliers,
    start_point,
    weighted_field,
)

if TYPE_CHECKING:
    import cvxpy as cp
else:
    cp = lazy_module("cvxpy")

__all__ = [
    "diagonal_strict_concavity",
    "extragradient",
    "kkt_equilibrium",
    "normalized_equilibrium",
    "variational_equilibrium",
]

FloatArray = NDArray[np.float64]


def extragradient(
    game: ContinuousGame,
    weights: ArrayLike | None = None,
    *,
    x0: ArrayLike | None = None,
    tol: float = 1e-10,
    max_iter: int = 50_000,
) -> ContinuousEquilibriumResult:
    """Normalized equilibrium for weights ``r`` by the extragradient method.

    Iterates ``y = P(x - t F_r(x))``, ``x+ = P(x - t F_r(y))`` (Korpelevich 1976) with
    Khobotov's step rule (1987): ``t`` is halved until ``t ||F_r(y) - F_r(x)|| <= 0.9
    ||y - x||`` and the field is finite at ``y``, and grows by 1.5 after easy steps.
    Converges for monotone, Lipschitz ``F_r`` (Rosen's diagonal strict concavity makes
    ``F_r`` strictly monotone).

    Parameters
    ----------
    game
        The continuous game.
    weights
        Rosen's weights ``r`` (default all ones: the variational equilibrium).
    x0
        Start (projected onto the feasible set); default the projected centre of the bounds.
    tol
        Stop when the natural residual ``||x - P(x - F_r(x))||`` is at most ``tol``.
    max_iter
        Iteration limit; the result says ``converged=False`` when it is reached.

    Returns
    -------
    ContinuousEquilibriumResult
        With the shared multipliers ``lambda_0`` recovered from the stationarity conditions.
    """
    r = player_weights(game, weights)
    x = start_point(game, x0)
    fx = weighted_field(game, x, r)
    if not np.all(np.isfinite(fx)):
        raise GameError(f"the pseudo-gradient is not finite at the start point {x}")
    step, nu = 1.0, 0.9
    iterations = 0
    for iterations in range(1, max_iter + 1):  # noqa: B007 - the count is reported
        if np.linalg.norm(x - project(game, x - fx)) <= tol:
            break
        while True:
            y = project(game, x - step * fx)
            fy = weighted_field(game, y, r)
            gap = float(np.linalg.norm(y - x))
            if np.all(np.isfinite(fy)) and step * np.linalg.norm(fy - fx) <= nu * gap:
                break
            step *= 0.5
            if step < 1e-300:
                raise SolverError("extragradient step underflowed: the field is not Lipschitz")
        x_new = project(game, x - step * fy)
        f_new = weighted_field(game, x_new, r)
        if not np.all(np.isfinite(f_new)):
            step *= 0.5
            continue
        if step * np.linalg.norm(fy - fx) <= 0.5 * nu * gap:
            step *= 1.5
        x, fx = x_new, f_new
    lam = shared_multipliers(game, x, r)
    return equilibrium_result(game, x, r, lam, iterations, tol, "extragradient")


def _fb(a: FloatArray, b: FloatArray) -> FloatArray:
    return a + b - np.sqrt(a * a + b * b)


def _fb_partials(a: FloatArray, b: FloatArray) -> tuple[FloatArray, FloatArray]:
    rho = np.sqrt(a * a + b * b)
    safe = np.where(rho > 0, rho, 1.0)
    da = np.where(rho > 0, 1.0 - a / safe, 1.0 - math.sqrt(0.5))
    db = np.where(rho > 0, 1.0 - b / safe, 1.0 - math.sqrt(0.5))
    return da, db


def kkt_equilibrium(
    game: ContinuousGame,
    weights: ArrayLike | None = None,
    *,
    x0: ArrayLike | None = None,
    tol: float = 1e-10,
    max_iter: int = 2_000,
) -> ContinuousEquilibriumResult:
    """Normalized equilibrium for weights ``r`` by solving the KKT system.

    Unknowns: actions ``x``, shared multipliers ``lambda_0`` and multipliers of the finite
    bounds. Equations: stationarity ``r_i F_i(x) + (A^T lambda_0)_i - mu_lo_i + mu_hi_i = 0``
    and the complementarity conditions as Fischer-Burmeister equations
    ``phi(b - A x, lambda_0) = 0``, ``phi(x - lower, mu_lo) = 0``,
    ``phi(upper - x, mu_hi) = 0``. Solved by ``scipy.optimize.least_squares`` (trust-region
    reflective, which keeps ``x`` strictly inside its bounds and multipliers nonnegative)
    with the analytic Jacobian from ``game.pseudo_jacobian``.

    Parameters
    ----------
    game
        The continuous game.
    weights
        Rosen's weights ``r`` (default all ones: the variational equilibrium).
    x0
        Start; default the projected centre of the bounds, moved strictly inside them.
    tol
        Convergence is declared when the natural residual is at most ``tol``.
    max_iter
        Limit on function evaluations.

    Notes
    -----
    The Fischer-Burmeister system is nonsmooth where a constraint is active with a zero
    multiplier, and its multipliers are not unique at a degenerate corner (more active
    constraints than players); with steep costs the least-squares iteration can then
    stall. The result says so (``converged=False``); :func:`extragradient` needs only
    projections and is the more robust of the two.
    """
    r = player_weights(game, weights)
    lo, hi, a_mat, b_vec = feasible_set(game)
    n, m = lo.size, b_vec.size
    flo, fhi = np.nonzero(np.isfinite(lo))[0], np.nonzero(np.isfinite(hi))[0]
    x_start = start_point(game, x0)
    width = np.where(np.isfinite(hi - lo), hi - lo, 1.0)
    x_start = np.clip(x_start, lo + 1e-6 * width, hi - 1e-6 * width)
    z0 = np.concatenate([x_start, np.ones(m + flo.size + fhi.size)])

    def split(z: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        x = z[:n]
        lam = z[n : n + m]
        mu_lo = z[n + m : n + m + flo.size]
        mu_hi = z[n + m + flo.size :]
        return x, lam, mu_lo, mu_hi

    def residual(z: FloatArray) -> FloatArray:
        x, lam, mu_lo, mu_hi = split(z)
        stat = weighted_field(game, x, r) + a_mat.T @ lam
        stat[flo] -= mu_lo
        stat[fhi] += mu_hi
        return np.concatenate(
            [
                stat,
                _fb(b_vec - a_mat @ x, lam),
                _fb(x[flo] - lo[flo], mu_lo),
                _fb(hi[fhi] - x[fhi], mu_hi),
            ]
        )

    def jacobian(z: FloatArray) -> FloatArray:
        x, lam, mu_lo, mu_hi = split(z)
        k = n + m + flo.size + fhi.size
        jac = np.zeros((k, k))
        jac[:n, :n] = r[:, None] * np.asarray(game.pseudo_jacobian(x), dtype=np.float64)
        jac[:n, n : n + m] = a_mat.T
        jac[flo, n + m + np.arange(flo.size)] = -1.0
        jac[fhi, n + m + flo.size + np.arange(fhi.size)] = 1.0
        da, db = _fb_partials(b_vec - a_mat @ x, lam)
        jac[n : n + m, :n] = -da[:, None] * a_mat
        jac[n : n + m, n : n + m] = np.diag(db)
        da, db = _fb_partials(x[flo] - lo[flo], mu_lo)
        rows = n + m + np.arange(flo.size)
        jac[rows, flo] = da
        jac[rows, rows] = db
        da, db = _fb_partials(hi[fhi] - x[fhi], mu_hi)
        rows = n + m + flo.size + np.arange(fhi.size)
        jac[rows, fhi] = -da
        jac[rows, rows] = db
        return jac

    if not np.all(np.isfinite(residual(z0))):
        raise GameError(f"the pseudo-gradient is not finite at the start point {x_start}")
    bounds_lo = np.concatenate([lo, np.zeros(m + flo.size + fhi.size)])
    bounds_hi = np.concatenate([hi, np.full(m + flo.size + fhi.size, np.inf)])
    with single_blas_thread():
        sol = least_squares(
            residual,
            z0,
            jac=jacobian,
            bounds=(bounds_lo, bounds_hi),
            method="trf",
            x_scale="jac",
            xtol=1e-15,
            ftol=1e-15,
            gtol=1e-15,
            max_nfev=max_iter,
        )
    z = _newton_polish(
        residual, jacobian, np.asarray(sol.x, dtype=np.float64), bounds_lo, bounds_hi
    )
    x, lam, _, _ = split(z)
    x = project(game, x)
    return equilibrium_result(game, x, r, lam.copy(), int(sol.nfev), tol, "kkt-fischer-burmeister")


def _newton_polish(
    residual: Callable[[FloatArray], FloatArray],
    jacobian: Callable[[FloatArray], FloatArray],
    z: FloatArray,
    lower: FloatArray,
    upper: FloatArray,
    steps: int = 8,
) -> FloatArray:
    """Semismooth Newton steps on the Fischer-Burmeister system from the least-squares point.

    The trust-region solver's stopping rules leave the residual near ``1e-8``; a few full
    Newton steps (least-squares solves, so a singular Jacobian at a degenerate corner is
    harmless) converge quadratically from there. A step is kept only when it stays within
    the bounds and reduces the residual norm.
    """
    best = float(np.linalg.norm(residual(z)))
    for _ in range(steps):
        step = np.linalg.lstsq(jacobian(z), -residual(z), rcond=None)[0]
        trial = np.clip(z + step, lower, upper)
        value = float(np.linalg.norm(residual(trial)))
        if not value < best:
            break
        z, best = trial, value
    return z


def normalized_equilibrium(
    game: ContinuousGame,
    weights: ArrayLike,
    method: str = "extragradient",
    *,
    x0: ArrayLike | None = None,
    tol: float = 1e-10,
) -> ContinuousEquilibriumResult:
    """Rosen's normalized equilibrium for weights ``r`` (Rosen 1965, theorem 3).

    Player ``i``'s multiplier on the shared constraints is ``lambda_0 / r_i``.

    Parameters
    ----------
    game
        The continuous game.
    weights
        Positive weights ``r``, one per player.
    method
        ``"extragradient"`` (projection method) or ``"kkt"`` (KKT system).
    x0, tol
        Start and tolerance, passed to :func:`extragradient` or :func:`kkt_equilibrium`.
    """
    if method == "extragradient":
        return extragradient(game, weights, x0=x0, tol=tol)
    if method == "kkt":
        return kkt_equilibrium(game, weights, x0=x0, tol=tol)
    raise GameError(f"method must be 'extragradient' or 'kkt', got {method!r}")


def variational_equilibrium(
    game: ContinuousGame,
    method: str = "extragradient",
    *,
    x0: ArrayLike | None = None,
    tol: float = 1e-10,
) -> ContinuousEquilibriumResult:
    """The variational equilibrium: the solution of ``VI(X, F)`` (Rosen's ``r = 1``).

    It is the generalized Nash equilibrium in which every player faces the same shared
    multipliers (Facchinei and Kanzow, 4OR 5(3) 2007, theorem 3.9).
    """
    return normalized_equilibrium(game, np.ones(game.n_players), method, x0=x0, tol=tol)


def _samples(game: ContinuousGame, n_samples: int, seed: int | None) -> FloatArray:
    """Feasible points: the projected centre plus uniform draws in the (finite) box."""
    lo, hi, a_mat, b_vec = feasible_set(game)
    rng = np.random.default_rng(seed)
    lo_f = np.where(np.isfinite(lo), lo, np.where(np.isfinite(hi), hi - 10.0, -10.0))
    hi_f = np.where(np.isfinite(hi), hi, lo_f + 10.0 * np.maximum(1.0, np.abs(lo_f)))
    draws = rng.uniform(lo_f, hi_f, size=(8 * n_samples, lo.size))
    feasible = draws[np.all(draws @ a_mat.T <= b_vec, axis=1)][:n_samples]
    return np.vstack([start_point(game, None)[None, :], feasible])


def diagonal_strict_concavity(
    game: ContinuousGame,
    weights: ArrayLike | None = None,
    *,
    n_samples: int = 64,
    seed: int | None = None,
) -> ConcavityCheckResult:
    """Check Rosen's sufficient condition for diagonal strict concavity numerically.

    Rosen (1965), theorem 6: if ``G(x, r) + G(x, r)^T`` is negative definite on ``X``, with
    ``G`` the Jacobian of ``(r_i d u_i / d x_i)_i``, then ``sum r_i u_i`` is diagonally
    strictly concave and (theorem 2) the normalized equilibrium for ``r`` is unique. In cost
    terms (``u = -f``): ``J_r + J_r^T`` positive definite, ``J_r = diag(r) dF``. The least
    eigenvalue of ``(J_r + J_r^T) / 2`` is evaluated at the projected centre and at up to
    ``n_samples`` uniform feasible points; a positive minimum is numerical evidence, not a
    proof (points where the Jacobian is not finite are skipped and counted out).
    """
    r = player_weights(game, weights)
    if n_samples < 0:
        raise GameError(f"n_samples must be >= 0, got {n_samples}")
    points = _samples(game, n_samples, seed)
    jac = np.array([np.asarray(game.pseudo_jacobian(p), dtype=np.float64) for p in points])
    weighted = r[None, :, None] * jac
    finite = np.all(np.isfinite(weighted), axis=(1, 2))
    if not finite.any():
        raise GameError("the pseudo-Jacobian is not finite at any sampled feasible point")
    sym = (weighted[finite] + np.transpose(weighted[finite], (0, 2, 1))) / 2.0
    least = np.linalg.eigvalsh(sym)[:, 0]
    worst = int(np.argmin(least))
    return ConcavityCheckResult(
        holds=bool(least[worst] > 0),
        min_eigenvalue=float(least[worst]),
        worst_point=points[finite][worst],
        n_points=int(finite.sum()),
        weights=r,
        method="rosen-theorem-6-sampled",
    )
