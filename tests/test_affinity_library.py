"""The cost-sharing acceptance instances of issue 6 (THEORY.md sections 2 and 6)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gametheory.errors import GameError
from gametheory.games.library import (
    fair_cost_sharing,
    harmonic_cost_sharing,
    nonincreasing_unbounded,
)
from gametheory.solvers.common.best_response import best_response_dynamics
from gametheory.solvers.common.enumeration import pure_equilibria
from gametheory.solvers.common.optimum import social_optimum


def equilibrium_costs(game: object) -> list[float]:
    return sorted(game.social_cost(p) for p in pure_equilibria(game))  # type: ignore[attr-defined]


@pytest.mark.parametrize("n", [2, 3, 5, 8])
def test_fair_cost_sharing_poa_is_n(n: int) -> None:
    g = fair_cost_sharing(n)
    assert equilibrium_costs(g) == pytest.approx([1.0, float(n)])
    opt = social_optimum(g)
    assert opt.social_cost == pytest.approx(1.0)
    assert max(equilibrium_costs(g)) / opt.social_cost == pytest.approx(n)
    assert g.is_equilibrium(np.zeros(n, dtype=np.int64))


@pytest.mark.parametrize("n", [1, 2, 4, 7])
def test_harmonic_instance_unique_equilibrium_costs_h_n(n: int) -> None:
    g = harmonic_cost_sharing(n)
    h_n = sum(1.0 / i for i in range(1, n + 1))
    eqs = pure_equilibria(g)
    assert len(eqs) == 1 and eqs[0].tolist() == [0] * n
    assert g.social_cost(eqs[0]) == pytest.approx(h_n)
    opt = social_optimum(g)
    assert opt.social_cost == pytest.approx(min(1.01, h_n))
    if n == 4:
        assert g.social_cost(eqs[0]) == pytest.approx(2.083333, abs=1e-6)
        assert g.social_cost(eqs[0]) / opt.social_cost == pytest.approx(2.083333 / 1.01, 1e-6)
    # Best-response dynamics from the optimum walk to the unique equilibrium.
    res = best_response_dynamics(g, initial=np.ones(n, dtype=np.int64))
    assert res.converged and res.profile.tolist() == [0] * n


@pytest.mark.parametrize(("n", "delta", "eps"), [(3, 0.5, 0.1), (4, 0.1, 0.01), (6, 1.0, 1e-3)])
def test_nonincreasing_costs_make_poa_unbounded(n: int, delta: float, eps: float) -> None:
    g = nonincreasing_unbounded(n, delta, eps)
    all_a = np.zeros(n, dtype=np.int64)
    assert g.social_cost(all_a) == pytest.approx(n)
    # Strict: a lone deviator to B pays 1 + delta > 1.
    assert g.deviation_costs(all_a, 0).tolist() == pytest.approx([1.0, 1.0 + delta])
    assert equilibrium_costs(g) == pytest.approx([eps, float(n)], rel=1e-12)
    opt = social_optimum(g)
    assert opt.social_cost == pytest.approx(eps, rel=1e-12)
    assert max(equilibrium_costs(g)) / opt.social_cost == pytest.approx(n / eps, rel=1e-9)


def test_price_of_anarchy_solver_reproduces_the_ratios() -> None:
    poa_module = pytest.importorskip("gametheory.solvers.poa")
    res = poa_module.price_of_anarchy(fair_cost_sharing(4))
    assert res.poa == pytest.approx(4.0) and res.pos == pytest.approx(1.0)
    res = poa_module.price_of_anarchy(harmonic_cost_sharing(4))
    assert res.poa == pytest.approx(res.pos) and res.poa == pytest.approx(2.083333 / 1.01, 1e-6)
    res = poa_module.price_of_anarchy(nonincreasing_unbounded(4, 0.1, 0.01))
    assert res.poa == pytest.approx(400.0, rel=1e-9)
    assert math.isclose(res.pos, 1.0, rel_tol=1e-9)


@pytest.mark.parametrize("build", [fair_cost_sharing, harmonic_cost_sharing])
def test_player_count_is_checked(build: object) -> None:
    with pytest.raises(GameError, match="n must be"):
        build(0)  # type: ignore[operator]
    with pytest.raises(GameError, match="delta and eps"):
        nonincreasing_unbounded(3, 0.0, 0.1)
