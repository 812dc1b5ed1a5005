"""The simulation study: regimes, adaptive router, referee checks, figures."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from gametheory.errors import GameError
from gametheory.sim.studies.experiments import adaptive_comparison, regime_study
from gametheory.sim.studies.plots import poa_heatmaps, policy_curves_figure
from gametheory.sim.studies.referee import (
    _window_game,
    cost_term_spread,
    detector_study,
    optimum_check,
    switch_transient,
)
from gametheory.sim.studies.results import RegimeStudyResult
from gametheory.sim.studies.study import StudyConfig
from gametheory.sim.sweep import Cell, SweepGrid
from gametheory.solvers.affinity.optimum import enumerate_optimum, milp_optimum

GRID = SweepGrid(
    topologies=((1, 2),),
    concurrency=(1, 2, 4, 16, 32, 64, 128, 192, 256),
    omegas=(0.0, 1.0),
    taus=(0.0, 0.5),
    n_bootstrap=50,
)


@pytest.fixture(scope="module")
def study() -> RegimeStudyResult:
    return regime_study(GRID)


def test_regimes_knee_plateau_and_saturation(study: RegimeStudyResult) -> None:
    row = study.summary.iloc[0]
    knee = study.knees["1P/2D"]
    assert knee.converged and 16 <= knee.knee <= 128
    # 1P/2D is decode-bound: throughput stops scaling and C = 256 is saturated.
    assert knee.plateau <= 192
    reg = study.regimes.set_index("concurrency")["regime"]
    assert reg[256.0] == "saturated" and reg[192.0] in ("transition", "saturated")
    assert reg[4.0] == "below saturation"
    # Flat plateau: router settings move PoA-hat little ...
    assert row["plateau_spread"] < 0.15
    # ... unlike the low-load artifact (one user: windows of decisions are not a game).
    low = study.table[study.table["concurrency"] == 1]["poa_hat"]
    assert low.max() - low.min() > 3 * row["plateau_spread"]
    # Past the knee PoA-hat grows from its value at the knee.
    at_knee = study.table[study.table["concurrency"] == knee.knee]["poa_hat"].mean()
    past = study.table[study.table["concurrency"] >= 192]["poa_hat"]
    assert past.mean() > at_knee
    assert row["growth"] == pytest.approx(row["saturated_mean"] / row["plateau_median"])
    assert "<table>" in study._repr_html_()


def test_kv_decisions_ignore_omega_once_caches_are_warm(study: RegimeStudyResult) -> None:
    # Every decode worker ends up caching all five templates, so the prefill term is
    # the same for every candidate: omega cannot change a decision at tau = 0.
    t = study.table[(study.table["tau"] == 0.0) & (study.table["concurrency"] >= 64)]
    by = t.pivot_table(index="concurrency", columns="omega", values="poa_hat")
    np.testing.assert_array_equal(by[0.0].to_numpy(), by[1.0].to_numpy())


def test_prefill_term_cannot_separate_candidates_after_warmup() -> None:
    from gametheory.sim.engine import simulate
    from gametheory.sim.routing import make_policy

    cell = Cell(1, 2, 128, "kv", 1.0, 0.0, 0, GRID)
    result = simulate(cell.cluster(), cell.workload(), make_policy("kv"), concurrency=128)
    spread = cost_term_spread(result.decisions).set_index("term")
    assert spread.loc["prefill_blocks", "max"] == 0.0
    assert spread.loc["decode_blocks", "median"] > 10.0
    # One user: the first requests of a template find it cached on one worker only.
    one = simulate(cell.cluster(), cell.workload(), make_policy("kv"), concurrency=1)
    cold = cost_term_spread(one.decisions, warmup=0.0).set_index("term")
    assert cold.loc["prefill_blocks", "max"] > 0.0
    with pytest.raises(GameError, match="lacks column"):
        cost_term_spread(result.decisions.drop(columns="decode_blocks"))


def test_adaptive_versus_static_paired_over_seeds() -> None:
    res = adaptive_comparison(GRID, topology=(1, 2), concurrency=256, seeds=(0, 1, 2))
    assert res.n_seeds == 3 and res.converged and len(res.per_seed) == 3
    lo, hi = res.poa_reduction_ci
    assert lo <= res.poa_reduction <= hi
    assert (res.per_seed["switches_adaptive"] >= 1).all()
    assert (res.per_seed["switches_static"] == 0).all()
    # The simulation's finding (see docs/tutorials/reproduce-the-paper.md): with warm,
    # identical caches the adaptive router changes nothing at saturation.
    assert abs(res.poa_reduction - 1.0) < 0.02
    assert abs(res.throughput_cost) < 0.02
    with pytest.raises(GameError, match="two seeds"):
        adaptive_comparison(GRID, seeds=(0,))


def test_window_game_milp_matches_enumeration_and_bounds_router() -> None:
    cell = Cell(1, 2, 64, "kv", 1.0, 0.0, 0, GRID)
    from gametheory.sim.engine import simulate
    from gametheory.sim.routing import make_policy

    result = simulate(cell.cluster(), cell.workload(), make_policy("kv"), concurrency=64)
    game, chosen, _sub = _window_game(cell, result, 200, 8)
    assert game.n_players == 8 and game.m == 2 and chosen.shape == (8,)
    exact = enumerate_optimum(game)
    milp = milp_optimum(game)
    assert milp.social_cost == pytest.approx(exact.social_cost, rel=1e-7)
    assert game.costs(chosen).sum() >= exact.social_cost - 1e-9


def test_optimum_check_true_poa_at_least_one() -> None:
    res = optimum_check(GRID, topology=(1, 2), concurrency=128, n_windows=3)
    assert res.all_exact and res.iterations == 3
    assert (res.windows["true_poa"] >= 1 - 1e-9).all()
    assert res.true_poa >= 1 - 1e-9 and math.isfinite(res.poa_hat)
    with pytest.raises(GameError, match="multiple"):
        optimum_check(GRID, topology=(1, 2), window=3)


def test_detector_rates_under_noise() -> None:
    res = detector_study(0.3, 1.5, unloaded_s=0.06, noises=(0.1, 0.5), n_runs=100, seed=1)
    t = res.table.set_index(["detector", "noise"])
    assert t.loc[("ewma", 0.1), "false_rate"] == 0.0
    assert t.loc[("ewma", 0.1), "missed_rate"] == 0.0
    # CUSUM on the plateau level: more noise, more false switches.
    assert t.loc[("cusum", 0.5), "false_rate"] > t.loc[("cusum", 0.1), "false_rate"]
    assert (t["false_low"] <= t["false_rate"]).all() and (t["false_rate"] <= t["false_high"]).all()
    with pytest.raises(GameError, match="baseline_s"):
        detector_study(1.0, 0.5)
    with pytest.raises(GameError, match="knee_s"):
        detector_study(0.3, 1.5, knee_s=2.0)
    # Running at the knee, the EWMA detector trips on noise far more than on the plateau.
    knee = detector_study(0.128, 4.4, knee_s=0.55, unloaded_s=0.061, noises=(0.5,), n_runs=100)
    k = knee.table.set_index(["scenario", "detector"])
    assert k.loc[("knee", "ewma"), "false_rate"] > k.loc[("plateau", "ewma"), "false_rate"] + 0.2
    assert (knee.table["missed_rate"] == 0.0).all()


def test_switch_transient_rows_per_switch() -> None:
    res = switch_transient(GRID, topology=(1, 2), concurrency=128, window_s=3.0)
    assert res.iterations == len(res.table) >= 1 and res.converged
    assert set(res.table["to_regime"]) <= {"below", "transition", "saturated"}
    row = res.table.iloc[0]
    assert row["requests_before"] > 0 and row["ttft_p99_before_ms"] > 0
    with pytest.raises(GameError, match="window_s"):
        switch_transient(GRID, window_s=0)


def test_figures_written(study: RegimeStudyResult, tmp_path: object) -> None:
    from pathlib import Path

    out = Path(str(tmp_path))
    fig = poa_heatmaps(study.table, "1P/2D", out / "h.png")
    assert len(fig.axes) >= 2  # panels and the colour bar
    heat = out / "h.png"
    curves = pd.DataFrame(
        {
            "topology": "1P/2D",
            "policy_name": ["kv", "kv", "round_robin", "round_robin"],
            "concurrency": [1.0, 4.0, 1.0, 4.0],
            "poa_hat": [0.9, 0.95, 1.0, 1.0],
            "ttft_ms_p99": [60.0, 90.0, 61.0, 95.0],
        }
    )
    panels = policy_curves_figure(curves, "1P/2D").axes  # no path: only the figure
    assert [len(ax.lines) for ax in panels] == [2, 2]
    assert not (out / "c.png").exists()
    policy_curves_figure(curves, "1P/2D", out / "c.png")
    line = out / "c.png"
    for p in (heat, line):
        data = p.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and 5_000 < len(data) < 150_000
    with pytest.raises(GameError, match="topology"):
        poa_heatmaps(study.table, "9P/9D", out / "x.png")


def test_reduced_config_is_smaller_than_full() -> None:
    full, small = StudyConfig(), StudyConfig.reduced()
    assert len(list(small.grid.cells())) < len(list(full.grid.cells()))
    assert full.grid.concurrency == small.grid.concurrency
    assert len(full.grid.omegas) * len(full.grid.taus) == 16
