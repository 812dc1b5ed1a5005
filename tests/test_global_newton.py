"""n-player equilibria by the global Newton method, beside the logit branch: the catalogs,
random games, and games with a unique equilibrium where the two methods must agree."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gametheory as gt
from gametheory.errors import GameError
from gametheory.games import library
from gametheory.games.nfg import write_nfg
from gametheory.games.normal_form import NormalFormGame
from gametheory.solvers.finite.nplayer.global_newton import global_newton_equilibrium
from gametheory.solvers.finite.nplayer.logit import logit_equilibrium
from gametheory.solvers.finite.results import GlobalNewtonResult

TESTS = Path(__file__).parent
CATALOG = json.loads((TESTS / "data" / "nplayer_games.json").read_text())
GAMBIT = json.loads((TESTS / "conformance" / "data" / "gambit.json").read_text())
# Gambit's contrib/games with three or more players (the conformance suite's transcription)
CONTRIB = {c["name"]: c for c in GAMBIT["catalog"] if len(c["n_strategies"]) > 2}


def _catalog_game(name: str) -> NormalFormGame:
    if name in CONTRIB:
        case = CONTRIB[name]
        return NormalFormGame.from_payoffs(np.array(case["payoffs"], float) / case["payoff_scale"])
    return NormalFormGame.from_payoffs(CATALOG[name]["payoffs"])


NAMES = sorted(k for k in CATALOG if not k.startswith("_")) + sorted(CONTRIB)


def _certified(game: NormalFormGame, res: GlobalNewtonResult, tol: float = 1e-9) -> None:
    assert res.converged and res.max_regret <= tol
    assert game.mixed_max_regret(res.strategies) == res.max_regret
    for p, s in zip(res.strategies, game.n_strategies, strict=True):
        assert p.shape == (s,) and np.all(p >= 0) and p.sum() == pytest.approx(1.0, abs=1e-12)
    assert res.supports == tuple(tuple(np.flatnonzero(p > 0)) for p in res.strategies)


@pytest.mark.parametrize("name", NAMES)
def test_catalog_games_end_at_a_certified_equilibrium(name: str) -> None:
    game = _catalog_game(name)
    res = global_newton_equilibrium(game)
    _certified(game, res, tol=1e-9 * float(np.ptp(game.cost_tensor)))
    if CONTRIB.get(name, {}).get("claims", {}).get("totally_mixed"):
        assert all((p > 0).all() for p in res.strategies)


def test_nau2004_sec4_has_one_equilibrium_and_both_methods_find_it() -> None:
    game = _catalog_game("nau2004_sec4")  # its unique equilibrium is completely mixed
    a, b = global_newton_equilibrium(game), logit_equilibrium(game)
    assert a.supports == b.supports == ((0, 1), (0, 1), (0, 1))
    for p, q in zip(a.strategies, b.strategies, strict=True):
        np.testing.assert_allclose(p, q, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(
    shape=st.lists(st.integers(2, 4), min_size=2, max_size=4),
    seed=st.integers(0, 2**32 - 1),
    kind=st.sampled_from(["gaussian", "integer", "ties"]),
)
def test_random_games_end_at_a_certified_equilibrium(
    shape: list[int], seed: int, kind: str
) -> None:
    rng = np.random.default_rng(seed)
    size = (len(shape), *shape)
    costs = {
        "gaussian": lambda: rng.normal(size=size),
        "integer": lambda: rng.integers(0, 100, size=size),
        "ties": lambda: rng.integers(-2, 3, size=size),  # degenerate: many ties
    }[kind]()
    game = NormalFormGame(costs)
    _certified(game, global_newton_equilibrium(game, seed=seed % 1000))


def _jordan_cycle(scales: list[float]) -> NormalFormGame:
    """Player i wants to match player i+1; the last wants to mismatch the first. No pure
    profile is an equilibrium, and whoever is not at 1/2 makes the one before it play
    pure, so the unique equilibrium has everybody at 1/2 (Jordan, GEB 5, 1993)."""
    n = len(scales)
    u = np.zeros((n, *(2,) * n))
    for prof in np.ndindex(*(2,) * n):
        for i in range(n):
            nxt = prof[(i + 1) % n]
            agree = prof[i] == nxt if i < n - 1 else prof[i] != nxt
            u[(i, *prof)] = scales[i] if agree else -scales[i]
    return NormalFormGame.from_payoffs(u)


@settings(max_examples=25, deadline=None)
@given(scales=st.lists(st.floats(0.1, 10.0), min_size=3, max_size=5))
def test_the_methods_agree_on_jordan_cycles(scales: list[float]) -> None:
    game = _jordan_cycle(scales)
    a, b = global_newton_equilibrium(game), logit_equilibrium(game)
    _certified(game, a)
    assert b.converged
    for p, q in zip(a.strategies, b.strategies, strict=True):
        np.testing.assert_allclose(p, [0.5, 0.5], atol=1e-12)
        np.testing.assert_allclose(q, [0.5, 0.5], atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(rows=st.integers(2, 5), cols=st.integers(2, 5), seed=st.integers(0, 2**32 - 1))
def test_the_methods_agree_on_generic_zero_sum_games(rows: int, cols: int, seed: int) -> None:
    # a zero-sum game with continuous random payoffs has one equilibrium almost surely
    # (Bohnenblust, Karlin and Shapley 1950)
    a_matrix = np.random.default_rng(seed).normal(size=(rows, cols))
    game = NormalFormGame.from_bimatrix(a_matrix, -a_matrix)
    gnm, qre = global_newton_equilibrium(game), logit_equilibrium(game)
    _certified(game, gnm)
    assert qre.converged
    for p, q in zip(gnm.strategies, qre.strategies, strict=True):
        np.testing.assert_allclose(p, q, atol=1e-9)


@settings(max_examples=25, deadline=None)
@given(shape=st.lists(st.integers(2, 4), min_size=3, max_size=4), seed=st.integers(0, 2**32))
def test_the_methods_agree_when_each_player_has_a_dominant_strategy(
    shape: list[int], seed: int
) -> None:
    rng = np.random.default_rng(seed)
    n = len(shape)
    costs = rng.uniform(0.0, 1.0, size=(n, *shape))
    best = [int(rng.integers(s)) for s in shape]
    for i in range(n):  # strategy best[i] costs less than any other, whatever the others do
        index: list[slice | int] = [slice(None)] * n
        index[i] = best[i]
        costs[(i, *index)] -= 2.0
    game = NormalFormGame(costs)
    gnm, qre = global_newton_equilibrium(game), logit_equilibrium(game)
    _certified(game, gnm)
    assert qre.supports == gnm.supports == tuple((b,) for b in best)


def test_the_same_seed_gives_the_same_answer_and_the_result_is_frozen() -> None:
    game = _catalog_game("nau2004_sec6")
    a, b = global_newton_equilibrium(game, seed=3), global_newton_equilibrium(game, seed=3)
    assert a.iterations == b.iterations and a.support_changes == b.support_changes
    for p, q in zip(a.strategies, b.strategies, strict=True):
        np.testing.assert_array_equal(p, q)
    assert len(a.perturbation) == 3 and a.rays >= 1 and a.support_changes > 0
    with pytest.raises(AttributeError):
        a.max_regret = 0.0  # type: ignore[misc]


def test_a_step_budget_too_small_is_reported_not_hidden() -> None:
    game = _catalog_game("nau2004_sec4")
    res = global_newton_equilibrium(game, max_steps=3)
    assert not res.converged and res.max_regret > 1e-9 and res.iterations <= 3


def test_top_level_name_and_bad_input() -> None:
    assert gt.global_newton_equilibrium is global_newton_equilibrium
    with pytest.raises(GameError, match="NormalFormGame"):
        global_newton_equilibrium(library.pigou())  # type: ignore[arg-type]
    with pytest.raises(GameError, match="tol"):
        global_newton_equilibrium(_jordan_cycle([1, 1, 1]), tol=0.0)
    with pytest.raises(GameError, match="rays"):
        global_newton_equilibrium(_jordan_cycle([1, 1, 1]), rays=0)


def test_gambit_finds_the_same_unique_equilibrium() -> None:
    gbt = pytest.importorskip("pygambit", reason="pygambit (the bench extra) is not installed")
    game = _catalog_game("nau2004_sec4")
    theirs_game = gbt.read_nfg(io.StringIO(write_nfg(game)))
    eq = gbt.nash.logit_solve(theirs_game).equilibria[0]
    theirs = [np.array([float(eq[s]) for s in p.strategies]) for p in theirs_game.players]
    for p, q in zip(global_newton_equilibrium(game).strategies, theirs, strict=True):
        np.testing.assert_allclose(p, q, atol=1e-6)
