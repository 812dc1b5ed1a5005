"""Cost functions: values, derivatives, integrals, marginals, potentials, validation."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import quad

import gametheory as gt
from gametheory.costs.base import X


def test_polynomial_known_values() -> None:
    c = gt.Polynomial([1.0, 0.0, 3.0])  # 1 + 3 x^2
    assert c(2.0) == 13.0
    assert c.derivative(2.0) == 12.0
    assert c.integral(2.0) == pytest.approx(2.0 + 8.0)
    assert c.marginal(2.0) == pytest.approx(13.0 + 2.0 * 12.0)
    assert c.degree == 2
    assert c.rosenthal(3) == pytest.approx(4 + 13 + 28)
    assert sp.simplify(c.expr() - (1 + 3 * X**2)) == 0


def test_affine_constant_and_stacks() -> None:
    assert gt.Affine(1, 2)(3.0) == 7.0
    assert gt.Constant(4)(np.array([0.0, 9.0])).tolist() == [4.0, 4.0]
    stack = gt.Affine([1.0, 2.0], [3.0, 4.0])
    assert stack(np.array([1.0, 2.0])).tolist() == [4.0, 10.0]
    assert stack.rosenthal(np.array([2, 1])).tolist() == [4.0 + 7.0, 6.0]


def test_bpr_matches_formula() -> None:
    c = gt.BPR(t0=2.0, capacity=10.0)
    x = 15.0
    assert c(x) == pytest.approx(2.0 * (1 + 0.15 * 1.5**4))
    assert c.derivative(x) == pytest.approx(2.0 * 0.15 * 4 * 1.5**3 / 10.0)
    assert c.integral(x) == pytest.approx(quad(lambda t: float(c(t)), 0, x)[0])
    assert c.family == "bpr" and c.degree == 4


def test_mm1_is_infinite_past_capacity_never_negative() -> None:
    c = gt.MM1(4.0)
    assert c(3.0) == 1.0
    assert c.integral(3.0) == pytest.approx(math.log(4.0))
    assert c.marginal(3.0) == pytest.approx(4.0)
    values = c(np.array([3.9, 4.0, 5.0, 100.0]))
    assert values[0] > 0 and np.all(np.isinf(values[1:])) and np.all(values > 0)


def test_shared_cost_sharing() -> None:
    c = gt.Shared(6.0)
    assert c(np.array([1.0, 2.0, 3.0])).tolist() == [6.0, 3.0, 2.0]
    assert c.rosenthal(3) == pytest.approx(6.0 * (1 + 1 / 2 + 1 / 3))
    assert not c.nondecreasing
    with pytest.raises(gt.GameError, match="no integral"):
        c.integral(1.0)


def test_tabulated_interpolates_monotonically_and_extends_linearly() -> None:
    c = gt.Tabulated([0.0, 1.0, 2.0], [1.0, 2.0, 4.0])
    xs = np.linspace(0, 2, 201)
    assert np.all(np.diff(c(xs)) >= 0)
    assert c(1.0) == 2.0 and c(2.0) == 4.0
    slope = c.derivative(2.0)
    assert c(3.0) == pytest.approx(4.0 + slope)
    assert c.integral(3.0) == pytest.approx(quad(lambda t: float(c(t)), 0, 3, points=[2.0])[0])


def test_sum_cost() -> None:
    s = gt.Affine(1, 2) + gt.MM1(3)
    assert s(1.0) == pytest.approx(3.0 + 0.5)
    assert s.integral(1.0) == pytest.approx(1 + 1 + math.log(1.5))
    assert s.family == "general"


def test_cost_vector_groups_and_matches_elementwise() -> None:
    tab = gt.Tabulated([0, 1], [0, 1])
    costs = [gt.BPR(1, 2), gt.Affine(1, 2), gt.MM1(3), gt.BPR(2, 3), 5, tab]
    cv = gt.CostVector(costs)
    x = np.array([1.0, 2.0, 1.5, 0.5, 7.0, 0.25])
    for name in ("value", "derivative", "integral", "marginal"):
        got = getattr(cv, name)(x)
        attr = "__call__" if name == "value" else name
        want = [getattr(gt.costs.as_cost(c), attr)(xi) for c, xi in zip(costs, x)]
        np.testing.assert_allclose(got, want)
    with pytest.raises(gt.GameError, match="shape"):
        cv.value(np.ones(3))


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (lambda: gt.Polynomial([1.0, -1.0]), "coefficients"),
        (lambda: gt.Affine(-1, 1), "'a'"),
        (lambda: gt.BPR(1.0, 0.0), "capacity"),
        (lambda: gt.MM1(-2.0), "capacity"),
        (lambda: gt.Tabulated([0, 0], [1, 2]), "increasing"),
        (lambda: gt.Polynomial([]), "coefficient"),
        (lambda: gt.Constant(float("nan")), "finite"),
    ],
)
def test_bad_parameters_raise_game_error(build, match) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(gt.GameError, match=match):
        build()


def test_nan_load_rejected() -> None:
    with pytest.raises(gt.GameError, match="NaN"):
        gt.Affine(1, 1)(float("nan"))


@settings(max_examples=40, deadline=None)
@given(
    coeffs=st.lists(st.floats(0, 5), min_size=1, max_size=5),
    x=st.floats(0, 3),
)
def test_polynomial_calculus_is_consistent(coeffs: list[float], x: float) -> None:
    c = gt.Polynomial(coeffs)
    assert c.integral(x) == pytest.approx(quad(lambda t: float(c(t)), 0, x)[0], abs=1e-9)
    h = 1e-6
    assert c.derivative(x + h) == pytest.approx((c(x + 2 * h) - c(x)) / (2 * h), rel=1e-4, abs=1e-4)
    assert c.marginal(x) == pytest.approx(c(x) + x * c.derivative(x))
    sym = float(c.expr().subs(X, x))
    assert sym == pytest.approx(c(x), rel=1e-9, abs=1e-9)


def test_cost_vector_splits_sums_into_stacked_parts() -> None:
    costs = [gt.BPR(1, 2) + gt.Constant(3), gt.Affine(1, 2), gt.MM1(3) + gt.Affine(0, 1)]
    cv = gt.CostVector(costs)
    x = np.array([1.0, 2.0, 1.0])
    np.testing.assert_allclose(cv.value(x), [float(c(xi)) for c, xi in zip(costs, x)])
    np.testing.assert_allclose(cv.integral(x), [float(c.integral(xi)) for c, xi in zip(costs, x)])
