"""RoutingGame: construction, cost evaluation, zones and every validation error."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from gametheory.costs import BPR, MM1, Affine, Constant, Polynomial, Shared, Tabulated
from gametheory.errors import GameError
from gametheory.games.library import braess, mm1_parallel_links, pigou
from gametheory.games.network.routing import RoutingGame
from gametheory.solvers.network.wardrop import wardrop_equilibrium


def _line(cost_sv: object = 1.0) -> nx.DiGraph:
    g = nx.DiGraph()
    g.add_edge("s", "v", cost=cost_sv)
    g.add_edge("v", "t", cost=Affine(0.0, 1.0))
    return g


def test_parallel_links_edges_costs_and_potentials() -> None:
    game = RoutingGame.parallel_links([Constant(2.0), Affine(1.0, 3.0)], 4.0)
    assert game.edges == [("s", "t", 0), ("s", "t", 1)]
    x = np.array([1.0, 3.0])
    np.testing.assert_allclose(game.link_costs(x), [2.0, 10.0])
    np.testing.assert_allclose(game.marginal_costs(x), [2.0, 19.0])
    assert game.social_cost(x) == pytest.approx(1 * 2 + 3 * 10)
    assert game.beckmann(x) == pytest.approx(2.0 + (3.0 + 1.5 * 9.0))
    assert game.path_cost([("s", "t", 1)], x) == pytest.approx(10.0)
    assert game.total_demand == 4.0
    assert game.degree == 1.0


def test_numbers_become_constant_costs_and_sum_costs_are_vectorised() -> None:
    g = nx.DiGraph()
    g.add_edge(1, 2, cost=3)
    g.add_edge(2, 3, cost=BPR(2.0, 10.0) + Constant(0.5))
    game = RoutingGame(g, {(1, 3): 5.0})
    x = np.array([5.0, 20.0])
    np.testing.assert_allclose(game.link_costs(x), [3.0, 2.0 * (1 + 0.15 * 16) + 0.5])
    np.testing.assert_allclose(game.link_costs(x), game.cost_vector.value(x))
    np.testing.assert_allclose(game.edge_costs.integral(x), game.cost_vector.integral(x))


def test_library_instances() -> None:
    assert pigou(3).degree == 3.0
    assert braess(True).n_edges == 5 and braess(False).n_edges == 4
    game = mm1_parallel_links([4.0, 1.0], 3.0)
    assert game.feasible_flow is not None
    assert np.all(game.feasible_flow < np.array([4.0, 1.0]))
    assert game.feasible_flow.sum() == pytest.approx(3.0)


def test_zones_are_not_passed_through() -> None:
    # The cheap route 1 -> 2 -> 3 passes through zone 2; the only allowed one is 1 -> 3.
    g = nx.DiGraph()
    g.add_edge(1, 2, cost=1.0)
    g.add_edge(2, 3, cost=1.0)
    g.add_edge(1, 3, cost=Affine(5.0, 1.0))
    game = RoutingGame(g, {(1, 3): 2.0})
    assert game.edges == [(1, 2), (1, 3), (2, 3)]
    free = wardrop_equilibrium(game)
    zoned = wardrop_equilibrium(RoutingGame(g, {(1, 3): 2.0}, zones=[1, 2, 3]))
    np.testing.assert_allclose(free.link_flows, [2.0, 0.0, 2.0])
    np.testing.assert_allclose(zoned.link_flows, [0.0, 2.0, 0.0])
    # A zone is still a valid end point.
    ends = wardrop_equilibrium(RoutingGame(g, {(1, 2): 1.0, (2, 3): 1.0}, zones=[2]))
    np.testing.assert_allclose(ends.link_flows, [1.0, 0.0, 1.0])


def test_intrazonal_demand_costs_nothing() -> None:
    game = RoutingGame(_line(), {("s", "t"): 1.0, ("v", "v"): 7.0})
    res = wardrop_equilibrium(game, rgap=1e-10)
    np.testing.assert_allclose(res.link_flows, [1.0, 1.0])
    assert res.path_flows is not None
    assert res.path_flows[("v", "v")] == {(): 7.0}


def test_negative_demand() -> None:
    with pytest.raises(GameError, match=r"negative"):
        RoutingGame(_line(), {("s", "t"): -1.0})


def test_nonfinite_or_non_numeric_demand() -> None:
    with pytest.raises(GameError, match=r"finite"):
        RoutingGame(_line(), {("s", "t"): float("nan")})
    with pytest.raises(GameError, match=r"number"):
        RoutingGame(_line(), {("s", "t"): "lots"})  # type: ignore[dict-item]


def test_od_node_not_in_graph() -> None:
    with pytest.raises(GameError, match=r"destination 'x' is not a node"):
        RoutingGame(_line(), {("s", "x"): 1.0})
    with pytest.raises(GameError, match=r"origin 'q' is not a node"):
        RoutingGame(_line(), {("q", "t"): 1.0})


def test_bad_demand_key() -> None:
    with pytest.raises(GameError, match=r"\(origin, destination\) pairs"):
        RoutingGame(_line(), {"s": 1.0})  # type: ignore[dict-item]


def test_od_pair_without_path() -> None:
    with pytest.raises(GameError, match=r"\('t', 's'\) has positive demand but no path"):
        RoutingGame(_line(), {("t", "s"): 1.0})
    # Zero demand on a disconnected pair is fine.
    RoutingGame(_line(), {("t", "s"): 0.0})


def test_no_path_because_of_zones() -> None:
    with pytest.raises(GameError, match=r"may not pass through zones"):
        RoutingGame(_line(), {("s", "t"): 1.0}, zones=["v"])


def test_zone_not_in_graph() -> None:
    with pytest.raises(GameError, match=r"zones .* are not nodes"):
        RoutingGame(_line(), {("s", "t"): 1.0}, zones=["nowhere"])


def test_mm1_demand_beyond_capacity() -> None:
    with pytest.raises(GameError, match=r"exceeds the capacity of the M/M/1 links.*infinite"):
        mm1_parallel_links([2.0, 1.0], 3.0)
    with pytest.raises(GameError, match=r"capacity"):
        mm1_parallel_links([2.0, 1.0], 3.5)
    # A network where one path is capacity-limited and another is not is always feasible.
    game = RoutingGame.parallel_links([MM1(1.0), Affine(1.0, 1.0)], 10.0)
    assert game.feasible_flow is not None


def test_mm1_capacity_in_a_network() -> None:
    # Two routes through a shared M/M/1 bottleneck of capacity 3: demand 3 cannot fit.
    g = nx.DiGraph()
    g.add_edge("s", "a", cost=1.0)
    g.add_edge("s", "b", cost=1.0)
    g.add_edge("a", "m", cost=1.0)
    g.add_edge("b", "m", cost=1.0)
    g.add_edge("m", "t", cost=MM1(3.0))
    with pytest.raises(GameError, match=r"at most 1 times the demand"):
        RoutingGame(g, {("s", "t"): 3.0})
    assert RoutingGame(g, {("s", "t"): 2.9}).feasible_flow is not None


def test_shared_costs_rejected() -> None:
    with pytest.raises(GameError, match=r"Shared .* atomic only"):
        RoutingGame(_line(Shared(4.0)), {("s", "t"): 1.0})
    with pytest.raises(GameError, match=r"atomic only"):
        RoutingGame(_line(Shared(4.0) + Constant(1.0)), {("s", "t"): 1.0})


def test_decreasing_cost_rejected() -> None:
    with pytest.raises(GameError, match=r"decreasing"):
        RoutingGame(_line(Tabulated([0.0, 1.0, 2.0], [3.0, 2.0, 1.0])), {("s", "t"): 1.0})


def test_missing_or_bad_cost_attribute() -> None:
    g = nx.DiGraph()
    g.add_edge("s", "t")
    with pytest.raises(GameError, match=r"edge \('s', 't'\) has no 'cost'"):
        RoutingGame(g, {("s", "t"): 1.0})
    with pytest.raises(GameError, match=r"edge \('s', 'v'\).*nonnegative"):
        RoutingGame(_line(-1.0), {("s", "t"): 1.0})
    with pytest.raises(GameError, match=r"stack of shape"):
        RoutingGame(_line(Constant([1.0, 2.0])), {("s", "t"): 1.0})


def test_undirected_graph_rejected() -> None:
    g = nx.Graph()
    g.add_edge("s", "t", cost=1.0)
    with pytest.raises(GameError, match=r"DiGraph"):
        RoutingGame(g, {("s", "t"): 1.0})


def test_bad_flow_vectors() -> None:
    game = pigou()
    with pytest.raises(GameError, match=r"one entry per edge \(2\)"):
        game.social_cost([1.0])
    with pytest.raises(GameError, match=r"nonnegative"):
        game.beckmann([1.0, -2.0])
    with pytest.raises(GameError, match=r"not an edge"):
        game.path_cost([("s", "x")], [0.5, 0.5])


def test_parallel_links_needs_a_link() -> None:
    with pytest.raises(GameError, match=r"at least one link"):
        RoutingGame.parallel_links([], 1.0)
    with pytest.raises(GameError, match=r"degree must be an integer"):
        pigou(0)


def test_polynomial_negative_coefficient_rejected() -> None:
    with pytest.raises(GameError, match=r"nonnegative"):
        RoutingGame.parallel_links([Polynomial([1.0, -1.0])], 1.0)
