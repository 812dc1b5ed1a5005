"""Price-of-Anarchy bounds for nonatomic (Wardrop) routing: the Pigou bound.

For a class ``C`` of nondecreasing, nonnegative cost functions the *Pigou bound*

.. math:: \\alpha(C) = \\sup_{c \\in C} \\sup_{r > 0,\\ 0 \\le x \\le r}
          \\frac{r\\, c(r)}{x\\, c(x) + (r - x)\\, c(r)}

bounds the PoA of every network whose costs lie in ``C``, and it is attained by a
two-link network (a link with cost ``c`` and a constant link ``c(r)``, demand ``r``) as
soon as ``C`` contains the constants (Roughgarden, JCSS 67(2) 2003, Section 3;
Roughgarden and Tardos, JACM 49(2) 2002). Correa, Schulz and Stier-Moses
(Math. OR 29(4) 2004) write it as ``1 / (1 - beta(C))`` with
``beta(C) = sup y (c(x) - c(y)) / (x c(x))`` over ``0 <= y <= x``.

This module computes the bound numerically for any costs (library cost functions,
:class:`~gametheory.costs.Tabulated` curves fitted from telemetry, plain Python
functions), with the maximising ``(c, x, r)`` as certificate, and in closed form for
polynomials of degree ``d`` and BPR functions with a bounded volume/capacity ratio. The
closed form for M/M/1 delays with bounded traffic is
:func:`gametheory.bounds.queueing.mm1_bound`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp
from numpy.typing import NDArray
from scipy.optimize import minimize_scalar

from gametheory.bounds._common import as_count, as_degree, as_real, closed_form
from gametheory.bounds.results import BoundResult
from gametheory.costs import MM1, CostFunction, Tabulated
from gametheory.errors import GameError

__all__ = ["beta_bound", "bpr_bound", "pigou_bound", "polynomial_bound"]

FloatArray = NDArray[np.float64]
CostLike = CostFunction | Callable[[FloatArray], Any]

_ROUGHGARDEN = (
    "Roughgarden, The price of anarchy is independent of the network topology, JCSS 67(2) 2003"
)
_POLY_SOURCE = (
    "Roughgarden and Tardos, How bad is selfish routing?, JACM 49(2) 2002; " + _ROUGHGARDEN
)
_CSS = (
    "Correa, Schulz and Stier-Moses, Selfish routing in capacitated networks, Math. OR 29(4) 2004"
)
_DEFAULT_R_MAX = 1e3


def _alpha_d(d: float) -> float:
    """``[1 - d (d+1)^(-(d+1)/d)]^(-1)``, with the limit 1 at ``d = 0``."""
    if d == 0:
        return 1.0
    return float(1.0 / (1.0 - d * (d + 1.0) ** (-(d + 1.0) / d)))


def _alpha_d_expr(d: sp.Expr) -> sp.Expr:
    return 1 / (1 - d * (d + 1) ** (-(d + 1) / d))


def polynomial_bound(degree: float) -> BoundResult:
    """Pigou bound of polynomial costs of degree at most ``d`` with nonnegative coefficients.

    ``alpha_d = [1 - d (d+1)^(-(d+1)/d)]^(-1)`` (4/3 for affine costs, 1.625752 for
    quadratics, 2.150502 for quartics). Tight on Pigou's network: links ``1`` and ``x^d``,
    demand 1.

    Parameters
    ----------
    degree
        The degree ``d >= 0`` (a real ``d`` gives the bound of ``a + b x^d`` costs).

    References
    ----------
    Roughgarden and Tardos, JACM 49(2) 2002 (affine costs, 4/3); Roughgarden, JCSS 67(2)
    2003 (the Pigou bound of degree-d polynomials).
    """
    d = as_degree(degree)
    ds = sp.nsimplify(d)
    if d == 0:
        expr: sp.Expr = sp.Integer(1)
        x_star = 0.0
        beta = 0.0
    else:
        expr = sp.simplify(_alpha_d_expr(ds))
        x_star = (d + 1.0) ** (-1.0 / d)
        beta = d * (d + 1.0) ** (-(d + 1.0) / d)
    return closed_form(
        expr,
        value=_alpha_d(d),
        quantity="PoA",
        setting=f"nonatomic routing, polynomial costs of degree <= {d:g}, nonnegative coefficients",
        tight=True,
        tight_instance=f"Pigou network: links c=1 and c=x^{d:g}, demand 1",
        source=_POLY_SOURCE,
        theorem=(
            "4/3 for affine costs (Roughgarden-Tardos); alpha_d for degree-d polynomials "
            "(Roughgarden 2003)"
        ),
        certificate={"cost": f"x^{d:g}", "x": x_star, "r": 1.0, "beta": beta},
    )


def bpr_bound(rho: float = math.inf, alpha: float = 0.15, beta: float = 4.0) -> BoundResult:
    """Pigou bound of BPR costs ``t0 (1 + alpha (x/cap)^beta)`` with volume/capacity ``<= rho``.

    For ``a + b x^d`` at flows ``r`` with ``s = b r^d / a`` the supremum over ``x`` is
    ``(1 + s) / (1 + s / alpha_d)``, increasing in ``s``; for BPR ``s = alpha rho^beta``.
    As ``rho -> inf`` this tends to the degree-``beta`` polynomial bound (2.150502 for the
    standard BPR function), which is therefore approached only at unbounded congestion.

    Parameters
    ----------
    rho
        Largest volume/capacity ratio on any link (``inf`` for no bound).
    alpha, beta
        BPR coefficients (0.15 and 4 by default, Bureau of Public Roads 1964).

    References
    ----------
    Roughgarden, JCSS 67(2) 2003, the Pigou bound of a class, applied to the
    class ``{t0 (1 + alpha (x/cap)^beta)}`` with ``x <= rho cap``.
    """
    rh = as_real(rho, "rho", finite=False)
    a = as_real(alpha, "alpha")
    b = as_degree(beta, "beta")
    ad = _alpha_d(b)
    rhos = sp.oo if math.isinf(rh) else sp.nsimplify(rh)
    ads = _alpha_d_expr(sp.nsimplify(b)) if b > 0 else sp.Integer(1)
    if math.isinf(rh) and a > 0:
        value, expr = ad, ads
    else:
        s = a * rh**b
        value = (1.0 + s) / (1.0 + s / ad)
        ss = sp.nsimplify(a) * rhos ** sp.nsimplify(b)
        expr = (1 + ss) / (1 + ss / ads)
    x_star = rh * (b + 1.0) ** (-1.0 / b) if b > 0 and math.isfinite(rh) else math.nan
    return closed_form(
        expr,
        value=float(value),
        quantity="PoA",
        setting=(
            f"nonatomic routing, BPR costs t0 (1 + {a:g} (x/cap)^{b:g}), volume/capacity <= {rh:g}"
        ),
        tight=True,
        tight_instance=(
            "approached as volume/capacity grows (Pigou network with a BPR link)"
            if math.isinf(rh)
            else f"two links: BPR(t0=1, cap=1) and the constant {1 + a * rh**b:g}, demand {rh:g}"
        ),
        source=_ROUGHGARDEN,
        theorem="Pigou bound of a + b x^d with bounded s = b r^d / a",
        certificate={"s": a * rh**b, "x": x_star, "r": rh, "alpha_d": ad},
    )


# --- numerical Pigou bound ----------------------------------------------------------------


@dataclass(frozen=True)
class _Curve:
    """One cost function ready for vectorised evaluation on ``(0, r_hi]``."""

    f: Callable[[FloatArray], FloatArray]
    label: str
    r_hi: float
    checked_monotone: bool
    cost: CostFunction | None = None


def _wrap(index: int, cost: object, r_max: float | None) -> _Curve:
    if isinstance(cost, CostFunction):
        if cost.shape:
            raise GameError(f"costs[{index}] is a stack of shape {cost.shape}; give scalar costs")
        if not cost.nondecreasing:
            raise GameError(
                f"costs[{index}] = {cost!r} is not nondecreasing: the Pigou bound needs "
                "nondecreasing costs"
            )
        hi = _default_r_hi(index, cost, r_max)

        def f(x: FloatArray, c: CostFunction = cost) -> FloatArray:
            return np.asarray(c(x), dtype=np.float64)

        return _Curve(f, repr(cost), hi, True, cost)
    if callable(cost):
        fn: Callable[[FloatArray], Any] = cost

        def g(x: FloatArray) -> FloatArray:
            try:
                out = np.asarray(fn(x), dtype=np.float64)
                vectorised = out.shape == x.shape
            except (TypeError, ValueError):
                vectorised = False
            if not vectorised:
                try:
                    out = np.vectorize(lambda v: float(fn(v)), otypes=[np.float64])(x)
                except (TypeError, ValueError, ArithmeticError) as exc:
                    raise GameError(f"costs[{index}] failed to evaluate: {exc}") from exc
            return np.asarray(out, dtype=np.float64)

        label = getattr(cost, "__name__", repr(cost))
        return _Curve(g, label, r_max if r_max is not None else _DEFAULT_R_MAX, False)
    raise GameError(f"costs[{index}] must be a CostFunction or a callable, got {cost!r}")


def _default_r_hi(index: int, cost: CostFunction, r_max: float | None) -> float:
    cap = _mm1_capacity(cost)
    if r_max is not None:
        if cap is not None and r_max >= cap:
            raise GameError(
                f"r_max={r_max:g} reaches the capacity {cap:g} of costs[{index}]: the M/M/1 "
                "delay is infinite there; use r_max below the capacity"
            )
        return r_max
    if cap is not None:
        raise GameError(
            f"costs[{index}] is an M/M/1 delay: give r_max (< capacity {cap:g}), the largest "
            "traffic; the bound grows without limit as traffic approaches capacity"
        )
    if isinstance(cost, Tabulated):
        return float(cost.xs[-1])
    return _DEFAULT_R_MAX


def _mm1_capacity(cost: CostFunction) -> float | None:
    if isinstance(cost, MM1):
        return float(cost.capacity)
    parts = getattr(cost, "parts", None)
    if parts:
        caps = [c for c in (_mm1_capacity(p) for p in parts) if c is not None]
        return min(caps) if caps else None
    return None


def _ratio(c_x: FloatArray, c_r: FloatArray, x: FloatArray, r: FloatArray) -> FloatArray:
    """Pigou ratio ``r c(r) / (x c(x) + (r - x) c(r))`` (1 where both vanish)."""
    num = r * c_r
    den = x * c_x + (r - x) * c_r
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.where(num > 0, np.inf, 1.0))
    return np.asarray(out, dtype=np.float64)


def _check_values(curve: _Curve, index: int, xs: FloatArray, vals: FloatArray) -> None:
    if np.any(np.isnan(vals)):
        raise GameError(f"costs[{index}] ({curve.label}) returned NaN on (0, {curve.r_hi:g}]")
    if np.any(vals < 0):
        raise GameError(f"costs[{index}] ({curve.label}) is negative somewhere on [0, r_max]")
    if not curve.checked_monotone:
        order = np.argsort(xs, axis=None)
        flat_x, flat_v = xs.ravel()[order], vals.ravel()[order]
        drop = np.nonzero(np.diff(flat_v) < -1e-12 * np.maximum(1.0, np.abs(flat_v[:-1])))[0]
        if drop.size:
            k = int(drop[0])
            raise GameError(
                f"costs[{index}] ({curve.label}) is not nondecreasing: c({flat_x[k]:.6g}) = "
                f"{flat_v[k]:.6g} > c({flat_x[k + 1]:.6g}) = {flat_v[k + 1]:.6g}; the Pigou "
                "bound needs nondecreasing costs"
            )


@dataclass(frozen=True)
class _Sup:
    ratio: float
    x: float
    r: float
    evaluations: int


def _curve_sup(curve: _Curve, index: int, r_lo: float, n_r: int, n_t: int) -> _Sup:
    """Supremum of the Pigou ratio of one curve: a grid, then a bounded refinement."""
    rs = np.geomspace(r_lo, curve.r_hi, n_r)
    ts = np.linspace(0.0, 1.0, n_t)
    xs = rs[:, None] * ts[None, :]
    cx = curve.f(xs)
    cr = cx[:, -1]
    _check_values(curve, index, xs, cx)
    ratio = _ratio(cx, cr[:, None], xs, rs[:, None])
    i, j = (int(v) for v in np.unravel_index(int(np.argmax(ratio)), ratio.shape))
    best = _Sup(float(ratio[i, j]), float(xs[i, j]), float(rs[i]), xs.size)
    if not math.isfinite(best.ratio):
        return best
    dt = 1.0 / (n_t - 1)

    def at(r: float, t: float) -> float:
        pts = np.array([t * r, r])
        v = curve.f(pts)
        return float(_ratio(v[:1], v[1:], pts[:1], pts[1:])[0])

    def inner(r: float) -> tuple[float, float]:
        lo, hi = max(0.0, ts[j] - 2 * dt), min(1.0, ts[j] + 2 * dt)
        res = minimize_scalar(lambda t: -at(r, t), bounds=(lo, hi), method="bounded")
        t_best = float(res.x)
        return at(r, t_best), t_best

    r_a, r_b = rs[max(i - 1, 0)], rs[min(i + 1, n_r - 1)]
    outer = minimize_scalar(
        lambda lr: -inner(math.exp(lr))[0],
        bounds=(math.log(r_a), math.log(r_b)),
        method="bounded",
        options={"xatol": 1e-10},
    )
    r_ref = math.exp(float(outer.x))
    v_ref, t_ref = inner(r_ref)
    evals = best.evaluations + int(outer.nfev)
    if v_ref > best.ratio:
        return _Sup(v_ref, t_ref * r_ref, r_ref, evals)
    return _Sup(best.ratio, best.x, best.r, evals)


def _as_curves(costs: CostLike | Sequence[CostLike], r_max: float | None) -> list[_Curve]:
    items: Sequence[object]
    if isinstance(costs, CostFunction) or callable(costs):
        items = [costs]
    elif isinstance(costs, (list, tuple)):
        items = costs
    else:
        raise GameError(
            f"costs must be a cost function, a callable or a list of them, got {costs!r}"
        )
    if not items:
        raise GameError("costs is empty: give at least one cost function")
    return [_wrap(k, c, r_max) for k, c in enumerate(items)]


def _numeric_sup(
    costs: CostLike | Sequence[CostLike],
    r_max: float | None,
    r_min: float | None,
    grid: int,
) -> tuple[list[_Curve], int, _Sup, int]:
    rmax = None if r_max is None else as_real(r_max, "r_max", positive=True)
    n = as_count(grid, "grid", minimum=16)
    curves = _as_curves(costs, rmax)
    sups = []
    for k, cv in enumerate(curves):
        lo = as_real(r_min, "r_min", positive=True) if r_min is not None else cv.r_hi * 1e-6
        if lo >= cv.r_hi:
            raise GameError(f"r_min={lo:g} must be below r_max={cv.r_hi:g} (costs[{k}])")
        sups.append(_curve_sup(cv, k, lo, n, 2 * n))
    k_best = max(range(len(sups)), key=lambda k: sups[k].ratio)
    return curves, k_best, sups[k_best], sum(s.evaluations for s in sups)


def pigou_bound(
    costs: CostLike | Sequence[CostLike] | str,
    *,
    degree: float | None = None,
    r_max: float | None = None,
    r_min: float | None = None,
    grid: int = 256,
) -> BoundResult:
    """The Pigou bound ``alpha(C)`` of a class of cost functions, with its certificate.

    Parameters
    ----------
    costs
        The class ``C``: one cost function or a list (library cost functions, Tabulated
        curves, or Python callables ``c(x)`` vectorised or not), or the name of a class with
        a closed form: ``"affine"``, or ``"polynomial"`` with ``degree``. Scaling a cost does
        not change its ratio, so each function stands for its positive multiples.
    degree
        Degree for ``costs="polynomial"``.
    r_max
        Largest link flow ``r`` considered (the supremum is over ``0 < r <= r_max``).
        Defaults: the last point of a Tabulated curve, 1e3 otherwise; required for M/M/1
        delays (below their capacity).
    r_min
        Smallest flow of the geometric grid of ``r`` (default ``r_max * 1e-6``).
    grid
        Grid points for ``r`` (twice as many for ``x/r``) before the local refinement.

    Returns
    -------
    BoundResult
        ``value`` = the largest ratio found; ``certificate`` = the maximising cost (its
        label, index and, for a library cost, the object), ``x`` and ``r`` (so ``value``
        is attained: it is a certified lower estimate of the supremum, exact up to the grid
        and refinement accuracy) and ``beta = 1 - 1/value``. Tight on two links (``c``
        and the constant ``c(r)``, demand ``r``):
        ``gametheory.games.library.pigou_two_link(cost_function, r)`` builds that game.

    Raises
    ------
    GameError
        On an empty class, a cost that is negative, NaN or not nondecreasing on the range,
        or an M/M/1 delay without a valid ``r_max``.

    References
    ----------
    Roughgarden, JCSS 67(2) 2003, Section 3 (the Pigou bound: upper bound for every
    network, tight on two links); Roughgarden and Tardos, JACM 49(2) 2002.
    """
    if isinstance(costs, str):
        name = costs.strip().lower()
        if name in {"affine", "linear"}:
            return polynomial_bound(1)
        if name == "polynomial":
            if degree is None:
                raise GameError("costs='polynomial' needs degree=")
            return polynomial_bound(degree)
        raise GameError(
            f"unknown cost class {costs!r}: use 'affine', 'polynomial' (with degree), "
            "mm1_bound, bpr_bound, or pass cost functions"
        )
    curves, k, sup, evals = _numeric_sup(costs, r_max, r_min, grid)
    beta = 1.0 - 1.0 / sup.ratio if math.isfinite(sup.ratio) else 1.0
    cv = curves[k]
    c_r = float(cv.f(np.array([sup.r]))[0])
    labels = ", ".join(c.label for c in curves)
    return BoundResult(
        value=sup.ratio,
        quantity="PoA",
        setting=f"nonatomic routing, costs in {{{labels}}} (and multiples), flows <= {cv.r_hi:g}",
        tight=True,
        tight_instance=(
            f"two links: {cv.label} and the constant {c_r:.6g}, demand {sup.r:.6g} "
            "(requires the class to contain the constants)"
        ),
        source=_ROUGHGARDEN,
        theorem="Pigou bound: PoA <= alpha(C) for every network, tight on two links",
        certificate={
            "cost_index": k,
            "cost": cv.label,
            "cost_function": cv.cost,
            "x": sup.x,
            "r": sup.r,
            "ratio": sup.ratio,
            "beta": beta,
        },
        method="numerical supremum (grid + bounded refinement)",
        iterations=evals,
    )


def beta_bound(
    costs: CostLike | Sequence[CostLike],
    *,
    r_max: float | None = None,
    r_min: float | None = None,
    grid: int = 256,
) -> BoundResult:
    """The Correa-Schulz-Stier-Moses form ``1 / (1 - beta(C))`` of the Pigou bound.

    ``beta(C) = sup_{c in C} sup_{0 <= y <= x} y (c(x) - c(y)) / (x c(x))``. It equals
    :func:`pigou_bound` (``x`` here is ``r`` there and ``y`` is ``x``); the certificate
    holds ``beta`` and its maximiser ``(y, x)``.

    Parameters
    ----------
    costs, r_max, r_min, grid
        As in :func:`pigou_bound` (no named classes).

    References
    ----------
    Correa, Schulz and Stier-Moses, Math. OR 29(4) 2004 (the beta(C) form).
    """
    curves, k, sup, evals = _numeric_sup(costs, r_max, r_min, grid)
    cv = curves[k]
    v = cv.f(np.array([sup.x, sup.r]))
    beta = float(sup.x * (v[1] - v[0]) / (sup.r * v[1])) if v[1] > 0 else 0.0
    return BoundResult(
        value=1.0 / (1.0 - beta) if beta < 1 else math.inf,
        quantity="PoA",
        setting=f"nonatomic routing, costs in {{{', '.join(c.label for c in curves)}}}",
        tight=True,
        tight_instance=f"two links: {cv.label} and a constant, demand {sup.r:.6g}",
        source=_CSS,
        theorem="PoA <= 1/(1 - beta(C))",
        certificate={"cost_index": k, "cost": cv.label, "beta": beta, "y": sup.x, "x": sup.r},
        method="numerical supremum (grid + bounded refinement)",
        iterations=evals,
    )
