"""AequilibraE's equilibration cases on Sioux Falls (``data/aequilibrae.json``).

The source runs MSA, Frank-Wolfe, conjugate and biconjugate Frank-Wolfe and checks how
well each one's link flows correlate with the network's reference volumes, that the gaps
shrink from one algorithm to the next, that the conjugate methods reach the target gap
and that conjugate Frank-Wolfe needs fewer iterations than plain Frank-Wolfe. We run the
same algorithms with the same settings and check the same statements.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conformance_data import load

from gametheory.games.network.tntp import read_tntp, read_tntp_flows
from gametheory.solvers.network.results import FlowResult
from gametheory.solvers.network.wardrop import wardrop_equilibrium

CASES = {case["name"].split("/")[1]: case for case in load("aequilibrae")["cases"]}


@cache
def _run(folder: Path, name: str) -> tuple[FlowResult, np.ndarray]:
    game = read_tntp(folder / "SiouxFalls_net.tntp", folder / "SiouxFalls_trips.tntp")
    reference = read_tntp_flows(folder / "SiouxFalls_flow.tntp", game)
    case = CASES[name]
    result = wardrop_equilibrium(
        game, case["method"], rgap=float(case["rgap"]), max_iter=int(case["max_iter"])
    )
    return result, reference


@pytest.mark.parametrize("name", sorted(CASES))
def test_equilibration_case(shared_data: Path, name: str) -> None:
    folder = shared_data / "networks" / "SiouxFalls"
    case: dict[str, Any] = CASES[name]
    result, reference = _run(folder, name)
    correlation = float(np.corrcoef(result.link_flows, reference)[0, 1])
    assert correlation > float(case["min_correlation"])
    if "gap_below" in case:  # a better algorithm (or budget) ends at a smaller gap
        assert result.relative_gap < _run(folder, case["gap_below"])[0].relative_gap
    if case.get("converges"):
        assert result.converged and result.relative_gap < float(case["rgap"])
    if "fewer_iterations_than" in case:
        assert result.iterations < _run(folder, case["fewer_iterations_than"])[0].iterations
