"""Nonatomic Pigou bounds: THEORY.md section 1 values, numerical sup, certificates, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gametheory.bounds import beta_bound, bpr_bound, mm1_bound, pigou_bound, polynomial_bound
from gametheory.bounds.results import BoundResult
from gametheory.costs import BPR, MM1, Affine, Polynomial, Tabulated
from gametheory.errors import GameError

ALPHA = {1: 1.333333, 2: 1.625752, 3: 1.895628, 4: 2.150502, 5: 2.394383, 6: 2.629721}


@pytest.mark.parametrize(("d", "value"), ALPHA.items())
def test_polynomial_closed_form_matches_theory(d: int, value: float) -> None:
    res = polynomial_bound(d)
    assert res.value == pytest.approx(value, abs=1e-6)
    assert float(res.expr.evalf()) == pytest.approx(res.value, rel=1e-12)
    assert res.tight and "Pigou" in res.tight_instance
    x = res.certificate["x"]
    # the certificate attains the bound on Pigou's network: links 1 and x^d, demand 1
    assert 1.0 / (x ** (d + 1) + (1 - x)) == pytest.approx(res.value, rel=1e-12)


def test_affine_is_four_thirds_exactly() -> None:
    res = pigou_bound("affine")
    assert res.latex == r"\frac{4}{3}"
    assert pigou_bound("polynomial", degree=3).value == pytest.approx(ALPHA[3], abs=1e-6)


@pytest.mark.parametrize(
    ("u", "r", "value"), [(1.0, 0.5, 1.207107), (1.0, 0.9, 2.081139), (1.0, 0.99, 5.5)]
)
def test_mm1_closed_form_and_numeric(u: float, r: float, value: float) -> None:
    closed = mm1_bound(u, r)
    assert closed.value == pytest.approx(value, abs=1e-6)
    numeric = pigou_bound(MM1(u), r_max=r)
    assert numeric.value == pytest.approx(value, abs=1e-6)
    assert numeric.certificate["x"] == pytest.approx(closed.certificate["x"], abs=1e-4)


def test_bpr_with_volume_capacity_bound() -> None:
    a4 = ALPHA[4]
    assert bpr_bound().value == pytest.approx(a4, abs=1e-6)
    for rho in (0.5, 1.0, 2.0, 5.0):
        s = 0.15 * rho**4
        expected = (1 + s) / (1 + s / polynomial_bound(4).value)
        assert bpr_bound(rho).value == pytest.approx(expected, rel=1e-12)
        numeric = pigou_bound(BPR(3.0, 7.0), r_max=rho * 7.0)
        assert numeric.value == pytest.approx(expected, abs=1e-6)
    assert bpr_bound(1.0).value < bpr_bound(2.0).value < bpr_bound(10.0).value < a4


@pytest.mark.parametrize("d", [1, 2, 3, 4, 5, 6])
def test_numeric_pigou_of_monomials(d: int) -> None:
    res = pigou_bound(Polynomial([0.0] * d + [1.0]))
    assert res.value == pytest.approx(ALPHA[d], abs=1e-6)
    assert res.certificate["x"] / res.certificate["r"] == pytest.approx(
        (d + 1) ** (-1 / d), abs=1e-4
    )


def test_beta_form_agrees() -> None:
    for cost in (Polynomial([0, 0, 1]), MM1(2.0)):
        kw = {"r_max": 1.8} if isinstance(cost, MM1) else {}
        a = pigou_bound(cost, **kw)
        b = beta_bound(cost, **kw)
        assert b.value == pytest.approx(a.value, rel=1e-9)
        assert b.certificate["beta"] == pytest.approx(1 - 1 / a.value, rel=1e-9)


def test_family_takes_the_worst_member_and_user_callables() -> None:
    res = pigou_bound([Affine(1, 1), Polynomial([1, 0, 2])])
    assert res.certificate["cost_index"] == 1
    assert res.value == pytest.approx(ALPHA[2], abs=1e-5)
    user = pigou_bound(lambda x: 2.0 + x**3)
    assert user.value == pytest.approx(ALPHA[3], abs=1e-5)
    scalar_only = pigou_bound(lambda x: math.exp(min(float(x), 50.0)), r_max=5.0)
    assert 1.0 < scalar_only.value < 10.0


def test_tabulated_curve_and_its_certificate() -> None:
    tab = Tabulated([0, 1, 2, 3], [1.0, 1.2, 2.0, 5.0])
    res = pigou_bound(tab)
    x, r = res.certificate["x"], res.certificate["r"]
    ratio = r * tab(r) / (x * tab(x) + (r - x) * tab(r))
    assert ratio == pytest.approx(res.value, rel=1e-12)
    assert r <= 3.0 + 1e-9
    assert isinstance(res, BoundResult) and "\\le" in res._repr_latex_()


@settings(max_examples=25, deadline=None)
@given(
    coeffs=st.lists(st.floats(0.0, 10.0), min_size=2, max_size=5).filter(lambda cs: max(cs) > 0),
    x=st.floats(0.0, 1.0),
    r=st.floats(0.01, 50.0),
)
def test_no_pigou_ratio_exceeds_the_degree_bound(coeffs: list[float], x: float, r: float) -> None:
    # The Pigou ratio is invariant to scaling c, so normalise: subnormal coefficients
    # (e.g. 5e-324) would otherwise underflow the denominator to zero.
    top = max(coeffs)
    c = Polynomial([a / top for a in coeffs])
    cr = c(r)
    ratio = r * cr / (x * r * c(x * r) + (r - x * r) * cr)
    assert ratio <= polynomial_bound(len(coeffs) - 1).value + 1e-9


def test_bad_input() -> None:
    with pytest.raises(GameError, match="degree"):
        polynomial_bound(-1)
    with pytest.raises(GameError, match="r_max"):
        mm1_bound(1.0, 1.0)
    with pytest.raises(GameError, match="r_max"):
        mm1_bound(1.0, 1.5)
    with pytest.raises(GameError, match="r_max"):
        pigou_bound(MM1(1.0))
    with pytest.raises(GameError, match="empty"):
        pigou_bound([])
    with pytest.raises(GameError, match="nondecreasing"):
        pigou_bound(lambda x: np.exp(-x))
    with pytest.raises(GameError, match="nondecreasing"):
        pigou_bound(Tabulated([0, 1, 2], [3.0, 1.0, 2.0]))
    with pytest.raises(GameError, match="negative"):
        pigou_bound(lambda x: x - 1.0, r_max=2.0)
    with pytest.raises(GameError, match="unknown"):
        pigou_bound("cubic-ish")
    with pytest.raises(GameError, match="degree"):
        pigou_bound("polynomial")
