"""Marginal-cost tolls restore the optimum; omega read as a toll; the tolled router."""

from __future__ import annotations

import numpy as np
import pytest

from gametheory.costs import BPR, Affine, Constant
from gametheory.errors import GameError
from gametheory.games.affinity.game import AffinityRoutingGame
from gametheory.games.library import mm1_parallel_links, pigou
from gametheory.solvers.affinity.optimum import affinity_optimum
from gametheory.solvers.affinity.routers import kv_router
from gametheory.solvers.affinity.tolls import (
    marginal_cost_router,
    nonatomic_version,
    omega_as_toll,
    switched_kv_router,
)
from gametheory.solvers.network.tolls import marginal_cost_tolls

PIGOU_OPTIMUM = {1: 0.75, 2: 0.615100, 3: 0.527530, 4: 0.465008}  # THEORY.md section 6


@pytest.mark.parametrize("d", [1, 2, 3, 4])
def test_tolls_restore_the_pigou_optimum(d: int) -> None:
    res = marginal_cost_tolls(pigou(d))
    assert res.equilibrium_cost == pytest.approx(1.0, abs=1e-6)
    assert res.optimum_cost == pytest.approx(PIGOU_OPTIMUM[d], abs=1e-6)
    assert res.tolled_cost == pytest.approx(PIGOU_OPTIMUM[d], abs=1e-6)
    assert res.restores_optimum and res.converged
    # Toll on the x^d link: x* c'(x*) = d x*^d with x* = (d + 1)^(-1/d).
    x_star = (d + 1) ** (-1 / d)
    assert res.tolls.tolist() == pytest.approx([0.0, d * x_star**d], abs=1e-6)
    assert res.max_flow_error < 1e-5


def test_tolls_on_mm1_links() -> None:
    res = marginal_cost_tolls(mm1_parallel_links([4.0, 1.0], 3.0))
    assert res.equilibrium_cost == pytest.approx(3.0, abs=1e-6)
    assert res.tolled_cost == pytest.approx(2.5, abs=1e-6)
    assert res.tolled_flows.tolist() == pytest.approx([8 / 3, 1 / 3], abs=1e-5)


def test_tolls_on_the_fluid_affinity_game() -> None:
    g = AffinityRoutingGame.synthetic(
        [BPR(1, 12, alpha=1, beta=4), BPR(1, 8, alpha=1, beta=4), Affine(2, 0.1)], 60, seed=0
    )
    fluid = nonatomic_version(g)
    assert fluid.total_demand == pytest.approx(60.0)
    res = marginal_cost_tolls(fluid)
    assert res.restores_optimum
    assert res.equilibrium_cost > res.optimum_cost * 1.05
    assert nonatomic_version(g, demand=10.0).total_demand == pytest.approx(10.0)
    with pytest.raises(GameError, match="RoutingGame"):
        marginal_cost_tolls(g)  # type: ignore[arg-type]


def test_marginal_cost_router_balances_past_the_knee() -> None:
    g = AffinityRoutingGame.synthetic(
        [BPR(1, 12, alpha=1, beta=4)] * 3, 60, n_groups=3, prefix_blocks=8, block_time=0.1, seed=0
    )
    opt = affinity_optimum(g).social_cost
    tolled = marginal_cost_router(g)
    assert tolled.method == "marginal-cost router"
    assert tolled.social_cost / opt < 1.02
    assert tolled.social_cost <= kv_router(g, omega=8.0, seed=0).social_cost


def test_omega_toll_for_affine_latency_is_half_the_selfish_one() -> None:
    # c(k) = 1 + 2k: F = k + 2k^2, second difference 4, first difference of c is 2.
    g = AffinityRoutingGame([Affine(1, 2)] * 2, [6.0], [(0, 2)] * 4, block_time=0.5)
    res = omega_as_toll(g, [1, 3, 7], omega_below=10.0, omega_above=0.5, knee=4)
    scale = 0.5 * 8.0
    assert res.omega_toll.tolist() == pytest.approx([scale / 4] * 3)
    assert res.omega_selfish.tolist() == pytest.approx([scale / 2] * 3)
    assert res.omega_switch.tolist() == [10.0, 10.0, 0.5]
    assert res.log_error.tolist() == pytest.approx([np.log(10.0), np.log(10.0), abs(np.log(0.5))])


def test_omega_toll_falls_past_the_knee_and_is_infinite_when_flat() -> None:
    g = AffinityRoutingGame([BPR(1, 10, alpha=1, beta=4)], [8.0], [(0, 1)] * 3)
    res = omega_as_toll(g, [1, 5, 10, 20], omega_below=50.0, omega_above=0.5, knee=10)
    assert np.all(np.diff(res.omega_toll) < 0)
    assert np.all(res.omega_toll <= res.omega_selfish)
    flat = AffinityRoutingGame([Constant(1.0)], [8.0], [(0, 1)])
    inf = omega_as_toll(flat, [1, 2], omega_below=np.inf, omega_above=1.0, knee=2)
    assert np.isinf(inf.omega_toll).all() and inf.log_error[0] == 0.0
    with pytest.raises(GameError, match="loads"):
        omega_as_toll(g, [0.5], omega_below=1.0, omega_above=1.0, knee=1.0)
    with pytest.raises(GameError, match="worker"):
        omega_as_toll(g, [1], omega_below=1.0, omega_above=1.0, knee=1.0, worker=3)


def test_switched_router_gets_both_regimes() -> None:
    g = AffinityRoutingGame.synthetic(
        [BPR(1.0, 6, alpha=1.0, beta=4.0)] * 5,
        60,
        n_groups=5,
        prefix_blocks=8,
        suffix_blocks=1,
        block_time=0.1,
        seed=0,
    )
    for n in (10, 60):
        h = g.first(n)
        opt = affinity_optimum(h).social_cost
        sticky = kv_router(h, omega=30.0, seed=0).social_cost / opt
        spread = kv_router(h, omega=0.5, seed=0).social_cost / opt
        switched = (
            switched_kv_router(h, omega_below=30.0, omega_above=0.5, knee=4, seed=0).social_cost
            / opt
        )
        assert switched <= min(sticky, spread) + 0.01
    out = switched_kv_router(g, omega_below=30.0, omega_above=0.5, knee=4, seed=0)
    weights = out.decisions.groupby("decision")["prefill_weight"].first().to_numpy()
    # Weight 30 until 4 requests per worker (20 placed), 0.5 from then on.
    assert weights[:20].tolist() == [30.0] * 20 and set(weights[20:]) == {0.5}
    assert "switched kv router" in out.method
    with pytest.raises(GameError, match="knee"):
        switched_kv_router(g, omega_below=1.0, omega_above=1.0, knee=0)
    with pytest.raises(GameError, match="temperatures"):
        switched_kv_router(g, omega_below=1.0, omega_above=1.0, knee=2, temperature_above=-1)
