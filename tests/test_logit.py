"""n-player Nash equilibria by the logit homotopy: known games, catalog games, random games."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gametheory as gt
from gametheory.errors import GameError
from gametheory.games import library
from gametheory.games.normal_form import NormalFormGame
from gametheory.solvers.finite.logit import logit_equilibrium
from gametheory.solvers.finite.vertex_enumeration import vertex_enumeration

CATALOG = json.loads((Path(__file__).parent / "data" / "nplayer_games.json").read_text())


def _jordan() -> NormalFormGame:
    """Jordan's (GEB 5, 1993) three-player matching pennies: 1 matches 2, 2 matches 3,
    3 mismatches 1; the unique equilibrium is uniform."""
    u = np.zeros((3, 2, 2, 2))
    for a, b, c in np.ndindex(2, 2, 2):
        u[:, a, b, c] = [1 if a == b else -1, 1 if b == c else -1, 1 if c != a else -1]
    return NormalFormGame.from_payoffs(u)


def test_jordans_game_has_the_uniform_equilibrium() -> None:
    res = logit_equilibrium(_jordan())
    assert res.converged and res.max_regret <= 1e-12
    for p in res.strategies:
        np.testing.assert_allclose(p, [0.5, 0.5], atol=1e-12)
    assert res.supports == ((0, 1), (0, 1), (0, 1))
    np.testing.assert_allclose(res.costs, 0.0, atol=1e-12)


def test_three_player_prisoners_dilemma_ends_in_defection() -> None:
    # each player's payoff: 2 per cooperator among the others, +1 for defecting
    u = np.zeros((3, 2, 2, 2))
    for prof in np.ndindex(2, 2, 2):
        for i in range(3):
            others = sum(1 for k in range(3) if k != i and prof[k] == 0)
            u[(i, *prof)] = 2 * others + prof[i]
    res = logit_equilibrium(NormalFormGame.from_payoffs(u))
    assert res.converged and res.supports == ((1,), (1,), (1,))


@pytest.mark.parametrize("name", ["battle_of_sexes", "matching_pennies"])
def test_two_player_answers_are_extreme_equilibria(name: str) -> None:
    game = getattr(library, name)()
    res = logit_equilibrium(game)
    assert res.converged
    exact = vertex_enumeration(game).exact_equilibria
    found = [
        all(np.allclose(p, [float(v) for v in q], atol=1e-9) for p, q in zip(res.strategies, eq))
        for eq in exact
    ]
    assert any(found)


@pytest.mark.parametrize("case", sorted(k for k in CATALOG if not k.startswith("_")))
def test_gambit_catalog_three_player_games(case: str) -> None:
    game = NormalFormGame.from_payoffs(CATALOG[case]["payoffs"])
    res = logit_equilibrium(game)
    assert res.converged and res.max_regret <= 1e-9
    assert game.mixed_max_regret(res.strategies) == res.max_regret
    for p in res.strategies:
        assert np.all(p >= 0) and p.sum() == pytest.approx(1.0, abs=1e-12)
    if case == "nau2004_sec4":
        # the unique equilibrium is completely mixed (and irrational)
        assert res.supports == ((0, 1), (0, 1), (0, 1))
        x = res.strategies[0][0]
        assert Fraction(x).limit_denominator(1000) != pytest.approx(x, abs=1e-12)


@settings(max_examples=30, deadline=None)
@given(
    shape=st.lists(st.integers(2, 3), min_size=2, max_size=4),
    seed=st.integers(0, 2**32 - 1),
    integer=st.booleans(),
)
def test_random_games_end_at_an_equilibrium(shape: list[int], seed: int, integer: bool) -> None:
    rng = np.random.default_rng(seed)
    size = (len(shape), *shape)
    costs = rng.integers(-5, 6, size=size) if integer else rng.normal(size=size)
    game = NormalFormGame(costs)
    res = logit_equilibrium(game)
    assert res.converged
    assert game.mixed_max_regret(res.strategies) <= 1e-9
    for p, s in zip(res.strategies, shape):
        assert p.shape == (s,) and np.all(p >= 0) and p.sum() == pytest.approx(1.0)


def test_scaling_the_costs_changes_nothing() -> None:
    game = NormalFormGame.from_payoffs(CATALOG["nau2004_sec4"]["payoffs"])
    big = NormalFormGame(1000.0 * game.cost_tensor + 7.0)
    a, b = logit_equilibrium(game), logit_equilibrium(big)
    for p, q in zip(a.strategies, b.strategies):
        np.testing.assert_allclose(p, q, atol=1e-9)


def test_top_level_name_and_bad_input() -> None:
    assert gt.logit_equilibrium is logit_equilibrium
    with pytest.raises(GameError, match="NormalFormGame"):
        logit_equilibrium(library.pigou())  # type: ignore[arg-type]
    with pytest.raises(GameError, match="lambda_max"):
        logit_equilibrium(_jordan(), lambda_max=float("inf"))
    with pytest.raises(GameError, match="tol"):
        logit_equilibrium(_jordan(), tol=0.0)
    with pytest.raises(GameError, match="max_steps"):
        logit_equilibrium(_jordan(), max_steps=0)


def test_a_step_budget_too_small_is_reported_not_hidden() -> None:
    game = NormalFormGame.from_payoffs(CATALOG["nau2004_sec4"]["payoffs"])
    res = logit_equilibrium(game, max_steps=2)
    assert not res.converged and res.max_regret > 1e-9
    assert res.iterations == 2
