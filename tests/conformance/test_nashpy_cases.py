"""Nashpy's test cases (data/nashpy.json) against our solvers."""

from __future__ import annotations

from fractions import Fraction

from conformance_checks import (
    extreme_equilibria,
)
from conformance_data import (
    close,
    exact_payoffs,
    expected_payoffs,
    is_nash,
    load,
    profile,
    regret,
)

SOURCE = "nashpy"


def _case(name):
    return next(c for c in load(SOURCE)["cases"] if c["name"] == name)


def test_issue_67_source_values_are_approximate():
    """Who is right on issue 67: our equilibrium is exact, the listed one is not."""
    case = _case("game/support_enumeration_issue_67")
    payoffs = exact_payoffs(case)
    _, ours = extreme_equilibria(case)
    assert len(ours) == 1 and is_nash(payoffs, ours[0])
    exact_column = profile([case["disagreement"]["exact_column_strategy"]])[0]
    assert ours[0][1] == exact_column
    listed = case["extreme_equilibria"]["expected"][0]
    # Listed values, with the row strategy's 7e-17 read as 0 and renormalised: not an
    # equilibrium of the rounded game, but an epsilon-equilibrium for a small epsilon ...
    rows = [Fraction(v) if Fraction(v) > 1e-12 else Fraction(0) for v in listed[0]]
    cols = [Fraction(v) for v in listed[1]]
    approx = (tuple(r / sum(rows) for r in rows), tuple(c / sum(cols) for c in cols))
    assert 0 < regret(payoffs, approx) < 1e-3
    # ... whose column strategy is 1.8e-6 away from the exact one: np.isclose (rtol 1e-5)
    # accepts it, a tolerance of 1e-6 would not.
    assert abs(float(exact_column[0]) - float(cols[0])) > 1e-6
    assert close(ours[0], listed, rtol=1e-5, atol=1e-8)
    assert not close(ours[0], listed, rtol=0.0, atol=1e-6)


def test_degenerate_lex_endpoints_are_all_equilibria():
    """Where our lexicographic path ends elsewhere than Nashpy's, both ends are equilibria."""
    case = _case("lemke_howson_lex/degenerate_3x3")
    payoffs = exact_payoffs(case)
    result, extreme = extreme_equilibria(case)
    assert result.degenerate
    differing = [r for r in case["lemke_howson"]["runs"] if r.get("agreement") == "differs"]
    assert [r["label"] for r in differing] == [0, 1, 3, 4, 5]
    for run in differing:
        for prof in (profile(run["expected"]), profile(run["ours"])):
            assert is_nash(payoffs, prof) and prof in extreme


def test_sign_flipped_best_response_example_1_source_wrong():
    """Nashpy (one stored version) says sigma_r is a best response; exactly, it is not."""
    case = _case("is_best_response/rock_paper_scissors_sign_flipped_example_1")
    check = case["best_response_checks"][0]
    assert check["source_says"] == [True, False] and check["best_response"] == [False, False]
    prof = profile(check["profile"])
    row = expected_payoffs(exact_payoffs(case), prof, 0)
    assert row == list(profile([case["disagreement"]["row_payoffs"]])[0])
    assert row[2] < max(row)  # sigma_r = (0, 0, 1) plays strategy 2
