"""Symbolic derivation of the Pigou bound with sympy.

For a cost ``c(x)`` given as a sympy expression, possibly with symbolic parameters (all
taken positive), the derivation follows Roughgarden (JCSS 67(2) 2003, Section 3):

1. for a flow ``r`` on the link, the optimum's flow ``x*`` on it solves
   ``c(r) = c(x) + x c'(x)`` (the marginal cost equals the constant link's cost ``c(r)``);
2. the ratio ``R(r) = r c(r) / (x* c(x*) + (r - x*) c(r))``;
3. the bound is ``sup_r R(r)``: ``R`` itself when it does not depend on ``r``
   (monomials: scale invariance), its limit as ``r -> inf`` (or its value at ``r_max``) when
   sympy proves it nondecreasing, its limit at 0 when nonincreasing.

For polynomials with nonnegative coefficients of degree ``D`` the supremum is the
monomial value ``alpha_D`` (Roughgarden 2003, polynomial class), used when sympy cannot
solve step 1 in closed form (three or more terms). Each step is returned as LaTeX.
"""

from __future__ import annotations

import math
from typing import Any

import sympy as sp

from gametheory.bounds._common import latex_of
from gametheory.bounds.results import BoundResult
from gametheory.costs import CostFunction
from gametheory.costs.expressions import parse_expression
from gametheory.errors import GameError

__all__ = ["symbolic_pigou_bound"]

_R = sp.Symbol("r", positive=True)
_SOURCE = (
    "Roughgarden, The price of anarchy is independent of the network topology, JCSS 67(2) 2003"
)


def _positive(expr: sp.Expr, x_name: str) -> tuple[sp.Expr, sp.Symbol]:
    """Rebuild ``expr`` with every free symbol positive; return it and the load symbol."""
    subs = {s: sp.Symbol(s.name, positive=True) for s in expr.free_symbols}
    out = expr.xreplace(subs)
    x = next((s for s in out.free_symbols if s.name == x_name), sp.Symbol(x_name, positive=True))
    return out, x


def _as_expr(cost: sp.Expr | str | CostFunction) -> sp.Expr:
    if isinstance(cost, CostFunction):
        return cost.expr()
    if isinstance(cost, str):
        return parse_expression(cost)
    if isinstance(cost, sp.Basic):
        return cost
    raise GameError(f"cost must be a sympy expression, a string or a CostFunction, got {cost!r}")


def _as_bound(r_max: sp.Expr | float | str) -> sp.Expr:
    if isinstance(r_max, str):
        return parse_expression(r_max)
    if isinstance(r_max, sp.Basic):
        return r_max
    if isinstance(r_max, bool) or not isinstance(r_max, (int, float)):
        raise GameError(f"r_max must be a number, a string or a sympy expression, got {r_max!r}")
    if not math.isfinite(r_max) or r_max <= 0:
        raise GameError(f"r_max must be a finite number > 0, got {r_max!r}")
    return sp.sympify(r_max)  # a number: nothing to evaluate


def _stationary_points(c: sp.Expr, x: sp.Symbol) -> list[sp.Expr]:
    """Solutions ``x`` of ``c(r) = c(x) + x c'(x)`` that are not provably outside ``(0, r)``."""
    eq = c.subs(x, _R) - c - x * sp.diff(c, x)
    try:
        sols = sp.solve(eq, x)
    except (NotImplementedError, TypeError) as exc:
        # sympy's failures on an equation it cannot solve (or whose case split it cannot
        # decide, e.g. the sign of a symbolic exponent).
        raise GameError(
            f"sympy cannot solve c(r) = c(x) + x c'(x) for c = {c}; use the numerical pigou_bound"
        ) from exc
    keep = []
    for s in sols:
        if s.is_real is False or s.is_nonpositive or (s - _R).is_nonnegative:
            continue
        keep.append(s)
    return keep


def _monotone(ratio: sp.Expr) -> int:
    """+1 if ``ratio`` is provably nondecreasing in r, -1 if nonincreasing, 0 if unknown."""
    d = sp.factor(sp.together(sp.diff(ratio, _R)))
    if d.is_zero:
        return 1
    num, den = sp.fraction(d)
    if den.is_nonnegative or den.is_positive:
        if num.is_nonnegative:
            return 1
        if num.is_nonpositive:
            return -1
    return 0


def _poly_top(c: sp.Expr, x: sp.Symbol) -> tuple[int, int] | None:
    """(degree, number of terms) when ``c`` is a polynomial in x with nonnegative coefficients."""
    try:
        poly = sp.Poly(c, x)
    except sp.PolynomialError:
        return None
    coeffs = poly.coeffs()
    if not all(sp.sympify(k).is_nonnegative for k in coeffs):
        return None
    return int(poly.degree()), len(coeffs)


def _alpha(d: int) -> sp.Expr:
    return sp.Integer(1) if d == 0 else 1 / (1 - d * sp.Integer(d + 1) ** sp.Rational(-(d + 1), d))


