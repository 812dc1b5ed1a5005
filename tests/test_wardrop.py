"""Wardrop equilibria and system optima: known answers, TNTP networks, properties, errors."""

from __future__ import annotations

import math
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gametheory.costs import MM1, Affine, Polynomial, Tabulated
from gametheory.errors import GameError
from gametheory.games.library import braess, mm1_parallel_links, pigou
from gametheory.games.network.routing import RoutingGame
from gametheory.games.network.tntp import read_tntp, read_tntp_flows
from gametheory.solvers.network.line_search import exact_line_search
from gametheory.solvers.network.shortest_paths import AllOrNothing
from gametheory.solvers.network.wardrop import (
    EXACT_GAP,
    Method,
    routing_price_of_anarchy,
    system_optimum,
    wardrop_equilibrium,
)

PIGOU_OPT = {1: 0.75, 2: 0.615100, 3: 0.527530, 4: 0.465008}
ITERATIVE = ["bfw", "cfw"]


def alpha(d: float) -> float:
    """Pigou bound for polynomials of degree d (THEORY.md section 1)."""
    return 1.0 / (1.0 - d * (d + 1) ** (-(d + 1) / d)) if d > 0 else 1.0


# -- known answers (THEORY.md section 6) ----------------------------------------------------


@pytest.mark.parametrize("method", ITERATIVE)
@pytest.mark.parametrize("d", [1, 2, 3, 4])
def test_pigou(d: int, method: Method) -> None:
    game = pigou(d)
    eq = wardrop_equilibrium(game, method=method, rgap=1e-12)
    opt = system_optimum(game, method=method, rgap=1e-12)
    assert eq.converged and opt.converged
    assert eq.total_cost == pytest.approx(1.0, abs=1e-6)
    assert opt.total_cost == pytest.approx(PIGOU_OPT[d], abs=1e-6)
    exact_opt = 1.0 - d * (d + 1) ** (-(d + 1) / d)
    assert opt.total_cost == pytest.approx(exact_opt, abs=1e-9)
    np.testing.assert_allclose(opt.link_flows[1], (d + 1) ** (-1 / d), atol=1e-8)
    poa = routing_price_of_anarchy(game, method=method, rgap=1e-12)
    assert poa.poa == pytest.approx(alpha(d), abs=1e-6)
    assert poa.pos == poa.poa and poa.exact


@pytest.mark.parametrize("method", ITERATIVE)
def test_braess(method: Method) -> None:
    without = wardrop_equilibrium(braess(False), method=method, rgap=1e-12)
    with_sc = wardrop_equilibrium(braess(True), method=method, rgap=1e-12)
    assert without.total_cost == pytest.approx(1.5, abs=1e-6)
    assert with_sc.total_cost == pytest.approx(2.0, abs=1e-6)
    for sc in (False, True):
        assert system_optimum(braess(sc), method=method, rgap=1e-12).total_cost == pytest.approx(
            1.5, abs=1e-6
        )
    assert with_sc.path_flows is not None
    assert list(with_sc.path_flows) == [("s", "t")]
    only = with_sc.path_flows[("s", "t")]
    assert list(only) == [(("s", "v"), ("v", "w"), ("w", "t"))]
    assert next(iter(only.values())) == pytest.approx(1.0, abs=1e-9)
    assert routing_price_of_anarchy(braess(True), rgap=1e-12).poa == pytest.approx(4 / 3)


