"""Atomic bounds: THEORY.md section 2 values (Aland, 5/2, weighted, symmetric, PoS)."""

from __future__ import annotations

import math

import pytest
import sympy as sp

from gametheory.bounds import (
    affine_bound,
    affine_pos_bound,
    aland_bound,
    fair_sharing_poa_bound,
    fair_sharing_pos_bound,
    haviv_roughgarden_bound,
    phi_d,
    symmetric_affine_bound,
)
from gametheory.errors import GameError

UNWEIGHTED = {1: sp.Rational(5, 2), 2: sp.Rational(115, 12), 3: sp.Rational(1163, 28)}
UNWEIGHTED[4] = sp.Rational(110269, 412)
WEIGHTED = {1: 2.618034, 2: 9.909268, 3: 47.818634}


@pytest.mark.parametrize(("d", "value"), UNWEIGHTED.items())
def test_aland_unweighted_exact(d: int, value: sp.Rational) -> None:
    res = aland_bound(d)
    assert res.expr == value
    assert res.value == pytest.approx(float(value), abs=1e-9)


@pytest.mark.parametrize(("d", "value"), WEIGHTED.items())
def test_aland_weighted(d: int, value: float) -> None:
    res = aland_bound(d, weighted=True)
    assert res.value == pytest.approx(value, abs=1e-6)
    phi = res.certificate["phi_d"]
    assert (phi + 1) ** d == pytest.approx(phi ** (d + 1), rel=1e-12)
    assert res.value == pytest.approx(phi ** (d + 1), rel=1e-12)


def test_phi_1_is_the_golden_ratio() -> None:
    assert sp.simplify(phi_d(1) - (1 + sp.sqrt(5)) / 2) == 0


def test_affine_values() -> None:
    assert affine_bound().value == 2.5
    assert affine_bound(weighted=True).value == pytest.approx((3 + math.sqrt(5)) / 2, abs=1e-12)
    assert affine_bound(weighted=True).value == pytest.approx(aland_bound(1, weighted=True).value)


@pytest.mark.parametrize("n", [1, 2, 3, 5, 10, 1000])
def test_symmetric_affine(n: int) -> None:
    res = symmetric_affine_bound(n)
    assert res.value == pytest.approx((5 * n - 2) / (2 * n + 1), abs=1e-12)
    assert res.value <= 2.5


def test_price_of_stability() -> None:
    pos = affine_pos_bound()
    assert pos.value == pytest.approx(1.577350, abs=1e-6)
    assert "unconfirmed" in pos.notes
    assert fair_sharing_pos_bound(4).value == pytest.approx(2.083333, abs=1e-6)
    assert fair_sharing_poa_bound(7).value == 7.0


def test_haviv_roughgarden_counts_servers_used_by_opt() -> None:
    res = haviv_roughgarden_bound([4.0, 1.0], 3.0)
    assert res.value == 2
    assert res.certificate["optimal_flows"] == pytest.approx([8 / 3, 1 / 3])
    assert res.certificate["optimal_cost"] == pytest.approx(2.5)
    # THEORY.md: u = (4, 1), r = 3 has PoA 6/5 <= 2
    assert res.value >= 6 / 5
    two = haviv_roughgarden_bound([2.0, 1.0], 2.0)
    assert two.certificate["optimal_cost"] == pytest.approx(1 + 2 * math.sqrt(2))
    assert haviv_roughgarden_bound([10.0, 1.0], 1.0).value == 1


def test_bad_input() -> None:
    with pytest.raises(GameError, match="degree"):
        aland_bound(-2)
    with pytest.raises(GameError, match="integer"):
        aland_bound(1.5)
    with pytest.raises(GameError, match="n_players"):
        symmetric_affine_bound(0)
    with pytest.raises(GameError, match="rate"):
        haviv_roughgarden_bound([1.0, 1.0], 2.0)
    with pytest.raises(GameError, match="capacities"):
        haviv_roughgarden_bound([], 1.0)
