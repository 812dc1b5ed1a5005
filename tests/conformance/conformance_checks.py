"""Checks shared by the conformance modules, one per section of a case.

Each function takes a case from ``data/*.json`` and asserts what the source says about it,
using our solvers on the game and exact rational arithmetic (``conformance_data``) to
confirm every equilibrium involved, ours and the source's.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy
from conformance_data import (
    as_floats,
    best_responses,
    close,
    exact_payoffs,
    exact_pure_equilibria,
    float_game,
    integer_game,
    is_nash,
    payoff_range,
    profile,
    regret,
)

from gametheory.solvers.common.enumeration import pure_equilibria
from gametheory.solvers.finite.lemke_howson import lemke_howson
from gametheory.solvers.finite.nplayer.logit import logit_equilibrium
from gametheory.solvers.finite.results import NashEquilibriaResult
from gametheory.solvers.finite.vertex_enumeration import vertex_enumeration

REGRET_TOL = 1e-9


def extreme_equilibria(case: dict[str, Any]) -> tuple[NashEquilibriaResult, list]:
    """Vertex enumeration on the integer form of the game: the result and its exact set."""
    result = vertex_enumeration(integer_game(case))
    assert result.exact and result.exact_equilibria is not None
    return result, [tuple(tuple(s) for s in e) for e in result.exact_equilibria]


def assert_small_regret(case: dict[str, Any], strategies: Any) -> None:
    """Regret of a float profile in the game's own payoff units (relative to huge payoffs)."""
    bound = REGRET_TOL * max(1.0, payoff_range(case) / 1e6)
    assert float_game(case).mixed_max_regret(list(strategies)) <= bound


# ---------------------------------------------------------------------- sections
def check_pure_equilibria(case: dict[str, Any]) -> None:
    section = case["pure_equilibria"]
    expected = sorted(section["expected"])
    payoffs = exact_payoffs(case)
    assert exact_pure_equilibria(payoffs) == expected  # the source's list, checked exactly
    ours = sorted(p.tolist() for p in pure_equilibria(integer_game(case), tol=0.0))
    assert ours == expected
    for run in section.get("tolerance_runs", []):
        tol = float(run["tol"])
        found = sorted(p.tolist() for p in pure_equilibria(float_game(case), tol=tol))
        assert found == sorted(run["expected"]), run


def check_extreme_equilibria(case: dict[str, Any], section: dict[str, Any] | None = None) -> None:
    section = section or case["extreme_equilibria"]
    payoffs = exact_payoffs(case)
    result, ours = extreme_equilibria(case)
    for eq in ours:
        assert is_nash(payoffs, eq)
    for x, y in result.equilibria:
        assert_small_regret(case, (x, y))
    approx = {k: float(v) for k, v in section.get("approximate", {}).items()}
    for raw in section["expected"]:
        if approx:
            matches = [e for e in ours if close(e, raw, **approx)]
            assert len(matches) == 1, raw
        else:
            listed = profile(raw)
            assert is_nash(payoffs, listed), raw
            assert listed in ours, raw
    if section.get("complete"):
        assert len(ours) == len(section["expected"])
    for raw in section.get("also_extreme", []):
        assert profile(raw) in ours
    if "degenerate" in section:
        assert result.degenerate is section["degenerate"]
    if "n_extreme" in section:
        assert len(ours) == section["n_extreme"]
    if "n_components" in section:
        assert result.n_components == section["n_components"]


def check_lemke_howson(case: dict[str, Any]) -> None:
    section = case["lemke_howson"]
    payoffs = exact_payoffs(case)
    game = float_game(case)
    result, extreme = extreme_equilibria(case)
    for run in section["runs"]:
        found = lemke_howson(game, initial_label=run["label"])
        assert found.converged, run
        assert_small_regret(case, found.strategies)
        # The endpoint is a completely labelled vertex pair: an exact extreme equilibrium.
        ours = [e for e in extreme if close(e, found.strategies, rtol=0.0, atol=1e-9)]
        assert len(ours) == 1, run
        if run["expected"] is None:
            continue
        listed = profile(run["expected"])
        assert is_nash(payoffs, listed)
        if run.get("agreement", "same") == "same":
            assert ours[0] == listed, run
        else:  # a degenerate game: both endpoints are equilibria, only the tie-breaking differs
            assert result.degenerate
            assert ours[0] != listed and ours[0] == profile(run["ours"]), run
    if "unique_equilibrium" in section:
        assert extreme == [profile(section["unique_equilibrium"])]


