"""Selfish caching (Chun et al. 2004): THEORY.md instances, closed forms, MILPs vs enumeration."""

from __future__ import annotations

import itertools
from typing import Literal

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gametheory.bounds import caching as bounds
from gametheory.errors import GameError
from gametheory.games import library
from gametheory.games.caching.selfish import SelfishCachingGame
from gametheory.solvers.caching.selfish import (
    caching_best_response_dynamics,
    caching_equilibria,
    caching_regrets,
    greedy_equilibrium,
    is_caching_equilibrium,
)
from gametheory.solvers.caching.selfish_optimum import (
    caching_extreme_equilibrium,
    caching_optimum,
    caching_price_of_anarchy,
    check_cache_paradox,
)
from gametheory.solvers.common.enumeration import pure_equilibria


def _holders(placement: np.ndarray) -> list[int]:
    return [int(i) for i in np.flatnonzero(placement[:, 0])]


@pytest.mark.parametrize("method", ["milp", "enumeration"])
def test_k6_equilibrium_equals_optimum(method: Literal["milp", "enumeration"]) -> None:
    res = caching_price_of_anarchy(library.selfish_caching_k6(), method=method)
    assert res.worst_cost == pytest.approx(7.0)
    assert res.best_cost == pytest.approx(7.0)
    assert res.optimum_cost == pytest.approx(7.0)
    assert res.poa == pytest.approx(1.0) and res.pos == pytest.approx(1.0)
    if method == "enumeration":
        assert res.n_equilibria == 6  # one replica, at any of the six nodes


@pytest.mark.parametrize("method", ["milp", "enumeration"])
def test_star_theory_instance(method: Literal["milp", "enumeration"]) -> None:
    res = caching_price_of_anarchy(library.selfish_caching_star(), method=method)
    assert res.optimum_cost == pytest.approx(5.9)
    assert res.worst_cost == pytest.approx(8.6)
    assert res.best_cost == pytest.approx(5.9)
    assert _holders(res.optimum.placement) == [0]
    assert _holders(res.worst_equilibrium.placement) == [1, 2, 3, 4]
    assert res.poa == pytest.approx(bounds.star_poa(5, 1.9))


@pytest.mark.parametrize("method", ["milp", "enumeration"])
def test_line_theory_instance(method: Literal["milp", "enumeration"]) -> None:
    res = caching_price_of_anarchy(library.selfish_caching_line(), method=method)
    assert res.optimum_cost == pytest.approx(52.0)
    assert _holders(res.optimum.placement) == [3, 10]
    assert res.worst_cost == pytest.approx(105.0)
    assert _holders(res.worst_equilibrium.placement) in ([0], [13])
    assert res.best_cost == pytest.approx(63.0)
    assert _holders(res.best_equilibrium.placement) in ([6], [7])
    assert (res.worst_cost, res.best_cost, res.optimum_cost) == bounds.line_costs(14, 14)


@pytest.mark.parametrize("n", [3, 6, 9])
def test_star_closed_form_matches_milp(n: int) -> None:
    game = SelfishCachingGame.star(n, placement_cost=1.5)
    res = caching_price_of_anarchy(game)
    assert res.poa == pytest.approx(bounds.star_poa(n, 1.5))
    assert res.pos == pytest.approx(bounds.star_pos(n, 1.5))
    expr = bounds.star_poa_expr()
    values = {"n": n, "alpha": 1.5}
    assert float(expr.subs({s: values[s.name] for s in expr.free_symbols})) == pytest.approx(
        res.poa
    )


@pytest.mark.parametrize(("n", "alpha"), [(4, 0.5), (5, 1.0), (7, 3.0)])
def test_complete_graph_closed_form(n: int, alpha: float) -> None:
    res = caching_price_of_anarchy(SelfishCachingGame.complete(n, placement_cost=alpha))
    assert res.worst_cost == pytest.approx(bounds.complete_graph_equilibrium_cost(n, alpha))
    assert res.poa == pytest.approx(bounds.complete_graph_poa(n, alpha))
    assert res.pos == pytest.approx(1.0)


@pytest.mark.parametrize("n", [5, 8, 11])
def test_line_closed_form_matches_milp(n: int) -> None:
    res = caching_price_of_anarchy(SelfishCachingGame.line(n, placement_cost=float(n)))
    worst, best, opt = bounds.line_costs(n, n)
    assert (res.worst_cost, res.best_cost, res.optimum_cost) == pytest.approx((worst, best, opt))
    assert res.poa == pytest.approx(bounds.line_poa(n, n))
    assert res.pos == pytest.approx(bounds.line_pos(n, n))


