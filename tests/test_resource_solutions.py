"""Solution concepts of the P/D resource game: VE, optimum, GNE set, mechanisms, PoA curve."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gametheory.errors import GameError
from gametheory.games.normal_form import NormalFormGame
from gametheory.games.pd.defaults import nemotron_340b_b200
from gametheory.games.pd.resource import PDResourceGame
from gametheory.solvers.pd.continuous import diagonal_strict_concavity, variational_equilibrium
from gametheory.solvers.pd.equilibria import (
    generalized_equilibria,
    pd_social_optimum,
    pd_variational_equilibrium,
)
from gametheory.solvers.pd.mechanisms import (
    claim_game,
    claim_game_poa,
    proportional_share,
    sla_planner,
)
from gametheory.solvers.pd.regimes import pd_poa_curve, plot_pd_poa_curve


@pytest.mark.parametrize("load", [5.0, 30.0, 70.0])
def test_variational_equilibrium_equalises_marginal_gains(load: float) -> None:
    game = PDResourceGame.default(load=load)
    ve = pd_variational_equilibrium(game)
    gains = np.array([ve.details["gain_per_gpu_prefill"], ve.details["gain_per_gpu_decode"]])
    assert np.all(gains > 0)
    np.testing.assert_allclose(gains[0], gains[1], rtol=1e-6)
    np.testing.assert_allclose(gains[0] * game.unit, ve.details["multiplier"], rtol=1e-6)
    # Up to the unit granularity: moving one instance either way does not help.
    kp, kd = (int(k) for k in ve.allocation)
    here = game.social_cost([kp, kd])
    for move in (-1, 1):
        if 1 <= kp + move <= game.n_instances - 1:
            assert game.social_cost([kp + move, kd - move]) >= here
    assert ve.ratio == 1.0


def test_extragradient_and_kkt_agree_on_the_pd_game() -> None:
    game = PDResourceGame.default(load=50.0)
    eg = variational_equilibrium(game, "extragradient")
    kkt = variational_equilibrium(game, "kkt")
    assert eg.converged and kkt.converged
    np.testing.assert_allclose(eg.x, kkt.x, atol=1e-6)
    np.testing.assert_allclose(eg.shared_multipliers, kkt.shared_multipliers, rtol=1e-6)
    check = diagonal_strict_concavity(game, seed=3)
    assert check.holds and check.min_eigenvalue > 0


def test_optimum_relaxation_and_integers() -> None:
    game = PDResourceGame.default(load=50.0)
    opt = pd_social_optimum(game)
    assert opt.converged and opt.exact
    assert opt.lower_bound <= opt.relaxed_cost + 1e-12 <= opt.social_cost + 1e-12
    costs = game.social_costs(game.profiles())
    assert opt.social_cost == costs.min()
    assert opt.profile is not None and opt.profile.tolist() == [4, 2]
    # The relaxation's optimum is the variational equilibrium (separable costs).
    ve = variational_equilibrium(game)
    np.testing.assert_allclose(opt.relaxed_allocation, ve.x, atol=1e-3)


def test_generalized_equilibria_are_the_budget_line() -> None:
    game = PDResourceGame.default(load=10.0)
    gne = generalized_equilibria(game)
    assert gne.on_budget_line
    assert sorted(map(tuple, gne.allocations.tolist())) == [
        (1, 5),
        (2, 4),
        (3, 3),
        (4, 2),
        (5, 1),
    ]
    assert gne.pos == 1.0
    splits = game.social_costs(game.splits())
    np.testing.assert_allclose(gne.poa, splits.max() / splits.min(), rtol=1e-12)
    assert gne.worst.tolist() == [1, 5]
    # Past one prefill instance's capacity the starving equilibrium is unstable.
    hot = generalized_equilibria(game.with_load(25.0))
    assert hot.poa == np.inf and hot.pos == 1.0
    # At zero load costs do not depend on the split: spare units gain nothing either.
    idle = generalized_equilibria(game.with_load(0.0))
    assert len(idle.allocations) == len(game.profiles()) == 15
    assert not idle.on_budget_line and idle.poa == 1.0


def test_mechanisms() -> None:
    game = PDResourceGame.default(load=40.0)
    opt = pd_social_optimum(game)
    ve = variational_equilibrium(game)
    taking = proportional_share(game, price_anticipating=False, optimum=opt)
    # Kelly (1997): the price-taking equilibrium is the efficient (variational) one.
    np.testing.assert_allclose(taking.relaxed, ve.x, atol=1e-6)
    anticipating = proportional_share(game, optimum=opt)
    x = anticipating.relaxed
    marginal = -game.pseudo_gradient(x) * (1 - x / game.n_instances)
    np.testing.assert_allclose(marginal[0], marginal[1], rtol=1e-6)
    np.testing.assert_allclose(anticipating.details["price"], marginal[0], rtol=1e-6)
    # Price-anticipating pools shade their bids; the bigger pool (prefill here) gets less.
    assert x[0] < ve.x[0]
    plan = sla_planner(game, ttft_target=0.2, itl_target=0.02, optimum=opt)
    assert plan.details["fits_budget"] == 1.0
    assert plan.ttft <= 0.2 and plan.itl <= 0.02
    assert plan.allocation.sum() + plan.details["spare_instances"] == game.n_instances


def test_claim_game_through_the_bimatrix_solver() -> None:
    game = PDResourceGame.default(load=8.0)
    nf = claim_game(game)
    assert isinstance(nf, NormalFormGame) and nf.n_strategies == (5, 5)
    res = claim_game_poa(game)
    # Claiming more is dominant: the equilibrium claims everything, scaled back to (3, 3).
    assert res.n_equilibria == 1
    x, y = res.worst_equilibrium
    np.testing.assert_allclose(x, np.eye(5)[4], atol=1e-12)
    np.testing.assert_allclose(y, np.eye(5)[4], atol=1e-12)
    np.testing.assert_allclose(res.worst_cost, game.social_cost([3, 3]), rtol=1e-9)
    assert res.poa >= 1.0
    assert res.optimum_cost <= pd_social_optimum(game).social_cost + 1e-12
    with pytest.raises(GameError, match="defined only below"):
        claim_game(game.with_load(30.0))


@settings(max_examples=15, deadline=None)
@given(
    units=st.integers(2, 10),
    fraction=st.floats(0.0, 0.97),
    isl=st.sampled_from([512, 3000, 8000]),
    osl=st.sampled_from([64, 150, 1024]),
)
def test_optimum_is_never_worse(units: int, fraction: float, isl: int, osl: int) -> None:
    base = PDResourceGame.default(load=0.0, budget=4 * units, isl=isl, osl=osl)
    game = base.with_load(fraction * base.capacity)
    opt = pd_social_optimum(game)
    gne = generalized_equilibria(game, opt)
    outcomes = [
        pd_variational_equilibrium(game, optimum=opt),
        proportional_share(game, optimum=opt),
        proportional_share(game, price_anticipating=False, optimum=opt),
        sla_planner(game, optimum=opt),
    ]
    assert np.isfinite(opt.social_cost)
    assert gne.poa >= gne.pos >= 1.0
    assert np.all(gne.social_costs >= opt.social_cost)
    for out in outcomes:
        assert not np.isnan(out.social_cost) and not np.isnan(out.ratio)
        assert out.social_cost >= opt.social_cost
        assert out.ratio >= 1.0
    single = float(game.split_capacity(np.array([1.0, 1.0])))
    if units >= 3 and game.load < single:
        claims = claim_game_poa(game)
        assert claims.poa >= claims.pos >= 1.0 - 1e-12  # expected costs: roundoff
        assert claims.optimum_cost <= opt.social_cost * (1 + 1e-12)


def test_poa_curve_is_flat_then_blows_up_for_llama_70b() -> None:
    game = PDResourceGame.default()
    cap = game.capacity
    low = np.linspace(0.005, 0.05, 4) * cap
    high = np.array([0.9, 0.97]) * cap
    curve = pd_poa_curve(game, np.concatenate([low, high]))
    worst = curve.ratios["gne_worst"]
    assert np.all(worst >= 1.0)
    assert np.all(worst[:4] <= 1.05) and worst[:4].max() / worst[:4].min() <= 1.05
    assert np.all(worst[4:] > 2.0)
    # The coordinated concept stays efficient across the range.
    np.testing.assert_allclose(curve.ratios["variational"], 1.0)
    assert np.all(curve.ratios["gne_best"] == 1.0)
    ax = plot_pd_poa_curve(curve)
    assert len(ax.get_lines()) >= len(curve.ratios)
    with pytest.raises(GameError, match="loads"):
        pd_poa_curve(game, [cap])
    with pytest.raises(GameError, match="loads"):
        pd_poa_curve(game, [-1.0])


def test_nemotron_340b_game() -> None:
    game = PDResourceGame.from_deployment(
        nemotron_340b_b200(), budget=48, load=20.0, isl=3000, osl=150
    )
    assert game.unit == 8 and game.n_instances == 6
    ve = pd_variational_equilibrium(game)
    assert ve.converged and ve.ratio == 1.0
