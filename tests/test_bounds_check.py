"""check_bound: refutes false claims with re-solvable witnesses, lets true ones survive."""

from __future__ import annotations

import pytest

from gametheory.bounds import check_bound
from gametheory.errors import GameError
from gametheory.games.congestion import AtomicCongestionGame
from gametheory.games.network.routing import RoutingGame
from gametheory.solvers.common.enumeration import pure_equilibria
from gametheory.solvers.common.optimum import social_optimum
from gametheory.solvers.network.wardrop import routing_price_of_anarchy


def test_four_thirds_for_quadratics_is_refuted() -> None:
    res = check_bound(4 / 3, "quadratic", seed=0)
    assert not res.survived
    assert res.worst_ratio > 1.6
    assert res.worst_ratio <= res.class_bound + 1e-9
    assert isinstance(res.witness, RoutingGame)
    again = routing_price_of_anarchy(res.witness, method="fw", rgap=1e-10, max_iter=20000)
    assert again.poa == pytest.approx(res.worst_ratio, rel=1e-6)
    assert res.instances_solved >= res.trials


def test_two_point_one_six_for_quartics_survives() -> None:
    res = check_bound(2.16, "polynomial", degree=4, seed=0, trials=60, local_steps=120)
    assert res.survived
    assert 1.0 <= res.worst_ratio <= 2.16
    assert res.class_bound == pytest.approx(2.150502, abs=1e-6)


def test_atomic_claims_are_checked_by_enumeration() -> None:
    false = check_bound(1.2, "affine", model="atomic", seed=1, trials=300, local_steps=300)
    assert not false.survived
    game = false.witness
    assert isinstance(game, AtomicCongestionGame)
    worst = max(game.social_cost(p) for p in pure_equilibria(game))
    assert worst / social_optimum(game).social_cost == pytest.approx(false.worst_ratio, rel=1e-9)
    true = check_bound(2.5, "affine", model="atomic", seed=1, trials=300, local_steps=300)
    assert true.survived and true.worst_ratio <= 2.5 + 1e-9


def test_bad_arguments() -> None:
    with pytest.raises(GameError, match="claimed"):
        check_bound(0.5, "affine")
    with pytest.raises(GameError, match="family"):
        check_bound(2.0, "exponential")
    with pytest.raises(GameError, match="degree"):
        check_bound(2.0, "polynomial")
    with pytest.raises(GameError, match="degree"):
        check_bound(2.0, "polynomial", degree=-1)
    with pytest.raises(GameError, match="model"):
        check_bound(2.0, "affine", model="mixed")
