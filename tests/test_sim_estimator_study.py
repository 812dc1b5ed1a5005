"""The PoA-hat sensitivity study: every variant on the same simulated sweep."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gametheory.errors import GameError
from gametheory.sim.studies.estimators import PAPER_SHAPE, estimator_study
from gametheory.sim.studies.experiments import regime_study
from gametheory.sim.sweep import SweepGrid
from gametheory.telemetry.poa_variants import VARIANTS


@pytest.fixture(scope="module")
def study():  # type: ignore[no-untyped-def]
    grid = SweepGrid(
        concurrency=(1, 4, 16, 64, 256),
        omegas=(0.0, 1.0),
        taus=(0.0, 0.5),
        seeds=(0, 1),
        n_bootstrap=50,
        min_requests=160,
        requests_per_user=3,
    )
    return estimator_study(grid, adaptive_concurrency=256, adaptive_seeds=(0, 1, 2))


def test_every_variant_on_every_cell(study) -> None:  # type: ignore[no-untyped-def]
    table, summary = study.table, study.summary
    assert len(table) == 2 * 5 * 4 * 2
    assert len(summary) == 2 * len(VARIANTS)
    assert set(summary["variant"]) == set(VARIANTS)
    for name in VARIANTS:
        est = table[f"poa_hat[{name}]"].to_numpy()
        low, high = table[f"poa_hat_low[{name}]"].to_numpy(), table[f"poa_hat_high[{name}]"]
        assert np.all(np.isfinite(est)), name
        assert np.all((low <= est + 1e-12) & (est <= high.to_numpy() + 1e-12)), name
    # the first variant fills the plain columns
    np.testing.assert_array_equal(table["poa_hat"], table["poa_hat[paper]"])


def test_documented_properties_hold_on_every_cell(study) -> None:  # type: ignore[no-untyped-def]
    table = study.table
    assert (table["poa_hat[capacity]"] >= 1.0 - 1e-12).all()
    # capacity-aware charges at least the frozen routing's cost (same frozen matrix)
    assert (table["poa_hat[capacity]"] >= table["poa_hat[paper]"] - 1e-12).all()


def test_one_knee_per_topology_and_consistent_flags(study) -> None:  # type: ignore[no-untyped-def]
    s = study.summary
    assert s.groupby("topology")["knee"].nunique().eq(1).all()
    expected = (
        (s["plateau_median"] >= PAPER_SHAPE["plateau_low"])
        & (s["plateau_median"] <= PAPER_SHAPE["plateau_high"])
        & (s["plateau_cv"] < PAPER_SHAPE["cv_max"])
        & (s["growth"] >= PAPER_SHAPE["growth_min"])
    )
    assert (s["paper_shape"] == expected).all()


def test_adaptive_ratio_under_every_variant(study) -> None:  # type: ignore[no-untyped-def]
    s = study.summary
    assert s["adaptive_ratio"].notna().all()
    assert (s["adaptive_low"] <= s["adaptive_ratio"] + 1e-12).all()
    assert (s["adaptive_ratio"] <= s["adaptive_high"] + 1e-12).all()
    # a given table carries no comparison: the ratio is NaN, not invented
    again = estimator_study(table=study.table).summary
    assert again["adaptive_ratio"].isna().all()
    np.testing.assert_array_equal(again["plateau_median"], s["plateau_median"])
    # a regime study passed in is reused, with the same summary
    reused = estimator_study(table=study.table, regimes=regime_study(table=study.table)).summary
    pd.testing.assert_frame_equal(reused, again)


def test_a_table_without_variant_columns_is_an_error(study) -> None:  # type: ignore[no-untyped-def]
    bare = study.table.drop(columns=[c for c in study.table.columns if "[" in c])
    with pytest.raises(GameError, match="poa_hat"):
        estimator_study(table=bare)


def test_unknown_variant_in_a_grid() -> None:
    with pytest.raises(GameError, match="unknown PoA-hat variants"):
        SweepGrid(variants=("nope",))
