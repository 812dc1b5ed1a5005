"""QuantEcon.py's game-theory test cases (data/quantecon.json) against our solvers."""

from __future__ import annotations

import pytest
from conformance_checks import (
    check_extreme_equilibria,
    check_lemke_howson,
    check_one_equilibrium,
    check_payoffs,
    check_profile_checks,
    check_pure_equilibria,
)
from conformance_data import params, unchecked

SOURCE = "quantecon"


@pytest.mark.parametrize("case", params(SOURCE, "pure_equilibria"))
def test_pure_equilibria(case):
    check_pure_equilibria(case)


@pytest.mark.parametrize("case", params(SOURCE, "extreme_equilibria"))
def test_extreme_equilibria(case):
    check_extreme_equilibria(case)


@pytest.mark.parametrize("case", params(SOURCE, "lemke_howson"))
def test_lemke_howson(case):
    check_lemke_howson(case)


@pytest.mark.parametrize("case", params(SOURCE, "one_equilibrium"))
def test_one_equilibrium(case):
    check_one_equilibrium(case)


@pytest.mark.parametrize("case", params(SOURCE, "profile_checks"))
def test_profiles(case):
    check_profile_checks(case)


@pytest.mark.parametrize("case", params(SOURCE, "payoff_checks"))
def test_payoff_orientation(case):
    check_payoffs(case)


def test_every_case_is_checked():
    sections = {"pure_equilibria", "extreme_equilibria", "lemke_howson", "one_equilibrium"}
    assert unchecked(SOURCE, sections | {"profile_checks"}) == []
