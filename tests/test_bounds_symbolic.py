"""Symbolic Pigou bounds with sympy."""

from __future__ import annotations

import pytest
import sympy as sp

from gametheory.bounds import polynomial_bound, symbolic_pigou_bound
from gametheory.costs import Affine
from gametheory.errors import GameError

X = sp.Symbol("x", positive=True)


@pytest.mark.parametrize("d", [1, 2, 3, 4])
def test_symbolic_monomial_family(d: int) -> None:
    general = symbolic_pigou_bound("a*x**d")
    assert general.at(d=d) == pytest.approx(polynomial_bound(d).value, abs=1e-9)
    assert general.at(d=d, a=7.0) == pytest.approx(polynomial_bound(d).value, abs=1e-9)
    assert symbolic_pigou_bound(f"a + b*x**{d}").value == pytest.approx(
        polynomial_bound(d).value, abs=1e-9
    )


def test_affine_family_is_exactly_four_thirds() -> None:
    res = symbolic_pigou_bound("a + b*x")
    assert res.expr == sp.Rational(4, 3)
    assert res.latex == r"\frac{4}{3}"
    assert "r" in res.certificate["ratio"]
    assert symbolic_pigou_bound(Affine(1, 2)).expr == sp.Rational(4, 3)


def test_polynomial_with_many_terms_uses_top_degree() -> None:
    res = symbolic_pigou_bound("c0 + c1*x + c2*x**2 + c3*x**3")
    assert res.value == pytest.approx(polynomial_bound(3).value, abs=1e-9)


def test_bounded_flow_gives_the_bpr_form() -> None:
    res = symbolic_pigou_bound("a + b*x**4", r_max="rho")
    s = 0.15 * 2.0**4
    expected = (1 + s) / (1 + s / polynomial_bound(4).value)
    assert res.at(a=1.0, b=0.15, rho=2.0) == pytest.approx(expected, rel=1e-9)


def test_what_sympy_cannot_do_raises() -> None:
    with pytest.raises(GameError, match="numerical"):
        symbolic_pigou_bound("1/(u - x)")
    with pytest.raises(GameError, match="negative"):
        symbolic_pigou_bound("a - x")
    with pytest.raises(GameError, match="valid"):
        symbolic_pigou_bound("a + * x")
    assert symbolic_pigou_bound("5").value == 1.0


@pytest.mark.parametrize(
    "cost",
    [
        X**2 + sp.exp(X) * sp.sin(X),
        X + X ** sp.Symbol("q") * sp.log(X),
    ],
)
def test_equations_sympy_cannot_solve_raise_game_error(cost: sp.Expr) -> None:
    with pytest.raises(GameError, match="numerical pigou_bound"):
        symbolic_pigou_bound(cost)