def test_line_growth_sqrt_n_over_two() -> None:
    ratios = [bounds.line_poa(n, n) / bounds.line_poa_growth(n) for n in (100, 10_000)]
    assert abs(ratios[1] - 1.0) < abs(ratios[0] - 1.0) < 0.05
    expr = bounds.line_poa_growth_expr()
    assert float(expr.subs(dict.fromkeys(expr.free_symbols, 400))) == pytest.approx(10.0)


def test_closed_forms_reject_out_of_range() -> None:
    with pytest.raises(GameError, match="arm < alpha < 2 arm"):
        bounds.star_poa(5, 2.5)
    with pytest.raises(GameError, match="alpha > n - 1"):
        bounds.line_costs(14, 5)
    with pytest.raises(GameError, match="integer"):
        bounds.line_poa(2.5, 3)  # type: ignore[arg-type]


def test_cache_paradox_instance() -> None:
    before, after = library.cache_paradox()
    res = check_cache_paradox(before, after)
    assert res.paradox
    assert res.before_worst_cost == pytest.approx(12.0)
    assert res.before_best_cost == pytest.approx(12.0)
    assert res.after_best_cost == pytest.approx(27.5)
    assert res.after_worst_cost == pytest.approx(27.5)
    assert res.after_best_cost_original_nodes == pytest.approx(26.5)
    assert res.after_optimum_cost == pytest.approx(13.0)
    assert res.added_nodes == (2,)
    # without the new node's cheap cache, no paradox: compare a game with itself extended
    # by a node that never caches and has no demand
    inert = before.with_node([2.5, 1.5], demand=0.0, placement_cost=5.0, origin_distance=20.0)
    assert not check_cache_paradox(before, inert).paradox


def test_cache_paradox_rejects_non_extension() -> None:
    before, after = library.cache_paradox()
    with pytest.raises(GameError, match="more nodes"):
        check_cache_paradox(after, before)
    other = SelfishCachingGame.line(3, placement_cost=1.0)
    with pytest.raises(GameError, match="differ in demand"):
        check_cache_paradox(before, other)


# ------------------------------------------------------------- random instances


@st.composite
def caching_games(draw: st.DrawFn) -> SelfishCachingGame:
    n = draw(st.integers(2, 6))
    m = draw(st.integers(1, 2))
    coord = st.integers(0, 6)
    pts = np.array([[draw(coord), draw(coord)] for _ in range(n)], dtype=float)
    d = np.abs(pts[:, None, :] - pts[None, :, :]).sum(axis=2)  # Manhattan: a metric
    small = st.integers(0, 8)
    w = np.array([[draw(small) for _ in range(m)] for _ in range(n)], dtype=float) / 2
    alpha = np.array([[draw(small) for _ in range(m)] for _ in range(n)], dtype=float)
    origin = draw(st.sampled_from([np.inf, 5.0, 12.0]))
    return SelfishCachingGame(d, w, alpha, origin_distance=origin)


def _brute_force(game: SelfishCachingGame) -> tuple[float, float, float]:
    """Worst NE, best NE and optimum by listing every placement of every object."""
    n = game.n_nodes
    worst = best = opt = 0.0
    for o in range(game.n_objects):
        sub = game.object_subgame(o)
        costs, eq = [], []
        for bits in itertools.product([False, True], repeat=n):
            x = np.array(bits)[:, None]
            costs.append(sub.total_cost(x))
            eq.append(is_caching_equilibrium(sub, x))
        c = np.array(costs)
        worst += c[eq].max()
        best += c[eq].min()
        opt += c.min()
    return worst, best, opt


@settings(max_examples=25, deadline=None)
@given(caching_games())
def test_milp_extremes_agree_with_enumeration(game: SelfishCachingGame) -> None:
    enum = caching_equilibria(game)
    worst = caching_extreme_equilibrium(game, "worst")
    best = caching_extreme_equilibrium(game, "best")
    opt = caching_optimum(game)
    assert worst.social_cost == pytest.approx(enum.worst.social_cost)
    assert best.social_cost == pytest.approx(enum.best.social_cost)
    assert (worst.social_cost, best.social_cost, opt.social_cost) == pytest.approx(
        _brute_force(game)
    )
    assert worst.is_equilibrium and best.is_equilibrium and worst.exact and opt.exact
    assert opt.social_cost <= best.social_cost + 1e-9
    for o, sets in enumerate(enum.equilibria):
        for s in sets:
            x = np.zeros((game.n_nodes, game.n_objects), dtype=bool)
            x[:, o] = s
            assert is_caching_equilibrium(game.object_subgame(o), x[:, [o]])


@settings(max_examples=25, deadline=None)
@given(caching_games(), st.integers(0, 2**16))
def test_greedy_and_dynamics_reach_equilibria(game: SelfishCachingGame, seed: int) -> None:
    greedy = greedy_equilibrium(game)
    assert greedy.is_equilibrium and greedy.max_regret == 0.0
    rng = np.random.default_rng(seed)
    start = rng.random((game.n_nodes, game.n_objects)) < 0.5
    dyn = caching_best_response_dynamics(game, start, order="random", seed=seed)
    assert dyn.converged == dyn.is_equilibrium
    if dyn.converged:
        assert not caching_regrets(game, dyn.placement).any()
    enum = caching_equilibria(game)
    assert enum.best.social_cost - 1e-9 <= greedy.social_cost <= enum.worst.social_cost + 1e-9


