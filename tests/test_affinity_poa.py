"""PoA of equilibria and routers on the affinity game; the regime change over load."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from gametheory.costs import BPR, Affine
from gametheory.errors import GameError
from gametheory.games.affinity.game import AffinityRoutingGame
from gametheory.solvers.affinity.optimum import enumerate_optimum
from gametheory.solvers.affinity.poa import (
    affinity_poa_curve,
    outcome_poa,
    plot_affinity_poa_curve,
    standard_outcomes,
)
from gametheory.solvers.affinity.routers import round_robin_router
from gametheory.solvers.common.enumeration import pure_equilibria


def regime_game(n: int = 60) -> AffinityRoutingGame:
    return AffinityRoutingGame.synthetic(
        [BPR(1, 12, alpha=1, beta=4)] * 3,
        n,
        n_groups=3,
        prefix_blocks=8,
        suffix_blocks=1,
        block_time=0.1,
        seed=0,
    )


def test_outcome_poa_with_worst_equilibrium_on_a_small_game() -> None:
    g = AffinityRoutingGame.synthetic([Affine(1, 1), Affine(0, 2), BPR(1, 2)], 6, seed=5)
    res = outcome_poa(g, worst_equilibrium=True)
    opt = enumerate_optimum(g)
    eq_costs = [g.social_cost(p) for p in pure_equilibria(g)]
    assert res.exact and res.optimum_cost == pytest.approx(opt.social_cost)
    assert res.ratios["worst equilibrium"] == pytest.approx(max(eq_costs) / opt.social_cost)
    assert res.ratios["best equilibrium"] == pytest.approx(min(eq_costs) / opt.social_cost)
    expected = {
        "best-response dynamics",
        "kv router",
        "cache-aware router",
        "round robin",
        "least loaded",
        "worst equilibrium",
        "best equilibrium",
    }
    assert set(res.ratios) == expected
    assert all(r >= 1 - 1e-9 for r in res.ratios.values())
    # The dynamics end at a pure equilibrium, so between the best and the worst one.
    dyn = res.ratios["best-response dynamics"]
    assert res.ratios["best equilibrium"] - 1e-9 <= dyn <= res.ratios["worst equilibrium"] + 1e-9
    assert res.upper_ratios == pytest.approx(res.ratios)


def test_outcome_poa_accepts_named_profiles() -> None:
    g = regime_game(12)
    rr = round_robin_router(g)
    res = outcome_poa(g, {"rr": rr, "all on 0": np.zeros(12, dtype=np.int64)})
    assert res.costs["rr"] == pytest.approx(rr.social_cost)
    assert res.ratios["all on 0"] == pytest.approx(g.social_cost(np.zeros(12)) / res.optimum_cost)


def test_worst_equilibrium_needs_one() -> None:
    overlap = np.array([[0.0, 1.5], [0.0, 0.0]])
    g = AffinityRoutingGame(
        [Affine(0, 1)] * 2, [0.0], [(0, 2), (0, 2)], model="overlap", overlap=overlap
    )
    with pytest.raises(GameError, match="no pure Nash equilibrium"):
        outcome_poa(g, {"x": [0, 0]}, worst_equilibrium=True)


def test_poa_curve_shows_the_regime_change() -> None:
    res = affinity_poa_curve(regime_game(), [6, 15, 60])
    affinity = res.ratios["cache-aware router"]
    balance = res.ratios["least loaded"]
    # Below saturation following the cache is (nearly) free and balancing wastes prefills.
    assert affinity[0] < 1.02 and balance[0] > 1.15
    # Past the knee piling a group on one worker is costly and balancing is near-optimal.
    assert affinity[-1] > 2.0 and balance[-1] < 1.02
    assert np.all(res.ratios["best-response dynamics"] < 1.1)
    assert np.all(res.gaps < 1e-6)
    assert res.loads.tolist() == [6, 15, 60]
    assert np.all(np.diff(res.optimum_costs) > 0)


def test_poa_curve_with_custom_outcomes_and_plot() -> None:
    g = regime_game(20)
    res = affinity_poa_curve(g, [5, 20], outcomes=lambda h: {"rr": round_robin_router(h)})
    assert list(res.ratios) == ["rr"]
    ax = plot_affinity_poa_curve(res)
    assert len(ax.lines) == 2  # the curve and the y = 1 reference
    assert ax.get_ylabel() == "social cost / optimum"
    with pytest.raises(GameError, match="loads"):
        affinity_poa_curve(g, [])
    with pytest.raises(GameError, match=r"loads must be request counts in 1\.\.20"):
        affinity_poa_curve(g, [5, 21])


def test_standard_outcomes_names() -> None:
    outs = standard_outcomes(regime_game(10), omega=2.0, temperature=0.5, seed=1)
    assert list(outs) == [
        "best-response dynamics",
        "kv router",
        "cache-aware router",
        "round robin",
        "least loaded",
    ]


def test_library_price_of_anarchy_agrees_on_the_affinity_game() -> None:
    from gametheory.solvers.poa import price_of_anarchy

    g = AffinityRoutingGame.synthetic([Affine(1, 1), Affine(0, 2), BPR(1, 2)], 6, seed=5)
    ours = outcome_poa(g, worst_equilibrium=True, seed=0)
    lib = price_of_anarchy(g)
    assert lib.exact
    assert lib.poa == pytest.approx(ours.ratios["worst equilibrium"])
    assert lib.pos == pytest.approx(ours.ratios["best equilibrium"])
    assert lib.poa == pytest.approx(1.305782722, rel=1e-8)


def test_poa_curve_over_arrival_rate_with_a_game_builder() -> None:
    g = regime_game(40)
    window = 2.0  # requests present = rate x window

    def at_rate(rate: float) -> AffinityRoutingGame:
        return g.first(round(rate * window))

    by_rate = affinity_poa_curve(at_rate, [5.0, 20.0], seed=0)
    by_count = affinity_poa_curve(g, [10, 40], seed=0)
    assert by_rate.loads.tolist() == [5.0, 20.0]
    for name, values in by_count.ratios.items():
        assert by_rate.ratios[name] == pytest.approx(values)
    assert "built at each load level" in by_rate.method
    ax = plot_affinity_poa_curve(by_rate, xlabel="arrival rate (requests/s)")
    assert ax.get_xlabel() == "arrival rate (requests/s)"
    with pytest.raises(GameError, match="returned"):
        affinity_poa_curve(lambda r: None, [1.0])  # type: ignore[arg-type,return-value]
    with pytest.raises(GameError, match="finite"):
        affinity_poa_curve(at_rate, [float("nan")])
