"""Affinity optimum: MILP equals enumeration, nothing beats it, early stops report a gap."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gametheory.costs import BPR, MM1, Affine, Polynomial, Shared, Tabulated
from gametheory.errors import GameError, SolverError
from gametheory.games.affinity.game import AffinityRoutingGame
from gametheory.solvers.affinity.optimum import affinity_optimum, enumerate_optimum, milp_optimum
from gametheory.solvers.affinity.routers import (
    cache_aware_router,
    kv_router,
    least_loaded_router,
    round_robin_router,
)
from gametheory.solvers.common.best_response import best_response_dynamics
from gametheory.solvers.common.enumeration import pure_equilibria


@st.composite
def small_games(draw: st.DrawFn) -> AffinityRoutingGame:
    m = draw(st.integers(2, 3))
    n = draw(st.integers(2, 6))
    n_groups = draw(st.integers(1, 3))
    coeffs = st.floats(0.0, 3.0, allow_nan=False)
    workers = [Polynomial([draw(coeffs), draw(coeffs), draw(coeffs)]) for _ in range(m)]
    prefix = [draw(st.floats(0.0, 12.0)) for _ in range(n_groups)]
    requests = [(draw(st.integers(0, n_groups - 1)), draw(st.floats(0.0, 3.0))) for _ in range(n)]
    block_time = draw(st.floats(0.1, 2.0))
    if draw(st.booleans()):
        return AffinityRoutingGame(workers, prefix, requests, block_time=block_time)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    prompt = np.array([prefix[g] + s for g, s in requests])
    v = rng.uniform(0, 1, (n, n)) * (prompt / n)[:, None]
    np.fill_diagonal(v, 0.0)
    return AffinityRoutingGame(
        workers, prefix, requests, block_time=block_time, model="overlap", overlap=v
    )


def close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-6 * max(1.0, abs(a), abs(b))


@settings(max_examples=40, deadline=None)
@given(small_games())
def test_milp_equals_enumeration_and_nothing_beats_it(game: AffinityRoutingGame) -> None:
    exact = enumerate_optimum(game)
    milp = milp_optimum(game, time_limit=20)
    assert milp.exact
    assert close(milp.social_cost, exact.social_cost)
    assert milp.profile is not None
    assert close(game.social_cost(milp.profile), milp.social_cost)
    assert milp.lower_bound <= milp.social_cost + 1e-9
    outcomes = [
        kv_router(game, seed=0).social_cost,
        kv_router(game, omega=3.0, temperature=1.0, seed=0).social_cost,
        cache_aware_router(game).social_cost,
        round_robin_router(game).social_cost,
        least_loaded_router(game).social_cost,
        *(game.social_cost(p) for p in pure_equilibria(game)),
    ]
    if game.has_potential:
        outcomes.append(best_response_dynamics(game).social_cost)
    tol = 1e-9 * max(1.0, exact.social_cost)
    assert all(c >= exact.social_cost - tol for c in outcomes)


def test_known_optimum_of_a_symmetric_instance() -> None:
    # Two identical affine workers c(k) = k, one group of prefix 10, four requests with
    # no suffix. All on one worker: 4 * 4 + 10 = 26; split 2/2: 2*2*2 + 20 = 28;
    # 3/1: 9 + 1 + 20 = 30. The optimum keeps the group together.
    g = AffinityRoutingGame([Affine(0, 1)] * 2, [10.0], [(0, 0)] * 4)
    for res in (enumerate_optimum(g), milp_optimum(g)):
        assert res.social_cost == pytest.approx(26.0)
        assert res.exact and res.lower_bound == pytest.approx(26.0)
    # A steeper latency splits the group: c(k) = 3k: together 48 + 10, split 24 + 20.
    h = AffinityRoutingGame([Affine(0, 3)] * 2, [10.0], [(0, 0)] * 4)
    assert milp_optimum(h).social_cost == pytest.approx(44.0)


def test_nonconvex_and_capacitated_load_costs() -> None:
    # A decreasing tabulated curve (k c(k) is not convex: one-hot formulation) and an
    # M/M/1 worker that cannot take three requests.
    tab = Tabulated([0, 1, 2, 3, 4], [0.0, 5.0, 2.0, 1.5, 1.4])
    g = AffinityRoutingGame(
        [tab, MM1(2.5), Shared(0.0) + Affine(1, 0)],
        [3.0, 1.0],
        [(0, 1), (0, 0), (1, 2), (1, 0), (0, 1)],
    )
    exact = enumerate_optimum(g)
    milp = milp_optimum(g)
    assert "one-hot" in milp.method
    assert milp.social_cost == pytest.approx(exact.social_cost)
    assert np.bincount(milp.profile, minlength=3)[1] <= 2  # type: ignore[arg-type]


def test_time_limit_reports_incumbent_and_bound() -> None:
    rng = np.random.default_rng(0)
    n = 40
    v = rng.uniform(0, 1, (n, n))
    v = (v + v.T) / 2
    np.fill_diagonal(v, 0.0)
    g = AffinityRoutingGame([Affine(0, 1)] * 5, [40.0], [(0, 2)] * n, model="overlap", overlap=v)
    res = milp_optimum(g, time_limit=0.5)
    assert res.lower_bound <= res.social_cost
    assert res.profile is not None
    assert res.social_cost == pytest.approx(g.social_cost(res.profile))
    if not res.exact:
        assert res.status == "user_limit" and res.gap > 0


def test_auto_method_and_errors() -> None:
    g = AffinityRoutingGame.synthetic([BPR(1, 2)] * 3, 5, seed=1)
    assert "enumeration" in affinity_optimum(g).method
    assert "MILP" in affinity_optimum(g, method="milp").method
    with pytest.raises(GameError, match="method"):
        affinity_optimum(g, method="greedy")  # type: ignore[arg-type]
    with pytest.raises(GameError, match="time_limit"):
        milp_optimum(g, time_limit=0)
    big = AffinityRoutingGame.synthetic([BPR(1, 2)] * 5, 12, seed=1)
    with pytest.raises(GameError, match="exceed"):
        enumerate_optimum(big)
    full = AffinityRoutingGame([MM1(1.5)] * 2, [1.0], [(0, 0)] * 3)
    with pytest.raises(SolverError, match="overload"):
        milp_optimum(full)
    with pytest.raises(SolverError, match="infinite"):
        enumerate_optimum(full)
    n = 1000  # 499,500 pairs x 5 workers > 2,000,000 rows
    dense = np.full((n, n), 0.001)
    np.fill_diagonal(dense, 0.0)
    crowd = AffinityRoutingGame(
        [Affine(0, 1)] * 5, [2.0], [(0, 1)] * n, model="overlap", overlap=dense
    )
    with pytest.raises(GameError, match="co-location rows"):
        milp_optimum(crowd)