@pytest.mark.parametrize("method", ITERATIVE)
def test_mm1_parallel_links(method: Method) -> None:
    game = mm1_parallel_links([4.0, 1.0], 3.0)
    eq = wardrop_equilibrium(game, method=method, rgap=1e-12)
    opt = system_optimum(game, method=method, rgap=1e-12)
    np.testing.assert_allclose(eq.link_flows, [3.0, 0.0], atol=1e-6)
    np.testing.assert_allclose(opt.link_flows, [8 / 3, 1 / 3], atol=1e-6)
    assert eq.total_cost == pytest.approx(3.0, abs=1e-6)
    assert opt.total_cost == pytest.approx(2.5, abs=1e-6)

    game = mm1_parallel_links([2.0, 1.0], 2.0)
    eq = wardrop_equilibrium(game, method=method, rgap=1e-12)
    opt = system_optimum(game, method=method, rgap=1e-12)
    np.testing.assert_allclose(eq.link_flows, [1.5, 0.5], atol=1e-6)
    assert eq.total_cost == pytest.approx(4.0, abs=1e-6)
    assert opt.total_cost == pytest.approx(1 + 2 * math.sqrt(2), abs=1e-6)
    # The free-flow all-or-nothing start (2, 0) saturates link 1: the LP start is used.
    assert eq.path_flows is None


@pytest.mark.parametrize("method", ["fw", "msa"])
def test_slow_methods_approach_the_answers(method: Method) -> None:
    # Plain Frank-Wolfe and MSA converge sublinearly: check them at a loose tolerance.
    opt = system_optimum(braess(True), method=method, rgap=1e-3, max_iter=5000)
    assert opt.converged and opt.relative_gap <= 1e-3
    assert opt.total_cost == pytest.approx(1.5, rel=1e-3)
    eq = wardrop_equilibrium(pigou(3), method=method, rgap=1e-6, max_iter=20000)
    assert eq.total_cost == pytest.approx(1.0, abs=1e-5)


def test_mm1_msa_stays_below_capacity() -> None:
    game = mm1_parallel_links([2.0, 1.0], 2.0)
    res = wardrop_equilibrium(game, method="msa", rgap=1e-3, max_iter=5000)
    assert res.converged
    assert np.all(res.link_flows < [2.0, 1.0])
    assert res.total_cost == pytest.approx(4.0, rel=1e-2)


def test_convex_cross_check() -> None:
    for game, eq_cost, opt_cost in [
        (pigou(2), 1.0, PIGOU_OPT[2]),
        (braess(True), 2.0, 1.5),
        (mm1_parallel_links([2.0, 1.0], 2.0), 4.0, 1 + 2 * math.sqrt(2)),
    ]:
        eq = wardrop_equilibrium(game, method="convex")
        opt = system_optimum(game, method="convex")
        assert eq.method == "convex" and eq.iterations == 1
        assert eq.total_cost == pytest.approx(eq_cost, rel=1e-4)
        assert opt.total_cost == pytest.approx(opt_cost, rel=1e-6)
        assert eq.converged and opt.converged


def test_result_fields_and_gap_history() -> None:
    game = braess(False)
    res = wardrop_equilibrium(game, rgap=1e-12)
    assert res.objective == "equilibrium" and res.method == "bfw"
    assert res.gap_history.size == res.iterations + 1
    assert res.gap_history[-1] == res.relative_gap <= 1e-12
    assert res.beckmann == pytest.approx(game.beckmann(res.link_flows))
    np.testing.assert_allclose(res.link_costs, game.link_costs(res.link_flows))
    assert system_optimum(game).objective == "optimum"


def test_max_iter_reports_non_convergence() -> None:
    res = wardrop_equilibrium(pigou(2), method="msa", rgap=1e-12, max_iter=0)
    opt = system_optimum(pigou(2), method="msa", rgap=1e-12, max_iter=3)
    assert not opt.converged and opt.iterations == 3
    assert res.iterations == 0
    assert not routing_price_of_anarchy(pigou(2), method="msa", max_iter=3).exact


# -- TNTP networks (shared data) ------------------------------------------------------------


def _network(shared: Path, folder: str, prefix: str) -> tuple[RoutingGame, np.ndarray]:
    base = shared / "networks" / folder
    game = read_tntp(base / f"{prefix}_net.tntp", base / f"{prefix}_trips.tntp")
    return game, read_tntp_flows(base / f"{prefix}_flow.tntp", game)


