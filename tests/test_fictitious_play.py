"""Fictitious play: convergence where theory promises it, cycling in Shapley's game."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gametheory.errors import GameError
from gametheory.games import library
from gametheory.games.normal_form import NormalFormGame
from gametheory.solvers.finite.fictitious_play import fictitious_play


def five_halves_tensor() -> np.ndarray:
    """Cost tensor of THEORY.md's 3-player affine congestion game (c(k) = k), a potential game."""
    strategies = [[(i, 3 + i), ((i + 1) % 3, (i + 2) % 3, 3 + (i + 1) % 3)] for i in range(3)]
    tensor = np.zeros((3, 2, 2, 2))
    for profile in np.ndindex(2, 2, 2):
        load = np.zeros(6)
        for i, a in enumerate(profile):
            load[list(strategies[i][a])] += 1
        for i, a in enumerate(profile):
            tensor[(i, *profile)] = load[list(strategies[i][a])].sum()
    return tensor


def test_matching_pennies_converges_zero_sum() -> None:
    # Robinson (1951): empirical play converges in two-player zero-sum games.
    result = fictitious_play(
        library.matching_pennies(), max_iter=20_000, tol=1e-3, update="alternating"
    )
    assert result.converged and result.max_regret <= 1e-3
    for freq in result.strategies:
        np.testing.assert_allclose(freq, [0.5, 0.5], atol=2e-3)
    assert result.regret_history[-1] == result.max_regret
    assert len(result.regret_history) == result.iterations + 1


def test_shapley_game_cycles() -> None:
    # Shapley (1964): fictitious play does not converge in this 3x3 game.
    A = np.array([[0, 1, 0], [0, 0, 1], [1, 0, 0]])
    B = np.array([[0, 0, 1], [1, 0, 0], [0, 1, 0]])
    game = NormalFormGame.from_bimatrix(A, B)
    result = fictitious_play(game, max_iter=4000, initial=[0, 1])
    assert not result.converged and result.iterations == 4000
    assert result.regret_history[2000:].min() > 0.1


def test_pure_equilibrium_start_stops_at_once() -> None:
    game = NormalFormGame(five_halves_tensor())
    result = fictitious_play(game, initial=[1, 1, 1])
    assert result.converged and result.iterations == 0
    assert result.social_cost == pytest.approx(15.0)


def test_potential_game_converges_with_random_ties() -> None:
    # Monderer and Shapley (1996): fictitious play converges in potential games.
    game = NormalFormGame(five_halves_tensor())
    result = fictitious_play(game, initial=[1, 0, 1], tie_break="random", seed=1)
    assert result.converged
    assert game.mixed_max_regret(list(result.strategies)) <= 1e-3


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_two_by_two_games_converge(seed: int) -> None:
    # Miyasawa (1961): every 2x2 game (generic payoffs here).
    rng = np.random.default_rng(seed)
    game = NormalFormGame(rng.standard_normal((2, 2, 2)))
    result = fictitious_play(game, max_iter=5000, tol=1e-9)
    assert result.max_regret < 0.02
    assert game.mixed_max_regret(list(result.strategies)) == pytest.approx(result.max_regret)


def test_bad_arguments() -> None:
    game = library.battle_of_sexes()
    with pytest.raises(GameError, match="max_iter"):
        fictitious_play(game, max_iter=-1)
    with pytest.raises(GameError, match="update"):
        fictitious_play(game, update="sideways")  # type: ignore[arg-type]
    with pytest.raises(GameError, match="tie_break"):
        fictitious_play(game, tie_break="last")  # type: ignore[arg-type]
    with pytest.raises(GameError, match="only 2 strategies"):
        fictitious_play(game, initial=[0, 5])
