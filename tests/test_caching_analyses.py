"""The analyses of issue 5: PoA = 1 on complete graphs, growth on lines and general metrics,
and the Jupyter renderings of the caching games and results."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gametheory.bounds import caching as bounds
from gametheory.errors import GameError
from gametheory.games import library
from gametheory.games.caching.selfish import SelfishCachingGame
from gametheory.solvers.caching import selfish_optimum as milp
from gametheory.solvers.caching.selfish import (
    caching_equilibria,
    greedy_equilibrium,
    is_caching_equilibrium,
)


@settings(max_examples=20, deadline=None)
@given(
    n=st.integers(2, 7),
    alpha=st.sampled_from([0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 10.0]),
    distance=st.sampled_from([0.5, 1.0, 2.0]),
    demand=st.sampled_from([0.5, 1.0, 3.0]),
    n_objects=st.integers(1, 2),
)
def test_complete_graph_has_poa_one_under_uniform_parameters(
    n: int, alpha: float, distance: float, demand: float, n_objects: int
) -> None:
    game = SelfishCachingGame.complete(
        n, placement_cost=alpha, distance=distance, demand=demand, n_objects=n_objects
    )
    res = milp.caching_price_of_anarchy(game)
    assert res.poa == pytest.approx(1.0) and res.pos == pytest.approx(1.0)
    enum = caching_equilibria(game)
    assert enum.worst.social_cost == pytest.approx(res.optimum_cost)
    # the closed form is for unit demand: scale distances by the demand
    per_object = bounds.complete_graph_equilibrium_cost(n, alpha, distance * demand)
    assert res.optimum_cost == pytest.approx(n_objects * per_object)


def test_line_growth_by_milp_follows_sqrt_n_over_two() -> None:
    # exact (MILP) worst equilibrium / optimum with alpha = n, against sqrt(n) / 2
    expected = {16: (136.0, 64.0), 25: (325.0, 127.0), 36: (666.0, 216.0)}
    for n, (worst, opt) in expected.items():
        res = milp.caching_price_of_anarchy(SelfishCachingGame.line(n, placement_cost=float(n)))
        assert (res.worst_cost, res.optimum_cost) == pytest.approx((worst, opt))
        assert res.poa == pytest.approx(bounds.line_poa(n, n))
        assert 1.0 < res.poa / bounds.line_poa_growth(n) < 1.07


@pytest.mark.parametrize("n", [3, 6, 10, 16])
def test_clique_with_outlier_closed_form_matches_milp(n: int) -> None:
    alpha, spread = 4.0, 0.5
    game = SelfishCachingGame.clique_with_outlier(n, alpha, spread=spread, far=alpha)
    res = milp.caching_price_of_anarchy(game)
    worst, best, opt = bounds.outlier_costs(n, alpha, spread, alpha)
    assert (res.worst_cost, res.best_cost, res.optimum_cost) == pytest.approx((worst, best, opt))
    assert res.worst_cost == pytest.approx(n * alpha)
    assert int(np.flatnonzero(res.worst_equilibrium.placement[:, 0])[-1]) == n - 1
    assert res.poa == pytest.approx(bounds.outlier_poa(n, alpha, spread, alpha))


def test_general_metrics_have_linear_poa() -> None:
    # far = alpha and spread / alpha -> 0: PoA = n alpha / (2 alpha + (n - 2) spread) ~ n / 2
    for n in (10, 100, 1000):
        assert bounds.outlier_poa(n, 1.0, 1e-6, 1.0) == pytest.approx(n / 2, rel=1e-3)
    res = milp.caching_price_of_anarchy(
        SelfishCachingGame.clique_with_outlier(12, 1.0, spread=1e-3, far=1.0)
    )
    assert res.poa == pytest.approx(12 / (2 + 10e-3))
    with pytest.raises(GameError, match="spread <= far <= alpha"):
        bounds.outlier_costs(5, 1.0, 0.5, 2.0)


def test_star_growth_stays_below_alpha_over_arm() -> None:
    values = [bounds.star_poa(n, 1.9) for n in (5, 50, 5000)]
    assert values[0] == pytest.approx(8.6 / 5.9)
    assert values[0] < values[1] < values[2] < 1.9


def test_games_and_results_render_in_jupyter() -> None:
    game = library.selfish_caching_star()
    html = game._repr_html_()
    assert html.startswith("<b>SelfishCachingGame</b>") and "5 nodes, 1 objects" in html
    assert repr(game) == "SelfishCachingGame(n_nodes=5, n_objects=1)"
    greedy = greedy_equilibrium(game)
    table = greedy._repr_html_()
    assert "<caption>PlacementResult</caption>" in table and "is_equilibrium" in table
    assert "social_cost" in str(greedy)
    enum = caching_equilibria(game)
    assert "<caption>CachingEquilibriaResult</caption>" in enum._repr_html_()
    assert enum.n_equilibria == 2
    paradox = milp.check_cache_paradox(*library.cache_paradox())
    assert "<caption>CacheParadoxResult</caption>" in paradox._repr_html_()
    poa = milp.caching_price_of_anarchy(game)
    assert "<caption>PoAResult</caption>" in poa._repr_html_()


@st.composite
def symmetric_games(draw: st.DrawFn) -> SelfishCachingGame:
    """Symmetric distances that need not satisfy the triangle inequality (metric=False)."""
    n = draw(st.integers(2, 6))
    upper = np.array([[draw(st.integers(1, 9)) for _ in range(n)] for _ in range(n)], float)
    d = np.triu(upper, 1)
    d = d + d.T
    w = np.array([draw(st.integers(0, 4)) for _ in range(n)], dtype=float)
    alpha = np.array([draw(st.integers(0, 12)) for _ in range(n)], dtype=float)
    miss = draw(st.sampled_from([np.inf, 6.0]))
    return SelfishCachingGame(d, w, alpha, miss_cost=miss, metric=False)


@settings(max_examples=30, deadline=None)
@given(symmetric_games())
def test_greedy_and_milps_on_symmetric_non_metric_distances(game: SelfishCachingGame) -> None:
    greedy = greedy_equilibrium(game)
    assert greedy.is_equilibrium and is_caching_equilibrium(game, greedy.placement)
    enum = caching_equilibria(game)
    worst = milp.caching_extreme_equilibrium(game, "worst")
    best = milp.caching_extreme_equilibrium(game, "best")
    assert worst.social_cost == pytest.approx(enum.worst.social_cost)
    assert best.social_cost == pytest.approx(enum.best.social_cost)
    assert worst.is_equilibrium and best.is_equilibrium
    assert milp.caching_optimum(game).social_cost <= best.social_cost + 1e-9
    assert best.social_cost - 1e-9 <= greedy.social_cost <= worst.social_cost + 1e-9


def test_miss_cost_is_the_origin_convention() -> None:
    d = [[0.0, 1.0], [1.0, 0.0]]
    game = SelfishCachingGame(d, demand=[10.0, 1.0], placement_cost=[1000.0, 2.0], miss_cost=20.0)
    same = SelfishCachingGame(d, [10.0, 1.0], [1000.0, 2.0], origin_distance=20.0)
    assert np.array_equal(game.origin_distance, same.origin_distance)
    assert game.total_cost([[False], [False]]) == pytest.approx(220.0)  # both miss
    assert SelfishCachingGame(d).total_cost([[False], [False]]) == np.inf  # no origin
    with pytest.raises(GameError, match="at most one"):
        SelfishCachingGame(d, miss_cost=1.0, origin_distance=1.0)
    with pytest.raises(GameError, match="miss_cost must be nonnegative"):
        SelfishCachingGame(d, miss_cost=-1.0)