def test_sioux_falls(shared_data: Path) -> None:
    game, best = _network(shared_data, "SiouxFalls", "SiouxFalls")
    res = wardrop_equilibrium(game, method="bfw", rgap=1e-5, track_paths=False)
    assert res.converged and res.relative_gap <= 1e-5
    assert res.beckmann == pytest.approx(4_231_335.287, rel=1e-5)
    assert game.beckmann(best) == pytest.approx(4_231_335.287, rel=1e-9)
    assert np.abs(res.link_flows - best).sum() / best.sum() <= 0.01
    # Total travel time of the best-known solution (THEORY.md).
    assert game.social_cost(best) == pytest.approx(7_480_225.34, rel=1e-8)


def test_sioux_falls_price_of_anarchy(shared_data: Path) -> None:
    game, best = _network(shared_data, "SiouxFalls", "SiouxFalls")
    res = routing_price_of_anarchy(game, rgap=1e-5, track_paths=False)
    assert res.worst_equilibrium.converged and res.optimum.converged
    assert res.worst_cost == pytest.approx(game.social_cost(best), rel=1e-3)
    assert res.optimum.objective == "optimum"
    assert res.optimum_cost < res.worst_cost
    # BPR with power 4: the degree-4 Pigou bound holds for every network (THEORY.md).
    assert 1.0 < res.poa <= alpha(4)
    assert not res.exact  # the gaps are 1e-5, not the 1e-8 an exact ratio needs


def test_anaheim(shared_data: Path) -> None:
    game, best = _network(shared_data, "Anaheim", "Anaheim")
    assert len(game.zones) == 38
    res = wardrop_equilibrium(game, method="bfw", rgap=1e-5)
    assert res.converged and res.relative_gap <= 1e-5
    assert res.beckmann == pytest.approx(game.beckmann(best), rel=1e-5)
    assert np.abs(res.link_flows - best).sum() / best.sum() <= 0.01


def test_sioux_falls_path_flows_are_consistent(shared_data: Path) -> None:
    game, _ = _network(shared_data, "SiouxFalls", "SiouxFalls")
    res = wardrop_equilibrium(game, method="cfw", rgap=1e-4)
    assert res.path_flows is not None
    index = {e: i for i, e in enumerate(game.edges)}
    x = np.zeros(game.n_edges)
    for od, paths in res.path_flows.items():
        assert sum(paths.values()) == pytest.approx(game.demands[od], rel=1e-9, abs=1e-9)
        for path, flow in paths.items():
            x[[index[e] for e in path]] += flow
    np.testing.assert_allclose(x, res.link_flows, rtol=1e-9, atol=1e-6)


# -- properties on random instances ---------------------------------------------------------


def _poly(draw: st.DrawFn, degree: int) -> Polynomial:
    # Coefficients are 0 or in [0.01, 3]: the interior-point cross-check (Clarabel) cannot
    # certify optimality when coefficients span hundreds of orders of magnitude.
    coeffs = [draw(st.one_of(st.just(0.0), st.floats(0.01, 3.0))) for _ in range(degree + 1)]
    coeffs[-1] = draw(st.floats(0.05, 3.0))
    return Polynomial(coeffs)


@st.composite
def parallel_instances(draw: st.DrawFn) -> tuple[RoutingGame, int]:
    degree = draw(st.integers(1, 3))
    n = draw(st.integers(2, 5))
    costs = [_poly(draw, draw(st.integers(0, degree))) for _ in range(n - 1)]
    costs.append(_poly(draw, degree))
    demand = draw(st.floats(0.1, 5.0))
    return RoutingGame.parallel_links(costs, demand), degree


@st.composite
def network_instances(draw: st.DrawFn) -> tuple[RoutingGame, int]:
    degree = draw(st.integers(1, 3))
    n = draw(st.integers(3, 6))
    g = nx.DiGraph()
    g.add_nodes_from(range(n))
    for i in range(n - 1):  # a spine guarantees every (i, j > i) pair has a path
        g.add_edge(i, i + 1, cost=_poly(draw, degree))
    extra = draw(
        st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), min_size=3, max_size=10)
    )
    for u, v in extra:
        if u != v and not g.has_edge(u, v):
            g.add_edge(u, v, cost=_poly(draw, draw(st.integers(0, degree))))
    pairs = draw(
        st.lists(
            st.tuples(st.integers(0, n - 2), st.integers(1, n - 1)).filter(lambda p: p[0] < p[1]),
            min_size=1,
            max_size=3,
            unique=True,
        )
    )
    demands = {p: draw(st.floats(0.1, 3.0)) for p in pairs}
    return RoutingGame(g, demands), degree


