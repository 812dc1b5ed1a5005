"""Correlated and coarse correlated equilibria: LP optima, known answers, PoA."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.typing import ArrayLike

from gametheory.errors import GameError
from gametheory.games import library
from gametheory.games.normal_form import NormalFormGame
from gametheory.solvers.finite.correlated import correlated_equilibria, correlated_price_of_anarchy
from gametheory.solvers.finite.vertex_enumeration import vertex_enumeration


def five_halves_tensor() -> np.ndarray:
    """THEORY.md's 3-player affine instance: resources h0..h2 (0..2), g0..g2 (3..5), c(k) = k.

    Player i picks {h_i, g_i} or {h_{i+1}, h_{i+2}, g_{i+1}} (indices mod 3).
    """
    strategies = [[(i, 3 + i), ((i + 1) % 3, (i + 2) % 3, 3 + (i + 1) % 3)] for i in range(3)]
    tensor = np.zeros((3, 2, 2, 2))
    for profile in itertools.product(range(2), repeat=3):
        load = np.zeros(6)
        for i, a in enumerate(profile):
            load[list(strategies[i][a])] += 1
        for i, a in enumerate(profile):
            tensor[(i, *profile)] = load[list(strategies[i][a])].sum()
    return tensor


def _max_gain(tensor: np.ndarray, p: np.ndarray, coarse: bool) -> float:
    """Largest expected gain from a deviation, computed profile by profile."""
    shape = tensor.shape[1:]
    gains = []
    for i, s_i in enumerate(shape):
        for dev in range(s_i):
            if coarse:
                g = 0.0
                for s in itertools.product(*(range(k) for k in shape)):
                    t = list(s)
                    t[i] = dev
                    g += p[s] * (tensor[(i, *s)] - tensor[(i, *t)])
                gains.append(g)
            else:
                for rec in range(s_i):
                    g = 0.0
                    for s in itertools.product(*(range(k) for k in shape)):
                        if s[i] != rec:
                            continue
                        t = list(s)
                        t[i] = dev
                        g += p[s] * (tensor[(i, *s)] - tensor[(i, *t)])
                    gains.append(g)
    return max(gains)


def test_five_halves_instance_worst_cce_within_smoothness_bound() -> None:
    tensor = five_halves_tensor()
    game = NormalFormGame(tensor)
    assert game.social_cost_tensor.min() == 6.0
    assert game.social_cost_tensor[1, 1, 1] == 15.0 and game.is_equilibrium([1, 1, 1])
    for coarse in (False, True):
        result = correlated_equilibria(game, coarse=coarse)
        assert result.optimum_cost == 6.0
        # Smoothness (5/3, 1/3): every CCE costs at most 5/2 OPT = 15, and the worst pure
        # equilibrium (cost 15) is one, so the bound is attained.
        assert result.worst_cost <= 2.5 * 6.0 + 1e-7
        assert result.worst_cost == pytest.approx(15.0, abs=1e-7)
        assert result.best_cost == pytest.approx(6.0, abs=1e-7)
        assert _max_gain(tensor, result.worst_distribution, coarse) <= 1e-7
        assert result.max_violation <= 1e-7
    poa = correlated_price_of_anarchy(game, coarse=True)
    assert poa.poa == pytest.approx(2.5, abs=1e-8) and poa.pos == pytest.approx(1.0, abs=1e-8)
    assert poa.optimum.tolist() == [0, 0, 0]


def test_battle_of_sexes_best_correlated_equilibrium() -> None:
    game = library.battle_of_sexes()
    result = correlated_equilibria(game)
    nash_welfare = -vertex_enumeration(game).social_costs  # 3, 4/3, 3
    best_welfare = -result.best_cost
    assert best_welfare == pytest.approx(3.0)
    # At least every Nash equilibrium's welfare (3 is the most any outcome gives, so the
    # pure equilibria tie) and strictly above the mixed one.
    assert np.all(best_welfare >= nash_welfare - 1e-9)
    assert best_welfare > sorted(nash_welfare)[0] + 1.0
    # A fair coin between (T, L) and (B, R) is a correlated equilibrium with payoffs
    # (3/2, 3/2), an outcome no Nash equilibrium gives.
    coin = np.array([[0.5, 0.0], [0.0, 0.5]])
    assert _max_gain(game.cost_tensor, coin, coarse=False) <= 0


def test_chicken_best_correlated_equilibrium_beats_every_nash_equilibrium() -> None:
    # Aumann (1974): payoffs 6/2/7/0; Nash welfare 9, 9 and 28/3, best CE welfare 21/2.
    A = np.array([[6, 2], [7, 0]])
    game = NormalFormGame.from_bimatrix(A, A.T)
    nash_welfare = -vertex_enumeration(game).social_costs
    result = correlated_equilibria(game)
    assert -result.best_cost == pytest.approx(10.5, abs=1e-8)
    np.testing.assert_allclose(sorted(nash_welfare), [9.0, 9.0, 28 / 3])
    assert -result.best_cost > nash_welfare.max() + 1.0
    np.testing.assert_allclose(result.best_distribution, [[0.5, 0.25], [0.25, 0.0]], atol=1e-8)


@settings(max_examples=25, deadline=None)
@given(
    st.integers(1, 4).flatmap(
        lambda m: st.integers(1, 4).flatmap(
            lambda n: arrays(np.int64, (2, m, n), elements=st.integers(1, 9))
        )
    )
)
def test_nash_inside_ce_inside_cce(tensor: np.ndarray) -> None:
    game = NormalFormGame(tensor)
    ce = correlated_equilibria(game)
    cce = correlated_equilibria(game, coarse=True)
    assert cce.worst_cost >= ce.worst_cost - 1e-7
    assert cce.best_cost <= ce.best_cost + 1e-7
    for p, coarse in ((ce.worst_distribution, False), (cce.worst_distribution, True)):
        assert _max_gain(game.cost_tensor.astype(float), p, coarse) <= 1e-7
        assert abs(p.sum() - 1) < 1e-9 and p.min() >= 0
    for social in vertex_enumeration(game).social_costs:
        assert ce.best_cost - 1e-7 <= social <= ce.worst_cost + 1e-7


class _TableGame:
    """A finite game without a cost_tensor attribute (only the FiniteGame protocol)."""

    def __init__(self, tensor: np.ndarray) -> None:
        self._t = tensor

    @property
    def n_players(self) -> int:
        return int(self._t.shape[0])

    @property
    def n_strategies(self) -> tuple[int, ...]:
        return tuple(int(s) for s in self._t.shape[1:])

    def costs(self, profile: ArrayLike) -> np.ndarray:
        return np.asarray(self._t[(slice(None), *np.asarray(profile).tolist())], dtype=float)

    def social_cost(self, profile: ArrayLike) -> float:
        return float(self.costs(profile).sum())

    def deviation_costs(self, profile: ArrayLike, player: int) -> np.ndarray:
        index: list[int | slice] = list(np.asarray(profile).tolist())
        index[player] = slice(None)
        return np.asarray(self._t[(player, *index)], dtype=float)


def test_protocol_games_are_tabulated() -> None:
    result = correlated_equilibria(_TableGame(five_halves_tensor()), coarse=True)
    assert result.worst_cost == pytest.approx(15.0, abs=1e-7)


def test_nonpositive_optimum_rejected() -> None:
    with pytest.raises(GameError, match="undefined"):
        correlated_price_of_anarchy(library.battle_of_sexes())
