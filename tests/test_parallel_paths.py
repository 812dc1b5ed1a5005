"""All-or-nothing assignment on several workers equals the one-worker step.

With the NumPy kernel the workers are processes (trees in shared memory); with the
compiled kernel they are threads.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from gametheory.costs import Affine
from gametheory.errors import GameError, SolverError
from gametheory.games.network.routing import RoutingGame
from gametheory.solvers.common.compiled import numba_available
from gametheory.solvers.network.parallel_paths import ParallelTrees
from gametheory.solvers.network.shortest_paths import AllOrNothing
from gametheory.solvers.network.wardrop import system_optimum, wardrop_equilibrium


def _grid(side: int = 7, seed: int = 0) -> RoutingGame:
    """A directed grid (both directions) with random affine costs and 40 OD pairs."""
    rng = np.random.default_rng(seed)
    g = nx.DiGraph()
    for r in range(side):
        for c in range(side):
            for dr, dc in ((0, 1), (1, 0), (0, -1), (-1, 0)):
                rr, cc = r + dr, c + dc
                if 0 <= rr < side and 0 <= cc < side:
                    cost = Affine(rng.uniform(1, 3), rng.uniform(0.01, 0.2))
                    g.add_edge(r * side + c, rr * side + cc, cost=cost)
    nodes = side * side
    demands: dict[tuple[int, int], float] = {}
    while len(demands) < 40:
        o, d = (int(v) for v in rng.integers(0, nodes, 2))
        if o != d:
            demands[(o, d)] = float(rng.uniform(0.5, 2.0))
    return RoutingGame(g, demands)


KERNELS = [
    "numpy",
    pytest.param(
        "numba", marks=pytest.mark.skipif(not numba_available(), reason="Numba not installed")
    ),
]


@pytest.mark.parametrize("kernel", KERNELS)
def test_two_workers_give_the_one_worker_flows_and_trees(kernel: str) -> None:
    game = _grid()
    net = game.network
    costs = game.link_costs(np.zeros(game.n_edges))
    serial = AllOrNothing(net, kernel=kernel)(costs)
    with AllOrNothing(net, workers=2, kernel=kernel) as aon:
        for scale in (1.0, 1.7):  # two calls on one pool
            got = aon(costs * scale)
            ref = AllOrNothing(net, kernel=kernel)(costs * scale)
            np.testing.assert_allclose(got.link_flows, ref.link_flows, rtol=1e-12, atol=1e-12)
            np.testing.assert_array_equal(got.predecessors, ref.predecessors)
            np.testing.assert_array_equal(got.pair_edge, ref.pair_edge)
    assert aon._parallel is None and aon._threads is None  # the with block stopped the pool
    assert serial.link_flows.sum() > 0


@pytest.mark.parametrize("kernel", KERNELS)
def test_equilibrium_and_optimum_on_two_workers(kernel: str) -> None:
    game = _grid(seed=1)
    for solve, rgap in ((wardrop_equilibrium, 1e-9), (system_optimum, 1e-6)):
        one = solve(game, rgap=rgap, max_iter=3000, kernel=kernel)
        two = solve(game, rgap=rgap, max_iter=3000, workers=2, kernel=kernel)
        assert two.converged and two.relative_gap <= rgap
        assert two.iterations == one.iterations  # the same path up to rounding
        np.testing.assert_allclose(two.link_flows, one.link_flows, rtol=1e-6, atol=1e-7)
        assert two.total_cost == pytest.approx(one.total_cost, rel=1e-9)
    # path flows need the trees, which come back from the workers' shared memory
    paths = wardrop_equilibrium(game, rgap=1e-8, track_paths=True, workers=2, kernel=kernel)
    assert paths.path_flows is not None and len(paths.path_flows) == 40


def test_bad_worker_counts() -> None:
    net = _grid().network
    with pytest.raises(SolverError, match="workers must be a positive integer"):
        AllOrNothing(net, workers=0)
    with pytest.raises(GameError, match=r"workers must be in \[2, "):
        ParallelTrees(net, 1, AllOrNothing)
    # more workers than origins: one process per origin at most
    aon = AllOrNothing(net, workers=10_000, kernel="numpy")
    try:
        assert aon._parallel is not None and len(aon._parallel.bounds) == net.origins.size
    finally:
        aon.close()
        aon.close()  # idempotent
    if numba_available():  # threads: one group of origins per thread at most
        with AllOrNothing(net, workers=10_000, kernel="numba") as threaded:
            assert len(threaded._groups) == net.origins.size
