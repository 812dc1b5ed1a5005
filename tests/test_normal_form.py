"""NormalFormGame: validation, pure and mixed costs, the nashpy bridge, library instances."""

from __future__ import annotations

import nashpy
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from gametheory.errors import GameError
from gametheory.games import library
from gametheory.games.base import FiniteGame
from gametheory.games.normal_form import NormalFormGame


def test_protocol_and_pure_costs() -> None:
    game = library.battle_of_sexes()
    assert isinstance(game, FiniteGame)
    assert game.n_players == 2 and game.n_strategies == (2, 2)
    np.testing.assert_array_equal(game.costs([0, 0]), [-2.0, -1.0])
    assert game.social_cost([1, 1]) == -3.0
    np.testing.assert_array_equal(game.deviation_costs([0, 1], 0), [0.0, -1.0])
    np.testing.assert_array_equal(game.deviation_costs([0, 1], 1), [-1.0, 0.0])
    assert game.is_equilibrium([0, 0]) and not game.is_equilibrium([0, 1])
    assert game.labels == (("T", "B"), ("L", "R"))


def test_three_player_deviation_costs() -> None:
    rng = np.random.default_rng(0)
    tensor = rng.integers(0, 9, size=(3, 2, 3, 4)).astype(float)
    game = NormalFormGame(tensor)
    np.testing.assert_array_equal(game.deviation_costs([1, 2, 3], 1), tensor[1, 1, :, 3])
    np.testing.assert_array_equal(game.costs([0, 1, 2]), tensor[:, 0, 1, 2])
    assert game.social_cost_tensor.shape == (2, 3, 4)


def test_expected_costs_of_mixed_profile() -> None:
    game = library.battle_of_sexes()
    x, y = np.array([2 / 3, 1 / 3]), np.array([1 / 3, 2 / 3])
    np.testing.assert_allclose(game.expected_costs([x, y]), [-2 / 3, -2 / 3])
    assert game.mixed_max_regret([x, y]) == pytest.approx(0.0, abs=1e-12)
    assert game.mixed_max_regret([np.array([1.0, 0]), np.array([0.0, 1])]) == pytest.approx(1.0)


@settings(max_examples=25, deadline=None)
@given(
    arrays(np.float64, (3, 2, 3, 2), elements=st.floats(-5, 5)),
    st.integers(0, 2**32 - 1),
)
def test_expected_costs_equal_the_explicit_sum(tensor: np.ndarray, seed: int) -> None:
    rng = np.random.default_rng(seed)
    game = NormalFormGame(tensor)
    mixed = [rng.dirichlet(np.ones(s)) for s in game.n_strategies]
    joint = np.einsum("a,b,c->abc", *mixed)
    expected = np.einsum("iabc,abc->i", tensor, joint)
    np.testing.assert_allclose(game.expected_costs(mixed), expected, atol=1e-9)


def test_nashpy_bridge_round_trip_flips_sign() -> None:
    A = np.array([[3, 3], [2, 5], [0, 6]])
    B = np.array([[3, 2], [2, 6], [3, 1]])
    game = library.three_by_two()
    ng = game.to_nashpy()
    np.testing.assert_array_equal(ng.payoff_matrices[0], A)
    np.testing.assert_array_equal(ng.payoff_matrices[1], B)
    back = NormalFormGame.from_nashpy(nashpy.Game(A, B))
    np.testing.assert_array_equal(back.cost_tensor, game.cost_tensor)
    np.testing.assert_array_equal(game.bimatrix()[0], -A)


def test_from_payoffs_and_costs() -> None:
    payoff = np.arange(8.0).reshape(2, 2, 2)
    np.testing.assert_array_equal(NormalFormGame.from_payoffs(payoff).cost_tensor, -payoff)
    game = NormalFormGame.from_bimatrix([[1, 2]], [[3, 4]], payoffs=False)
    np.testing.assert_array_equal(game.cost_tensor, [[[1, 2]], [[3, 4]]])


@pytest.mark.parametrize(
    ("tensor", "match"),
    [
        (np.zeros((2, 2)), "shape"),
        (np.zeros((3, 2, 2)), "shape"),
        (np.zeros((2, 0, 2)), "at least one strategy"),
        (np.array([[[0.0, np.nan]], [[1.0, 2.0]]]), "non-finite"),
        (np.array([[[0.0, np.inf]], [[1.0, 2.0]]]), "non-finite"),
        ([["a", "b"]], "numbers"),
    ],
)
def test_bad_tensor_rejected(tensor: object, match: str) -> None:
    with pytest.raises(GameError, match=match):
        NormalFormGame(tensor)  # type: ignore[arg-type]


def test_bad_bimatrix_and_profiles_rejected() -> None:
    with pytest.raises(GameError, match="shape of A"):
        NormalFormGame.from_bimatrix([[1, 2]], [[1], [2]])
    with pytest.raises(GameError, match=r"A has a non-finite"):
        NormalFormGame.from_bimatrix([[np.nan]], [[1.0]])
    game = library.matching_pennies()
    with pytest.raises(GameError, match="one strategy per player"):
        game.costs([0])
    with pytest.raises(GameError, match="only 2 strategies"):
        game.costs([0, 2])
    with pytest.raises(GameError, match="probability vector"):
        game.expected_costs([[0.5, 0.6], [0.5, 0.5]])
    with pytest.raises(GameError, match=r"mixed\[1\] must have 2"):
        game.expected_costs([[0.5, 0.5], [1.0]])
    with pytest.raises(GameError, match="player must be"):
        game.deviation_costs([0, 0], 2)
    with pytest.raises(GameError, match="labels"):
        NormalFormGame(np.zeros((2, 2, 2)), labels=[["a", "b"], ["c"]])
    with pytest.raises(GameError, match="two-player"):
        NormalFormGame(np.zeros((3, 2, 2, 2))).to_nashpy()
