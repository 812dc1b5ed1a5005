"""Gambit's game catalog (contrib/games/*.nfg) and test-suite games (data/gambit.json)."""

from __future__ import annotations

from fractions import Fraction

import conformance_data as data
import numpy as np
import pytest
from conformance_checks import (
    REGRET_TOL,
    check_extreme_equilibria,
    check_profile_checks,
    extreme_equilibria,
)

from gametheory.games.nfg import parse_nfg, write_nfg
from gametheory.solvers.common.enumeration import pure_equilibria
from gametheory.solvers.finite.lemke_howson import lemke_howson
from gametheory.solvers.finite.nplayer.logit import logit_equilibrium

SOURCE = "gambit"
CATALOG = data.params(SOURCE, key="catalog")
TWO_PLAYER = [p for p in CATALOG if len(p.values[0]["n_strategies"]) == 2]
NAMES_WITH_PAYOFF_LIST = data.params(SOURCE, "parser_note", key="catalog")


def _catalog(name):
    return next(c for c in data.load(SOURCE)["catalog"] if c["name"] == name)


# ------------------------------------------------------------------ the catalog
@pytest.mark.parametrize("version", ["payoff", "outcome"])
@pytest.mark.parametrize("case", CATALOG)
def test_round_trip(case, version):
    game = data.float_game(case)
    assert list(game.n_strategies) == case["n_strategies"]
    back = parse_nfg(write_nfg(game, version=version)).game
    assert back.n_strategies == game.n_strategies
    assert np.array_equal(back.cost_tensor, game.cost_tensor)


@pytest.mark.parametrize("case", CATALOG)
def test_equilibria(case):
    claims = case.get("claims", {})
    payoffs = data.exact_payoffs(case)
    game = data.float_game(case)
    pure = sorted(p.tolist() for p in pure_equilibria(data.integer_game(case), tol=0.0))
    assert pure == data.exact_pure_equilibria(payoffs)
    if "n_pure" in claims:
        assert len(pure) == claims["n_pure"]
    if claims.get("constant_sum"):
        assert len(set(payoffs.sum(axis=0).ravel())) == 1
    if len(case["n_strategies"]) == 2:
        result, extreme = extreme_equilibria(case)
        assert all(data.is_nash(payoffs, eq) for eq in extreme)
        for eq in result.equilibria:
            assert game.mixed_max_regret(list(eq)) <= REGRET_TOL
        assert sum(all(max(s) == 1 for s in eq) for eq in extreme) == len(pure)
        if "n_extreme" in claims:
            assert len(extreme) == claims["n_extreme"]
        if "degenerate" in claims:
            assert result.degenerate is claims["degenerate"]
        if claims.get("continuum"):
            assert result.n_components < len(extreme)
    else:
        found = logit_equilibrium(game)
        assert found.converged and found.max_regret <= REGRET_TOL
        assert game.mixed_max_regret(list(found.strategies)) <= REGRET_TOL
        if claims.get("totally_mixed"):
            assert all((s > 0).all() for s in found.strategies)
    if claims.get("logit"):
        found = logit_equilibrium(game)
        assert found.converged and game.mixed_max_regret(list(found.strategies)) <= REGRET_TOL


@pytest.mark.parametrize("case", TWO_PLAYER)
def test_lemke_howson_reaches_extreme_equilibria(case):
    """From every label, Lemke-Howson ends at one of the exact extreme equilibria."""
    game = data.float_game(case)
    _, extreme = extreme_equilibria(case)
    reached = set()
    for label in range(sum(case["n_strategies"])):
        found = lemke_howson(game, initial_label=label)
        assert found.converged and found.max_regret <= REGRET_TOL
        hits = [e for e in extreme if data.close(e, found.strategies, rtol=0.0, atol=1e-9)]
        assert len(hits) == 1, label
        reached.add(hits[0])
    if case.get("claims", {}).get("inaccessible"):
        assert len(reached) < len(extreme)


def test_documented_equilibria_of_e02():
    case = _catalog("e02")
    documented = case["documented"]
    check_extreme_equilibria(case, documented["extreme_equilibria"])
    check_profile_checks(case, documented["profile_checks"])


def test_mckelvey_mclennan_game_is_the_test_suite_game():
    suite = next(
        c for c in data.load(SOURCE)["cases"] if c["name"] == "test_suite/mixed_behavior_game"
    )
    assert np.array_equal(data.exact_payoffs(_catalog("2x2x2")), data.exact_payoffs(suite))


def _names_with_payoff_list(case):
    """An .nfg text naming the strategies and then listing payoffs, as these files do."""
    game = data.float_game(case)
    scale = Fraction(case["payoff_scale"])
    rows = np.array(case["payoffs"], dtype=object).reshape(game.n_players, -1, order="F").T
    names = " ".join(
        "{ " + " ".join(f'"{k + 1}"' for k in range(s)) + " }" for s in game.n_strategies
    )
    players = " ".join(f'"Player {i + 1}"' for i in range(game.n_players))
    body = "\n".join(" ".join(str(Fraction(v) / scale) for v in row) for row in rows)
    return f'NFG 1 R "{case["name"]}" {{ {players} }}\n\n{{ {names} }}\n\n{body}\n'


@pytest.mark.parametrize("case", NAMES_WITH_PAYOFF_LIST)
def test_strategy_counts_with_payoff_list(case):
    """Control: the same payoff list under a strategy-count header parses to the game."""
    text = _names_with_payoff_list(case)
    sizes = " ".join(str(s) for s in case["n_strategies"])
    start = text.index("\n\n{ {") + 2
    end = text.index("}\n\n", start) + 1
    counts = text[:start] + "{ " + sizes + " }" + text[end:]
    assert np.array_equal(parse_nfg(counts).game.cost_tensor, data.float_game(case).cost_tensor)


@pytest.mark.parametrize("case", NAMES_WITH_PAYOFF_LIST)
def test_strategy_names_with_payoff_list(case):
    game = parse_nfg(_names_with_payoff_list(case)).game
    assert np.array_equal(game.cost_tensor, data.float_game(case).cost_tensor)


@pytest.mark.parametrize("case", TWO_PLAYER)
def test_matches_pygambit_enummixed(case):
    """Live cross-check, when pygambit is installed: the same extreme equilibria."""
    gbt = pytest.importorskip("pygambit")
    payoffs = data.exact_payoffs(case)
    game = gbt.Game.from_arrays(payoffs[0], payoffs[1])
    theirs = {
        tuple(tuple(Fraction(str(eq[s])) for s in player.strategies) for player in game.players)
        for eq in gbt.nash.enummixed_solve(game, rational=True).equilibria
    }
    _, ours = extreme_equilibria(case)
    assert set(ours) == theirs


# ------------------------------------------------------------------ test-suite games
