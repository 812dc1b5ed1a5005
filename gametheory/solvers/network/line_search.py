"""Exact line search on a convex potential along a feasible direction.

Frank-Wolfe steps ``x + lam (s - x)``, ``lam in [0, 1]``, minimise a convex potential
``phi(lam)`` (Beckmann's for equilibria, total latency for optima). Its derivative
``phi'(lam) = sum_e t_e(x_e + lam d_e) d_e`` is nondecreasing, so the minimiser is the
root of ``phi'`` in ``[0, 1]`` (or an end point). The root is bracketed and found by the
Illinois variant of regula falsi (Dowell and Jarratt, BIT 11(2) 1971), superlinear
without second derivatives, with bisection whenever ``phi'`` is infinite (beyond an
M/M/1 capacity) or the interpolant leaves the bracket.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["LineSearchResult", "exact_line_search"]


@dataclass(frozen=True)
class LineSearchResult:
    """The step found by :func:`exact_line_search`.

    Attributes
    ----------
    step
        The step length in ``[0, 1]``; ``phi'(step) <= 0`` unless it is 0.
    evaluations
        Number of derivative evaluations.
    slope
        ``phi'`` at ``step``.
    """

    step: float
    evaluations: int
    slope: float


def exact_line_search(
    derivative: Callable[[float], float],
    *,
    xtol: float = 1e-15,
    ftol: float = 1e-14,
    max_evals: int = 200,
) -> LineSearchResult:
    """Minimise a convex ``phi`` on ``[0, 1]`` from its nondecreasing derivative.

    Parameters
    ----------
    derivative
        ``lam -> phi'(lam)``; may return ``+inf`` or NaN where ``phi`` is infinite (both are
        taken as "beyond the minimiser").
    xtol
        Stop when the bracket is narrower than this.
    ftol
        Stop when ``|phi'(lam)| <= ftol * |phi'(0)|``.
    max_evals
        Cap on derivative evaluations.

    Returns
    -------
    LineSearchResult
        The left end of the final bracket (where ``phi' <= 0``), so the step never lands
        where the potential is infinite.
    """
    f0 = derivative(0.0)
    if not f0 < 0:
        return LineSearchResult(0.0, 1, f0 if math.isfinite(f0) else math.inf)
    f1 = derivative(1.0)
    if f1 <= 0:
        return LineSearchResult(1.0, 2, f1)
    a, fa, slope_a = 0.0, f0, f0
    b, fb = 1.0, f1 if math.isfinite(f1) else math.inf
    side = 0
    evals = 2
    while evals < max_evals and b - a > xtol:
        if math.isfinite(fb) and math.isfinite(fa):
            c = (a * fb - b * fa) / (fb - fa)
            if not a < c < b:
                c = 0.5 * (a + b)
        else:
            c = 0.5 * (a + b)
        fc = derivative(c)
        evals += 1
        if fc != fc or fc == math.inf:
            b, fb, side = c, math.inf, 1
            continue
        if abs(fc) <= ftol * abs(f0) or fc == 0:
            return LineSearchResult(c, evals, fc)
        if fc < 0:
            a, fa, slope_a = c, fc, fc
            if side == -1 and math.isfinite(fb):
                fb *= 0.5
            side = -1
        else:
            b, fb = c, fc
            if side == 1:
                fa *= 0.5
            side = 1
    return LineSearchResult(a, evals, slope_a)