def _check_wardrop(game: RoutingGame, res_tol: float = 1e-6) -> None:
    res = wardrop_equilibrium(game, method="bfw", rgap=1e-11, max_iter=20000)
    assert res.converged
    assert res.path_flows is not None
    costs = game.link_costs(res.link_flows)
    index = {e: i for i, e in enumerate(game.edges)}
    graph = nx.DiGraph()
    for e, c in zip(game.edges, costs, strict=True):
        u, v = e[0], e[1]
        if not graph.has_edge(u, v) or graph[u][v]["w"] > c:
            graph.add_edge(u, v, w=float(c))
    scale = max(float(costs.max()), 1.0)
    for (o, d), paths in res.path_flows.items():
        shortest = nx.dijkstra_path_length(graph, o, d, weight="w")
        demand = game.demands[(o, d)]
        assert sum(paths.values()) == pytest.approx(demand, rel=1e-9)
        for path, flow in paths.items():
            cost = float(sum(costs[index[e]] for e in path))
            assert cost >= shortest - 1e-9 * scale
            if flow >= 1e-4 * demand:  # a used path costs the minimum (equal-cost condition)
                assert cost == pytest.approx(shortest, abs=res_tol * scale)


@settings(max_examples=25, deadline=None)
@given(parallel_instances())
def test_parallel_links_equal_cost_on_used_links(instance: tuple[RoutingGame, int]) -> None:
    _check_wardrop(instance[0])


@settings(max_examples=25, deadline=None)
@given(network_instances())
def test_networks_equal_cost_on_used_paths(instance: tuple[RoutingGame, int]) -> None:
    _check_wardrop(instance[0])


@settings(max_examples=25, deadline=None)
@given(st.one_of(parallel_instances(), network_instances()))
def test_poa_never_exceeds_pigou_bound(instance: tuple[RoutingGame, int]) -> None:
    game, degree = instance
    res = routing_price_of_anarchy(game, rgap=1e-10, max_iter=20000)
    assert 1.0 <= res.poa <= alpha(degree) + 1e-6
    assert res.exact == (
        max(res.worst_equilibrium.relative_gap, res.optimum.relative_gap) <= EXACT_GAP
    )


@settings(max_examples=10, deadline=None)
@given(network_instances())
def test_bfw_agrees_with_convex_program(instance: tuple[RoutingGame, int]) -> None:
    game = instance[0]
    fw = system_optimum(game, rgap=1e-10, max_iter=20000)
    cvx = system_optimum(game, method="convex")
    # Clarabel stops at absolute tolerances: allow 1e-5 relative on small totals.
    assert fw.total_cost == pytest.approx(cvx.total_cost, rel=1e-5, abs=1e-9)


# -- building blocks ------------------------------------------------------------------------


def test_all_or_nothing_picks_cheapest_parallel_edge() -> None:
    g = nx.MultiDiGraph()
    g.add_edge("s", "t", key=0, cost=3.0)
    g.add_edge("s", "t", key=1, cost=1.0)
    g.add_edge("s", "t", key=2, cost=2.0)
    game = RoutingGame(g, {("s", "t"): 2.0})
    aon = AllOrNothing(game.network)
    y = aon(game.link_costs(np.zeros(3)))
    np.testing.assert_allclose(y.link_flows, [0.0, 2.0, 0.0])
    assert aon.paths(y) == [(1,)]


