"""The compiled all-or-nothing step (Numba) against the NumPy one (SciPy's Dijkstra)."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gametheory.costs import Affine
from gametheory.errors import GameError, SolverError
from gametheory.games.network.routing import RoutingGame
from gametheory.games.network.tntp import read_tntp
from gametheory.solvers.common import compiled
from gametheory.solvers.network.shortest_paths import AllOrNothing
from gametheory.solvers.network.wardrop import wardrop_equilibrium

needs_numba = pytest.mark.skipif(not compiled.numba_available(), reason="Numba not installed")
DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "networks"


def _random_game(seed: int, nodes: int, arcs: int, pairs: int, zones: int = 0) -> RoutingGame:
    """A random strongly connected digraph with random costs.

    Nodes ``0..zones-1`` are zones, each joined both ways to one other node; a ring over
    the other nodes keeps every OD pair reachable without passing through a zone.
    """
    rng = np.random.default_rng(seed)
    g = nx.MultiDiGraph()
    inner = nodes - zones
    for v in range(zones, nodes):
        nxt = zones + (v - zones + 1) % inner
        g.add_edge(v, nxt, cost=Affine(rng.uniform(1, 5), rng.uniform(0, 1)))
    for z in range(zones):
        hub = zones + z % inner
        g.add_edge(z, hub, cost=Affine(rng.uniform(0, 1), 0.0))
        g.add_edge(hub, z, cost=Affine(rng.uniform(0, 1), 0.0))
    for _ in range(arcs):
        u, v = (int(a) for a in rng.integers(0, nodes, 2))
        g.add_edge(u, v, cost=Affine(rng.uniform(0, 5), rng.uniform(0, 1)))
    demands: dict[tuple[int, int], float] = {}
    while len(demands) < pairs:
        o, d = (int(a) for a in rng.integers(0, nodes, 2))
        if o != d:
            demands[(o, d)] = float(rng.uniform(0.1, 3.0))
    return RoutingGame(g, demands, zones=list(range(zones)) if zones else None)


def _paths_and_cost(aon: AllOrNothing, costs: np.ndarray) -> tuple[list[tuple[int, ...]], float]:
    out = aon(costs)
    return aon.paths(out), float(costs @ out.link_flows)


@needs_numba
@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    nodes=st.integers(3, 40),
    arcs=st.integers(0, 120),
    pairs=st.integers(1, 30),
    zones=st.integers(0, 3),
)
def test_same_paths_flows_and_cost_as_scipy(
    seed: int, nodes: int, arcs: int, pairs: int, zones: int
) -> None:
    pairs = min(pairs, nodes * (nodes - 1))
    game = _random_game(seed, nodes, arcs, pairs, min(zones, nodes - 2))
    net = game.network
    rng = np.random.default_rng(seed + 1)
    costs = game.link_costs(rng.uniform(0, 5, game.n_edges))  # continuous: no ties
    fast, slow = AllOrNothing(net, kernel="numba"), AllOrNothing(net, kernel="numpy")
    got, ref = fast(costs), slow(costs)
    np.testing.assert_allclose(got.link_flows, ref.link_flows, rtol=1e-12, atol=1e-9)
    assert fast.paths(got) == slow.paths(ref)
    # the compiled tree agrees with SciPy's wherever it is defined
    defined = got.predecessors != -9999
    np.testing.assert_array_equal(got.predecessors[defined], ref.predecessors[defined])


@needs_numba
def test_ties_change_paths_not_the_assignment_cost() -> None:
    # every cost equal: many shortest paths tie, each kernel picks its own
    game = _random_game(3, 30, 90, 25)
    costs = np.ones(game.n_edges)
    fast = _paths_and_cost(AllOrNothing(game.network, kernel="numba"), costs)
    slow = _paths_and_cost(AllOrNothing(game.network, kernel="numpy"), costs)
    assert fast[1] == pytest.approx(slow[1], rel=1e-12)
    assert [len(p) for p in fast[0]] == [len(p) for p in slow[0]]  # equal hop counts


@needs_numba
@pytest.mark.parametrize("kernel", ["numba", "numpy"])
def test_unreachable_pair_and_bad_costs_raise(kernel: str) -> None:
    g = nx.DiGraph()
    g.add_edge(0, 1, cost=Affine(1.0, 0.0))
    g.add_edge(1, 2, cost=Affine(1.0, 0.0))
    game = RoutingGame(g, {(0, 2): 1.0, (0, 1): 2.0})
    aon = AllOrNothing(game.network, kernel=kernel)
    with pytest.raises(SolverError, match="no finite-cost path"):
        aon(np.array([1.0, np.inf]))
    with pytest.raises(SolverError, match="nonnegative, non-NaN"):
        aon(np.array([1.0, np.nan]))
    with pytest.raises(SolverError, match="nonnegative, non-NaN"):
        aon(np.array([1.0, -1.0]))
    with pytest.raises(SolverError, match="one entry per edge"):
        aon(np.ones(3))
    np.testing.assert_allclose(aon(np.array([1.0, 2.0])).link_flows, [3.0, 1.0])


def test_kernel_argument_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    game = _random_game(0, 5, 5, 3)
    with pytest.raises(GameError, match="kernel must be one of"):
        AllOrNothing(game.network, kernel="cuda")  # type: ignore[arg-type]
    with pytest.raises(GameError, match="kernel must be one of"):
        wardrop_equilibrium(game, kernel="fast")  # type: ignore[arg-type]
    monkeypatch.setattr(compiled, "numba_available", lambda: False)
    with pytest.raises(GameError, match=r"needs Numba: pip install"):
        AllOrNothing(game.network, kernel="numba")
    # auto falls back to NumPy without Numba, with the same equilibrium
    assert not AllOrNothing(game.network)._compiled
    np.testing.assert_allclose(
        wardrop_equilibrium(game, rgap=1e-10).link_flows,
        wardrop_equilibrium(game, rgap=1e-10, kernel="numpy").link_flows,
    )


@needs_numba
def test_equilibrium_on_sioux_falls_matches_between_kernels() -> None:
    base = DATA / "SiouxFalls"
    if not base.is_dir():
        pytest.skip(f"shared data not found at {base}")
    game = read_tntp(base / "SiouxFalls_net.tntp", base / "SiouxFalls_trips.tntp")
    fast = wardrop_equilibrium(game, rgap=1e-6, kernel="numba", track_paths=True)
    slow = wardrop_equilibrium(game, rgap=1e-6, kernel="numpy", track_paths=True)
    assert fast.converged and slow.converged
    # the equilibrium link flows are unique (strictly increasing BPR costs)
    assert np.abs(fast.link_flows - slow.link_flows).sum() <= 1e-3 * slow.link_flows.sum()
    assert fast.beckmann == pytest.approx(slow.beckmann, rel=1e-6)
    assert fast.path_flows is not None and slow.path_flows is not None
    assert fast.path_flows.keys() == slow.path_flows.keys()
    for od, paths in fast.path_flows.items():  # each OD pair's demand is on its paths
        assert sum(paths.values()) == pytest.approx(sum(slow.path_flows[od].values()), abs=1e-6)