def symbolic_pigou_bound(
    cost: sp.Expr | str | CostFunction,
    *,
    x: str = "x",
    r_max: sp.Expr | float | str | None = None,
) -> BoundResult:
    """Derive the Pigou bound of a cost family symbolically, with the steps in LaTeX.

    Parameters
    ----------
    cost
        The cost ``c(x)``: a sympy expression or string (``"a + b*x**d"``, read by
        :func:`~gametheory.costs.expressions.parse_expression`, never evaluated) whose
        other symbols are parameters (assumed positive), or a library cost function.
    x
        Name of the load variable.
    r_max
        Largest flow on the link (a number or a symbol); None for no bound.

    Returns
    -------
    BoundResult
        ``expr`` and ``latex`` hold the bound; ``value`` is its float when it has no free
        parameters (``nan`` otherwise: evaluate with :meth:`BoundResult.at`); the
        certificate holds the steps as LaTeX: ``x_star``, ``ratio``, ``supremum``.

    Raises
    ------
    GameError
        If the expression is invalid, a polynomial has a negative coefficient, or sympy
        cannot carry out a step (then use the numerical :func:`pigou_bound`).

    References
    ----------
    Roughgarden, JCSS 67(2) 2003, Section 3 (the Pigou bound) and the polynomial class.
    """
    raw = _as_expr(cost)
    c, xs = _positive(raw, x)
    rmax = None if r_max is None else _positive(_as_bound(r_max), x)[0]
    steps: dict[str, str] = {"cost": latex_of(c)}
    if xs not in c.free_symbols:
        return _result(sp.Integer(1), c, steps, "constant cost: every flow is optimal")
    poly = _poly_top(c, xs)
    if poly is None and _has_negative_poly_coeff(c, xs):
        raise GameError(
            f"cost {raw} has a negative coefficient: the bound needs c >= 0, nondecreasing"
        )
    if poly is not None and poly[1] >= 3:
        d = poly[0]
        steps["x_star"] = latex_of(_R * sp.Integer(d + 1) ** sp.Rational(-1, d))
        steps["supremum"] = r"\lim_{r \to \infty} R(r) = \alpha_{" + str(d) + "}"
        return _result(_alpha(d), c, steps, f"polynomial of degree {d}: sup is alpha_{d}")
    points = _stationary_points(c, xs)
    if len(points) != 1:
        raise GameError(
            f"sympy could not isolate the optimal split for c = {raw} ({len(points)} candidate "
            "roots of c(r) = c(x) + x c'(x)); use the numerical pigou_bound"
        )
    x_star = sp.simplify(points[0])
    steps["x_star"] = latex_of(x_star)
    c_r = c.subs(xs, _R)
    ratio = sp.simplify(_R * c_r / (x_star * c.subs(xs, x_star) + (_R - x_star) * c_r))
    steps["ratio"] = latex_of(ratio)
    if _R not in ratio.free_symbols:
        steps["supremum"] = "R(r) does not depend on r"
        return _result(ratio, c, steps, "scale invariant ratio")
    direction = _monotone(ratio)
    if direction == 0 and poly is not None:
        direction = 1  # polynomials with nonnegative coefficients: R increases to alpha_D
    if direction > 0:
        if rmax is not None:
            sup = sp.simplify(ratio.subs(_R, rmax))
            steps["supremum"] = "R(r) is nondecreasing: sup = R(r_max)"
        else:
            sup = sp.simplify(sp.limit(ratio, _R, sp.oo))
            steps["supremum"] = r"R(r) is nondecreasing: \sup = \lim_{r \to \infty} R(r)"
    elif direction < 0:
        sup = sp.simplify(sp.limit(ratio, _R, 0, "+"))
        steps["supremum"] = r"R(r) is nonincreasing: \sup = \lim_{r \to 0^+} R(r)"
    else:
        raise GameError(
            f"sympy cannot decide whether the Pigou ratio of c = {raw} is monotone in the flow; "
            "use the numerical pigou_bound"
        )
    return _result(sup, c, steps, "supremum over the flow")


def _has_negative_poly_coeff(c: sp.Expr, x: sp.Symbol) -> bool:
    try:
        coeffs = sp.Poly(c, x).coeffs()
    except sp.PolynomialError:
        return False
    return any(sp.sympify(k).is_negative for k in coeffs)


def _result(expr: sp.Expr, cost: sp.Expr, steps: dict[str, str], how: str) -> BoundResult:
    expr = sp.simplify(sp.cancel(expr))
    value: float
    try:
        value = float(expr) if not expr.free_symbols else math.nan
    except TypeError:
        value = math.nan
    cert: dict[str, Any] = dict(steps)
    cert["how"] = how
    return BoundResult(
        value=value,
        quantity="PoA",
        setting=f"nonatomic routing, costs c(x) = {cost} (parameters positive)",
        tight=True,
        tight_instance="two links: c and the constant c(r), in the limit of the supremum",
        source=_SOURCE,
        theorem="Pigou bound (Section 3): PoA <= sup_r R(r), tight on two links",
        certificate=cert,
        expr=expr,
        latex=latex_of(expr),
        method="symbolic (sympy)",
    )
