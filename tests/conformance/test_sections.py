"""The sections every source shares, run on the cases of every source.

A case of ``data/<source>.json`` states what its source says in sections (its pure
equilibria, its extreme equilibria, a Lemke-Howson endpoint, ...); each section has one
check in ``conformance_checks``. The cases that need more than a section's check have
tests of their own in the source's module.
"""

from __future__ import annotations

import pytest
from conformance_checks import (
    check_all_equilibria,
    check_best_responses,
    check_extreme_equilibria,
    check_lemke_howson,
    check_one_equilibrium,
    check_payoffs,
    check_profile_checks,
    check_pure_equilibria,
)
from conformance_data import load, unchecked

CHECKS = {
    "pure_equilibria": check_pure_equilibria,
    "extreme_equilibria": check_extreme_equilibria,
    "lemke_howson": check_lemke_howson,
    "one_equilibrium": check_one_equilibrium,
    "all_equilibria": check_all_equilibria,
    "profile_checks": check_profile_checks,
    "best_response_checks": check_best_responses,
    "payoff_checks": check_payoffs,
}

# Each case of a source must carry at least one of these sections (what it is checked on).
REQUIRED = {
    "quantecon": {
        "pure_equilibria",
        "extreme_equilibria",
        "lemke_howson",
        "one_equilibrium",
        "profile_checks",
    },
    "nashpy": {"extreme_equilibria", "lemke_howson", "profile_checks", "best_response_checks"},
    "gambit": {"pure_equilibria", "extreme_equilibria", "all_equilibria", "profile_checks"},
}

CASES = [
    pytest.param(section, case, id=f"{source}/{section}/{case['name']}")
    for source in REQUIRED
    for case in load(source)["cases"]
    for section in CHECKS
    if section in case
]


@pytest.mark.parametrize(("section", "case"), CASES)
def test_section(section, case):
    CHECKS[section](case)


@pytest.mark.parametrize("source", sorted(REQUIRED))
def test_every_case_is_checked(source):
    assert unchecked(source, REQUIRED[source]) == []
