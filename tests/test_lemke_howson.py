"""Lexicographic Lemke-Howson: valid equilibria from every label, no cycling when degenerate."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from gametheory.errors import GameError
from gametheory.games import library
from gametheory.games.normal_form import NormalFormGame
from gametheory.solvers.finite.lemke_howson import lemke_howson
from gametheory.solvers.finite.vertex_enumeration import vertex_enumeration


def _is_listed(result_eq: tuple[np.ndarray, np.ndarray], game: NormalFormGame) -> bool:
    x, y = result_eq
    extreme = vertex_enumeration(game).equilibria
    return any(np.abs(x - a).max() < 1e-9 and np.abs(y - b).max() < 1e-9 for a, b in extreme)


@pytest.mark.parametrize(
    "game",
    [
        library.matching_pennies(),
        library.battle_of_sexes(),
        library.three_by_two(),
        library.three_by_two(degenerate=True),
    ],
)
def test_every_label_reaches_a_listed_extreme_equilibrium(game: NormalFormGame) -> None:
    for label in range(sum(game.n_strategies)):
        result = lemke_howson(game, initial_label=label)
        assert result.converged and result.initial_label == label
        assert result.max_regret < 1e-12
        assert _is_listed(result.strategies, game)


def test_battle_of_sexes_labels_reach_the_pure_equilibria() -> None:
    game = library.battle_of_sexes()
    found = {tuple(np.round(lemke_howson(game, k).strategies[0], 9)) for k in range(4)}
    assert found == {(1.0, 0.0), (0.0, 1.0)}


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 7).flatmap(
        lambda m: st.integers(1, 7).flatmap(
            lambda n: arrays(np.int64, (2, m, n), elements=st.integers(0, 2))
        )
    )
)
def test_degenerate_integer_games_every_label(tensor: np.ndarray) -> None:
    # Payoffs in {0, 1, 2}: most of these games are degenerate; ties in the ratio test
    # must be broken lexicographically or the path may cycle.
    game = NormalFormGame(tensor)
    for label in range(sum(game.n_strategies)):
        result = lemke_howson(game, initial_label=label, max_pivots=10_000)
        assert result.converged
        assert result.max_regret < 1e-9
        assert _is_listed(result.strategies, game)


# Lemke-Howson path lengths on random games are heavy-tailed (from a handful of pivots to
# several hundred thousand). These labels keep the run to about 75,000 pivots in total,
# paths of 9 to 35,054 pivots; benchmarks/bench_finite.py runs many more labels.
LABELS_200 = [(0,), (37, 237), (274,), (111, 311), (148, 348), (185, 385), (22,), (259, 59)]
LABELS_200 += [(296, 96), (333, 133)]


def test_random_200x200_games_are_solved() -> None:
    rng = np.random.default_rng(7)
    for labels in LABELS_200:
        A, B = rng.standard_normal((2, 200, 200))
        game = NormalFormGame.from_bimatrix(A, B)
        for label in labels:
            result = lemke_howson(game, initial_label=label)
            assert result.converged
            assert result.max_regret < 1e-9
            x, y = result.strategies
            assert abs(x.sum() - 1) < 1e-12 and abs(y.sum() - 1) < 1e-12


def test_bad_arguments() -> None:
    game = library.battle_of_sexes()
    with pytest.raises(GameError, match="initial_label"):
        lemke_howson(game, initial_label=4)
    with pytest.raises(GameError, match="two-player"):
        lemke_howson(NormalFormGame(np.zeros((3, 2, 2, 2))))


def test_pivot_budget_reports_non_convergence() -> None:
    rng = np.random.default_rng(5)
    A, B = rng.standard_normal((2, 30, 30))
    result = lemke_howson(NormalFormGame.from_bimatrix(A, B), initial_label=0, max_pivots=1)
    assert not result.converged and result.iterations == 1