def test_all_or_nothing_with_zero_cost_edges_and_many_origins() -> None:
    # A chain of zero-cost edges: distance ties between parents and children.
    g = nx.DiGraph()
    for i in range(6):
        g.add_edge(i, i + 1, cost=0.0)
    demands = {(0, 6): 1.0, (2, 5): 2.0, (3, 4): 4.0}
    game = RoutingGame(g, demands)
    y = AllOrNothing(game.network)(np.zeros(6)).link_flows
    np.testing.assert_allclose(y, [1.0, 1.0, 3.0, 7.0, 3.0, 1.0])


def _both_loadings(game: RoutingGame, costs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    aon = AllOrNothing(game.network, kernel="numpy")  # the NumPy kernel's two loaders
    y = aon(costs)
    return (
        aon._load_by_walking(y.predecessors, y.pair_edge),
        aon._load_by_doubling(y.predecessors, y.pair_edge),
    )


@settings(max_examples=40, deadline=None)
@given(network_instances(), st.integers(0, 2**32 - 1))
def test_walking_and_doubling_load_the_same_trees(
    instance: tuple[RoutingGame, int], seed: int
) -> None:
    game = instance[0]
    flows = np.random.default_rng(seed).uniform(0, 3, game.n_edges)
    walk, doubling = _both_loadings(game, game.link_costs(flows))
    np.testing.assert_allclose(walk, doubling, rtol=1e-12, atol=1e-12)
    # Every OD demand leaves its origin once: the origin's out-flow is its demand.
    assert walk.sum() >= sum(game.demands.values()) - 1e-9


@pytest.mark.parametrize("name", ["Chicago-Sketch", "Winnipeg", "Barcelona"])
def test_walking_and_doubling_agree_on_city_networks(shared_data: Path, name: str) -> None:
    folder = shared_data / "networks" / name
    game = read_tntp(next(folder.glob("*_net.tntp")), next(folder.glob("*_trips.tntp")))
    walk, doubling = _both_loadings(game, game.link_costs(np.zeros(game.n_edges)))
    np.testing.assert_allclose(walk, doubling, rtol=1e-10, atol=1e-9 * doubling.max())


def test_line_search_handles_infinite_slopes() -> None:
    # phi'(lam) = lam - 0.3 below 0.5 and +inf beyond (an M/M/1 capacity).
    res = exact_line_search(lambda lam: lam - 0.3 if lam < 0.5 else math.inf)
    assert res.step == pytest.approx(0.3, abs=1e-12)
    assert exact_line_search(lambda lam: lam - 2.0).step == 1.0
    assert exact_line_search(lambda lam: 1.0 + lam).step == 0.0


# -- bad input ------------------------------------------------------------------------------


def test_bad_arguments() -> None:
    with pytest.raises(GameError, match=r"method must be one of"):
        wardrop_equilibrium(pigou(), method="newton")  # type: ignore[arg-type]
    with pytest.raises(GameError, match=r"rgap must be a number in \[0, 1\)"):
        system_optimum(pigou(), rgap=-1.0)
    with pytest.raises(GameError, match=r"max_iter must be a nonnegative integer"):
        wardrop_equilibrium(pigou(), max_iter=-5)
    with pytest.raises(GameError, match=r"game must be a RoutingGame"):
        wardrop_equilibrium("pigou")  # type: ignore[arg-type]


def test_convex_rejects_costs_it_cannot_express() -> None:
    game = RoutingGame.parallel_links([Tabulated([0.0, 1.0], [1.0, 2.0]), Affine(1.0, 1.0)], 1.0)
    assert wardrop_equilibrium(game, rgap=1e-10).converged
    with pytest.raises(GameError, match=r"method='convex' handles .* edge \('s', 't', 0\)"):
        wardrop_equilibrium(game, method="convex")


def test_mm1_game_solvers_never_exceed_capacity() -> None:
    game = RoutingGame.parallel_links([MM1(1.0), MM1(1.0), Affine(2.0, 1.0)], 1.5)
    res = system_optimum(game, rgap=1e-10)
    assert res.converged
    assert np.all(res.link_flows[:2] < 1.0)