def check_one_equilibrium(case: dict[str, Any]) -> None:
    section = case["one_equilibrium"]
    assert section["solver"] == "logit"
    game = float_game(case)
    found = logit_equilibrium(game)
    assert found.converged
    assert found.max_regret <= REGRET_TOL
    assert game.mixed_max_regret(list(found.strategies)) <= REGRET_TOL
    symmetric = section.get("symmetric_first_action")
    if symmetric:
        low, high = (float(v) for v in symmetric["interval"])
        for strategy in found.strategies:
            assert low < strategy[0] < high
            assert abs(strategy[0] - float(symmetric["p_star"])) <= 1e-9
    if section.get("in_listed"):
        listed = case["all_equilibria"]["expected"]
        assert any(close(found.strategies, raw, rtol=0.0, atol=1e-7) for raw in listed)


def check_all_equilibria(case: dict[str, Any]) -> None:
    payoffs = exact_payoffs(case)
    listed = [profile(raw) for raw in case["all_equilibria"]["expected"]]
    assert len(set(listed)) == len(listed)
    for eq in listed:
        assert is_nash(payoffs, eq)
    pure = [eq for eq in listed if all(max(s) == 1 for s in eq)]
    assert len(pure) == len(exact_pure_equilibria(payoffs))


def _symbolic_is_nash(payoffs: np.ndarray, raw: list[list[str]]) -> bool:
    """Exact check of a profile with irrational probabilities (sympy)."""
    prof = [[sympy.sympify(p) for p in strategy] for strategy in raw]
    n = payoffs.shape[0]
    for i in range(n):
        values = []
        for j in range(payoffs.shape[1 + i]):
            total = sympy.Integer(0)
            for index in np.ndindex(*payoffs.shape[1:]):
                if index[i] != j:
                    continue
                weight = sympy.Mul(*(prof[k][index[k]] for k in range(n) if k != i))
                total += weight * sympy.Rational(str(payoffs[(i, *index)]))
            values.append(sympy.nsimplify(sympy.expand(total)))
        support = [v for p, v in zip(prof[i], values, strict=True) if sympy.simplify(p) != 0]
        if any(sympy.simplify(v - support[0]) != 0 for v in support):
            return False
        if any((v - support[0]).evalf(50) > 0 for v in values):
            return False
    return True


def check_profile_checks(case: dict[str, Any], checks: list | None = None) -> None:
    payoffs = exact_payoffs(case)
    game = float_game(case)
    for check in checks if checks is not None else case["profile_checks"]:
        if check.get("symbolic"):
            assert _symbolic_is_nash(payoffs, check["profile"]) is check["is_nash"]
            strategies = [np.array([float(sympy.sympify(p)) for p in s]) for s in check["profile"]]
            assert (game.mixed_max_regret(strategies) <= 1e-12) is check["is_nash"]
            continue
        prof = profile(check["profile"])
        assert is_nash(payoffs, prof) is check["is_nash"], check
        float_regret = game.mixed_max_regret(as_floats(prof))
        if check["is_nash"]:
            assert float_regret <= 1e-12
        else:
            assert regret(payoffs, prof) > 0 and float_regret > 1e-9


def check_best_responses(case: dict[str, Any]) -> None:
    payoffs = exact_payoffs(case)
    game = float_game(case)
    for check in case["best_response_checks"]:
        prof = profile(check["profile"])
        assert best_responses(payoffs, prof) == check["best_response"]
        mixed = as_floats(prof)
        for i, expected in enumerate(check["best_response"]):
            costs = game.expected_deviation_costs(mixed, i)
            assert bool(costs @ mixed[i] <= costs.min() + 1e-12) is expected


def check_payoffs(case: dict[str, Any]) -> None:
    game = float_game(case)
    for check in case["payoff_checks"]:
        assert game.costs(check["profile"]).tolist() == [-float(v) for v in check["payoffs"]]
