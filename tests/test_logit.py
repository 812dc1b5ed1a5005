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
from gametheory.solvers.common.compiled import numba_available
from gametheory.solvers.finite.nplayer import logit
from gametheory.solvers.finite.nplayer.logit import logit_equilibrium
from gametheory.solvers.finite.vertex_enumeration import vertex_enumeration

DATA = Path(__file__).parent / "data"
CATALOG = json.loads((DATA / "nplayer_games.json").read_text())
FOLDS = {
    k: v for k, v in json.loads((DATA / "logit_folds.json").read_text()).items() if k[0] != "_"
}
needs_numba = pytest.mark.skipif(not numba_available(), reason="Numba not installed")


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


@pytest.mark.parametrize("case", sorted(FOLDS))
@pytest.mark.parametrize("kernel", ["numpy", pytest.param("numba", marks=needs_numba)])
def test_the_trace_stays_on_the_principal_branch_through_a_fold(case: str, kernel: str) -> None:
    game = NormalFormGame(FOLDS[case]["costs"])
    res = logit_equilibrium(game, kernel=kernel)  # type: ignore[arg-type]
    assert res.converged and res.max_regret <= 1e-9
    for p, q in zip(res.strategies, FOLDS[case]["equilibrium"], strict=True):
        np.testing.assert_allclose(p, q, atol=1e-9)


def test_without_the_step_cap_the_trace_jumps_branches(monkeypatch: pytest.MonkeyPatch) -> None:
    # the fold games are there because long steps leave the principal branch
    monkeypatch.setitem(logit.STEP_CONTROL, "max_step", 1e300)
    monkeypatch.setitem(logit.STEP_CONTROL, "bend", 1.5)
    monkeypatch.setitem(logit.STEP_CONTROL, "bend_slack", 0.01)
    jumped = 0
    for case in FOLDS.values():
        res = logit_equilibrium(NormalFormGame(case["costs"]), kernel="numpy")
        far = max(float(np.abs(p - q).max()) for p, q in zip(res.strategies, case["equilibrium"]))
        jumped += far > 1e-3
    assert jumped == len(FOLDS)


def _catalog_and_folds() -> list[NormalFormGame]:
    games = [NormalFormGame.from_payoffs(CATALOG[k]["payoffs"]) for k in CATALOG if k[0] != "_"]
    return games + [NormalFormGame(FOLDS[k]["costs"]) for k in sorted(FOLDS)]


def _same_answer(game: NormalFormGame) -> None:
    a = logit_equilibrium(game, kernel="numpy")
    b = logit_equilibrium(game, kernel="numba")
    assert a.converged and b.converged
    # supports up to rounding: a tie (integer costs) can leave 1e-19 on a strategy
    assert [tuple(np.flatnonzero(p > 1e-12)) for p in a.strategies] == [
        tuple(np.flatnonzero(p > 1e-12)) for p in b.strategies
    ]
    for p, q in zip(a.strategies, b.strategies, strict=True):
        np.testing.assert_allclose(p, q, atol=1e-9)


@needs_numba
@pytest.mark.parametrize("index", range(5))
def test_compiled_and_numpy_kernels_take_the_same_steps(index: int) -> None:
    game = _catalog_and_folds()[index]
    a = logit_equilibrium(game, kernel="numpy")
    b = logit_equilibrium(game, kernel="numba")
    assert a.iterations == b.iterations
    assert b.lambda_reached == pytest.approx(a.lambda_reached, rel=1e-6)
    _same_answer(game)


@needs_numba
@settings(max_examples=40, deadline=None)
@given(
    shape=st.lists(st.integers(2, 4), min_size=3, max_size=4),
    seed=st.integers(0, 2**32 - 1),
)
def test_compiled_and_numpy_kernels_agree_on_random_games(shape: list[int], seed: int) -> None:
    rng = np.random.default_rng(seed)
    _same_answer(NormalFormGame(rng.integers(0, 100, size=(len(shape), *shape))))


def test_an_unknown_kernel_is_refused() -> None:
    with pytest.raises(GameError, match="kernel"):
        logit_equilibrium(_jordan(), kernel="fortran")  # type: ignore[arg-type]