def test_protocol_agrees_with_placements() -> None:
    game = SelfishCachingGame.line(4, placement_cost=[[1.5, 4.0]] * 4, demand=[[1.0, 2.0]] * 4)
    x = np.array([[True, False], [False, True], [False, False], [True, False]])
    profile = game.placement_to_profile(x)
    assert np.array_equal(game.profile_to_placement(profile), x)
    assert game.costs(profile) == pytest.approx(game.node_costs(x))
    assert game.is_equilibrium(profile) == is_caching_equilibrium(game, x)
    for i in range(4):
        dev = game.deviation_costs(profile, i)
        assert dev[profile[i]] == pytest.approx(game.node_costs(x)[i])
    assert game.max_regret(profile) == pytest.approx(caching_regrets(game, x).sum(axis=1).max())


def test_finite_game_protocol_matches_enumeration() -> None:
    game = SelfishCachingGame.grid(2, 3, placement_cost=[[1.5, 2.5]] * 6)
    profiles = pure_equilibria(game)
    enum = caching_equilibria(game)
    assert len(profiles) == enum.n_equilibria
    found = {tuple(map(tuple, game.profile_to_placement(p).T.astype(int))) for p in profiles}
    expected = set(itertools.product(*(map(tuple, e.astype(int)) for e in enum.equilibria)))
    assert found == expected


def test_dynamics_from_empty_on_star_and_grid() -> None:
    star = caching_best_response_dynamics(SelfishCachingGame.star(6, placement_cost=1.5))
    assert star.converged and star.is_equilibrium
    grid = SelfishCachingGame.grid(3, 4, placement_cost=2.5, n_objects=3)
    res = caching_best_response_dynamics(grid)
    assert res.converged and res.is_equilibrium and res.placement.shape == (12, 3)


# ------------------------------------------------------------------ inputs


def test_graph_input_uses_shortest_paths() -> None:
    g = nx.Graph()
    g.add_weighted_edges_from([("a", "b", 1.0), ("b", "c", 2.0), ("a", "c", 5.0)])
    game = SelfishCachingGame(g, placement_cost=1.0)
    assert game.labels == ["a", "b", "c"]
    assert game.distances[0, 2] == 3.0
    cluster = SelfishCachingGame.cluster(2, 3, placement_cost=1.0, intra=1.0, inter=4.0)
    assert cluster.distances[0, 2] == 1.0 and cluster.distances[0, 3] == 4.0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"distances": [[0, 1], [2, 0]]}, "symmetric"),
        ({"distances": [[0, 1, 5], [1, 0, 1], [5, 1, 0]]}, "triangle"),
        ({"distances": [[0, -1], [-1, 0]]}, "nonnegative"),
        ({"distances": [[1, 1], [1, 0]]}, "zero diagonal"),
        ({"distances": [[0, 1, 2]]}, "square"),
        ({"distances": [[0, 1], [1, 0]], "demand": [-1, 1]}, "demand must be nonnegative"),
        ({"distances": [[0, 1], [1, 0]], "placement_cost": -2}, "placement_cost"),
        ({"distances": [[0, 1], [1, 0]], "placement_cost": np.inf}, "finite"),
        ({"distances": [[0, 1], [1, 0]], "demand": [1, 2, 3]}, "one value per node"),
        ({"distances": [[0, 1], [1, 0]], "origin_distance": -1}, "origin_distance"),
        ({"distances": [[0, np.nan], [np.nan, 0]]}, "NaN"),
    ],
)
def test_bad_input_raises_game_error(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(GameError, match=match):
        SelfishCachingGame(**kwargs)  # type: ignore[arg-type]


def test_bad_graphs_and_directed_distances() -> None:
    g = nx.Graph()
    g.add_nodes_from([0, 1])
    with pytest.raises(GameError, match="not connected"):
        SelfishCachingGame(g)
    g.add_edge(0, 1, weight=-1.0)
    with pytest.raises(GameError, match="nonnegative"):
        SelfishCachingGame(g)
    directed = SelfishCachingGame([[0, 1], [3, 0]], metric=False)
    with pytest.raises(GameError, match="symmetric"):
        greedy_equilibrium(directed)
    game = SelfishCachingGame.line(3, placement_cost=1.0)
    with pytest.raises(GameError, match="shape"):
        game.total_cost([[True, False]])
    with pytest.raises(GameError, match="triangle"):
        game.with_node([0.5, 9.0, 0.5])
