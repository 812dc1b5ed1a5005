"""Atomic congestion games: costs, potentials, dynamics, enumeration, optimum and PoA."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gametheory as gt
from gametheory.games import library
from gametheory.games.base import FiniteGameBase
from gametheory.games.congestion import AtomicCongestionGame
from gametheory.solvers.common.best_response import best_response_dynamics
from gametheory.solvers.common.enumeration import cost_tensor, pure_equilibria
from gametheory.solvers.common.optimum import social_optimum
from gametheory.solvers.poa import price_of_anarchy


def test_five_halves_instance_by_enumeration() -> None:
    result = price_of_anarchy(library.affine_five_halves())
    assert result.exact
    assert result.worst_cost == 15.0 and result.optimum_cost == 6.0
    assert result.poa == pytest.approx(2.5, abs=1e-12)
    assert result.worst_equilibrium.tolist() == [1, 1, 1]


def test_weighted_affine_potential_is_exact() -> None:
    game = AtomicCongestionGame(
        [gt.Affine(1, 2), gt.Affine(0, 1), gt.Affine(3, 0.5)],
        [[(0,), (1,), (2,)], [(0, 1), (2,)], [(1,), (2,)]],
        weights=[1.0, 2.5, 0.7],
    )
    assert game.has_potential
    for profile in itertools.product(range(3), range(2), range(2)):
        costs = game.costs(profile)
        phi = game.potential(profile)
        for i in range(3):
            for s in range(game.n_strategies[i]):
                other = list(profile)
                other[i] = s
                delta_cost = game.costs(other)[i] - costs[i]
                assert game.potential(other) - phi == pytest.approx(delta_cost)


def test_network_game_paths_are_strategies() -> None:
    g = nx.DiGraph()
    g.add_edge("s", "a", cost=gt.Affine(0, 1))
    g.add_edge("a", "t", cost=1.0)
    g.add_edge("s", "b", cost=1.0)
    g.add_edge("b", "t", cost=gt.Affine(0, 1))
    g.add_edge("a", "b", cost=0.0)
    game = AtomicCongestionGame.network(g, [("s", "t")] * 4)
    assert game.n_strategies == (3, 3, 3, 3)
    result = price_of_anarchy(game)
    assert result.poa >= 1.0
    with pytest.raises(gt.GameError, match="no path"):
        AtomicCongestionGame.network(g, [("t", "s")])
    with pytest.raises(gt.GameError, match="not in the graph"):
        AtomicCongestionGame.network(g, [("s", "zz")])


def test_bad_input() -> None:
    with pytest.raises(gt.GameError, match="empty strategy set"):
        AtomicCongestionGame([1.0], [[(0,)], []])
    with pytest.raises(gt.GameError, match="outside"):
        AtomicCongestionGame([1.0], [[(0,), (3,)]])
    game = library.affine_five_halves()
    with pytest.raises(gt.GameError, match="one strategy per player"):
        game.costs([0, 1])
    with pytest.raises(gt.GameError, match="only 2 strategies"):
        game.costs([0, 1, 5])
    with pytest.raises(gt.GameError, match="weights"):
        AtomicCongestionGame([1.0], [[(0,)]], weights=[-1.0])
    with pytest.raises(gt.GameError, match="order"):
        best_response_dynamics(game, order="sideways")  # type: ignore[arg-type]


class Pennies(FiniteGameBase):
    """Matching pennies as costs: no pure equilibrium, best responses cycle."""

    tensor = np.array([[[-1.0, 1.0], [1.0, -1.0]], [[1.0, -1.0], [-1.0, 1.0]]])

    @property
    def n_players(self) -> int:
        return 2

    @property
    def n_strategies(self) -> tuple[int, ...]:
        return (2, 2)

    def costs(self, profile):  # type: ignore[no-untyped-def]
        return self.tensor[:, profile[0], profile[1]]

    def deviation_costs(self, profile, player):  # type: ignore[no-untyped-def]
        if player == 0:
            return self.tensor[0, :, profile[1]]
        return self.tensor[1, profile[0], :]


@pytest.mark.parametrize("order", ["round-robin", "random", "max-gain"])
def test_cycles_are_detected_and_reported(order: str) -> None:
    result = best_response_dynamics(Pennies(), order=order, seed=3)  # type: ignore[arg-type]
    assert result.cycle and not result.converged
    assert result.max_regret == pytest.approx(2.0)
    assert result.iterations <= 10
    with pytest.raises(gt.GameError, match="no pure Nash"):
        price_of_anarchy(Pennies())


@st.composite
def singleton_games(draw: st.DrawFn) -> AtomicCongestionGame:
    m = draw(st.integers(2, 4))
    n = draw(st.integers(1, 5))
    # Coefficients are 0 or at least 1e-3: a deviation that saves less than the
    # equilibrium tolerance (1e-9 in absolute terms for costs below 1) is not
    # profitable by definition, so with costs of, say, 1e-105 against an optimum of 0
    # the "equilibria" include such profiles and the PoA is inf by the c/0 convention.
    coefficient = st.one_of(st.just(0.0), st.floats(1e-3, 3))
    costs = [gt.Polynomial(draw(st.lists(coefficient, min_size=1, max_size=3))) for _ in range(m)]
    allowed = [
        sorted(draw(st.sets(st.integers(0, m - 1), min_size=1, max_size=m))) for _ in range(n)
    ]
    return AtomicCongestionGame.singleton(costs, n, allowed=allowed)


@settings(max_examples=40, deadline=None)
@given(game=singleton_games(), order=st.sampled_from(["round-robin", "random", "max-gain"]))
def test_dynamics_end_at_equilibrium_with_decreasing_potential(
    game: AtomicCongestionGame, order: str
) -> None:
    rng = np.random.default_rng(0)
    initial = [int(rng.integers(k)) for k in game.n_strategies]
    result = best_response_dynamics(game, initial, order=order, seed=1)  # type: ignore[arg-type]
    assert result.converged and not result.cycle
    assert game.is_equilibrium(result.profile)
    history = result.potential_history
    assert np.all(np.diff(history) < 0)
    assert history[-1] == pytest.approx(game.potential(result.profile), abs=1e-9)
    assert history[0] == pytest.approx(game.potential(initial), abs=1e-9)
    equilibria = {tuple(p) for p in pure_equilibria(game)}
    assert tuple(result.profile) in equilibria


@settings(max_examples=30, deadline=None)
@given(game=singleton_games())
def test_optimum_and_poa_bounds(game: AtomicCongestionGame) -> None:
    tensor = cost_tensor(game)
    exhaustive = social_optimum(game, method="exhaustive")
    milp = social_optimum(game, method="milp")
    assert milp.social_cost == pytest.approx(exhaustive.social_cost, rel=1e-7, abs=1e-9)
    assert exhaustive.social_cost == pytest.approx(tensor.sum(axis=0).min())
    result = price_of_anarchy(game)
    assert result.poa >= 1.0 - 1e-12 and result.pos >= 1.0 - 1e-12
    assert result.poa >= result.pos
    # Polynomial costs of degree <= 2: below the weighted Aland bound Phi_2^3 ~ 9.9093.
    assert result.poa <= 9.9093


def test_large_singleton_dynamics_and_optimum() -> None:
    rng = np.random.default_rng(7)
    costs = [gt.Affine(rng.uniform(0, 1), rng.uniform(0.5, 2)) for _ in range(16)]
    game = AtomicCongestionGame.singleton(costs, 2000)
    result = price_of_anarchy(game, method="dynamics", starts=3, seed=1)
    assert not result.exact
    assert 1.0 <= result.poa <= 2.5
    assert result.optimum.method.startswith("greedy")
    milp = social_optimum(AtomicCongestionGame.singleton(costs, 60), method="milp")
    greedy = social_optimum(AtomicCongestionGame.singleton(costs, 60), method="auto")
    assert milp.social_cost == pytest.approx(greedy.social_cost, rel=1e-9)
