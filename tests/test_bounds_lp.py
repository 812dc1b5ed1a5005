"""The exact PoA LP (Paccagnan-Chandan-Marden) and the smoothness LP."""

from __future__ import annotations

import numpy as np
import pytest

from gametheory.bounds import aland_bound, exact_poa_lp, smoothness_bound
from gametheory.bounds.exact_lp import lp_constraints
from gametheory.costs import Polynomial, Shared
from gametheory.errors import GameError

LP_VALUES = [
    (1, 2, 2.0),
    (1, 3, 2.5),
    (1, 10, 2.5),
    (2, 2, 4.0),
    (2, 3, 9.0),
    (2, 4, 115 / 12),
    (2, 20, 115 / 12),
    (3, 4, 1163 / 28),
]


@pytest.mark.parametrize(("d", "n", "value"), LP_VALUES)
def test_lp_values_from_theory(d: int, n: int, value: float) -> None:
    assert exact_poa_lp(n, degree=d).value == pytest.approx(value, abs=1e-6)


@pytest.mark.parametrize("d", [1, 2, 3])
def test_lp_equals_aland_at_large_n(d: int) -> None:
    res = exact_poa_lp(60, degree=d)
    assert res.value == pytest.approx(aland_bound(d).value, rel=1e-9)
    assert res.certificate["max_violation"] <= 1e-6


def test_dual_certificate_is_a_worst_case_mixture() -> None:
    n = 5
    res = exact_poa_lp(n, degree=2)
    basis = [Polynomial([0.0] * j + [1.0]) for j in range(3)]
    ks = np.arange(n + 1, dtype=float)
    w = [ks * np.asarray(b(ks)) for b in basis]
    eq = sum(
        row["weight"] * w[row["basis"]][row["a"] + row["x"]]
        for row in res.certificate["dual_support"]
    )
    opt = sum(
        row["weight"] * w[row["basis"]][row["b"] + row["x"]]
        for row in res.certificate["dual_support"]
    )
    # equilibrium cost normalised to 1, optimum cost mu*: their ratio is the PoA
    assert eq == pytest.approx(1.0, rel=1e-7)
    assert eq / opt == pytest.approx(res.value, rel=1e-7)


def test_lp_accepts_a_user_basis_and_checks_it() -> None:
    affine = exact_poa_lp(3, [Polynomial([1.0]), Polynomial([0.0, 1.0])])
    assert affine.value == pytest.approx(2.5, abs=1e-9)
    with pytest.raises(GameError, match="empty"):
        exact_poa_lp(3, [])
    with pytest.raises(GameError, match="exactly one"):
        exact_poa_lp(3)
    with pytest.raises(GameError, match="nonnegative"):
        exact_poa_lp(3, [lambda k: 1.0 - k])
    with pytest.raises(GameError, match="degree"):
        exact_poa_lp(3, degree=-1)


def test_constraint_rows_cover_every_triple() -> None:
    rows = lp_constraints(4, np.ones((1, 5)))
    tot = rows["a"] + rows["x"] + rows["b"]
    assert tot.min() == 1 and tot.max() == 4
    assert rows["ub"].size == 34  # C(4 + 3, 3) - 1


@pytest.mark.parametrize(("d", "value"), [(1, 2.5), (2, 115 / 12), (3, 1163 / 28)])
def test_smoothness_lp_matches_aland(d: int, value: float) -> None:
    res = smoothness_bound(40, degree=d)
    assert res.value == pytest.approx(value, rel=1e-9)
    assert res.certificate["max_violation"] <= 1e-9
    if d == 1:
        assert res.certificate["lambda"] == pytest.approx(5 / 3)
        assert res.certificate["mu"] == pytest.approx(1 / 3)


def test_smoothness_needs_nondecreasing_costs() -> None:
    with pytest.raises(GameError, match="nondecreasing"):
        smoothness_bound(4, [Shared(1.0)])
    with pytest.raises(GameError, match="empty"):
        smoothness_bound(4, [])
