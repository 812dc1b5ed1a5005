"""Winnipeg and Barcelona: our equilibria against the networks' best-known flows.

The READMEs of the TNTP networks give the Beckmann objective of their best-known flows
(Winnipeg 827,911.494629963, Barcelona 1,265,654.92203176); the flow files give the
flows. The objective of the published flows, evaluated with our BPR costs, must be the
published number, and bfw to a relative gap of 1e-5 must come within 2e-6 of it from
above and within 0.3% of the flows in L1 norm (relative to the total flow) on the links
whose cost strictly increases. Only there is the equilibrium flow unique: on constant-cost
links (Winnipeg's connectors, 41% of its links) equal-cost paths tie, and where the flow
lands depends on how the shortest-path kernel breaks ties (the whole-network L1 is 0.23%
with SciPy's Dijkstra and 0.58% with the compiled one, at the same objective).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gametheory.games.network.tntp import read_tntp, read_tntp_flows
from gametheory.solvers.network.wardrop import wardrop_equilibrium

BEST_OBJECTIVE = {"Winnipeg": 827911.494629963, "Barcelona": 1265654.92203176}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(BEST_OBJECTIVE))
def test_bfw_reaches_the_best_known_flows(shared_data: Path, name: str) -> None:
    folder = shared_data / "networks" / name
    game = read_tntp(folder / f"{name}_net.tntp", folder / f"{name}_trips.tntp")
    best = read_tntp_flows(folder / f"{name}_flow.tntp", game)
    optimum = BEST_OBJECTIVE[name]
    assert game.beckmann(best) == pytest.approx(optimum, rel=1e-12)
    res = wardrop_equilibrium(game, "bfw", rgap=1e-5, max_iter=2000)
    assert res.converged
    ours = game.beckmann(res.link_flows)
    assert optimum * (1 - 1e-12) <= ours <= optimum * (1 + 2e-6)
    strict = np.array([float(c.derivative(1.0)) > 0 for c in game.costs])
    l1 = float(np.abs(res.link_flows - best)[strict].sum() / best.sum())
    assert l1 < 3e-3
