"""Saturation knee and regimes of latency-versus-concurrency sweeps."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gametheory.errors import TelemetryError
from gametheory.telemetry import classify_regimes, detect_knee, detect_knees, read_aiconfigurator
from gametheory.telemetry.schemas import conform

PINNED = "Llama-3.1-70B|b200_sxm|trtllm|fp8|agg|8192x1024|fp8|tp1pp1dp1ep1mtp1"


@pytest.fixture(scope="module")
def silicon(shared_data: Path) -> pd.DataFrame:
    return read_aiconfigurator(shared_data / "telemetry" / "aiconfigurator" / "silicon_sample.csv")


def test_pinned_llama70b_b200_knee(silicon: pd.DataFrame) -> None:
    # Checked by eye on the plot: TTFT 590, 736, 959, 1371, 2266 ms at 4..64, then
    # 47,133 ms at 128 while throughput barely grows (1.02 -> 1.09 req/s).
    result = detect_knee(silicon, deployment=PINNED)
    assert result.converged
    assert result.metric == "ttft_ms_avg"  # the silicon table has one TTFT per point
    assert result.knee == 64.0
    assert result.kneedle == 64.0 and result.plateau == 32.0 and result.curvature == 64.0
    assert result.interval == (32.0, 64.0)
    assert result.first_post_knee == 128.0
    regimes = classify_regimes(silicon[silicon["deployment"] == PINNED])
    assert regimes["regime"].tolist() == ["below saturation"] * 3 + ["transition"] * 2 + [
        "saturated"
    ]


def test_every_b200_deployment_with_five_levels_is_a_sweep(silicon: pd.DataFrame) -> None:
    b200 = silicon[silicon["deployment"].str.contains("|b200_sxm|", regex=False)]
    levels = b200.groupby("deployment")["concurrency"].nunique()
    knees = detect_knees(b200, min_points=5)
    assert set(knees) == set(levels[levels >= 5].index)
    assert len(knees) == 170
    # 131 knees; in 39 sweeps TTFT grows slower than C ** 0.5 past every latency
    # estimate while throughput keeps scaling: no knee in their grid (before the guard
    # Kneedle named one in 37 of them)
    assert sum(k.converged for k in knees.values()) == 131
    assert sum(k.flat for k in knees.values()) == 39
    for k in knees.values():
        assert k.converged != k.flat


def test_every_llama70b_b200_sweep_has_a_knee(silicon: pd.DataFrame) -> None:
    llama = silicon[silicon["deployment"].str.startswith("Llama-3.1-70B|b200_sxm|")]
    knees = detect_knees(llama, min_points=5)
    assert len(knees) == 48
    flat = [name for name, k in knees.items() if k.flat]
    assert len(flat) == 15
    # e.g. vLLM TP4 1024x8192: TTFT 141, 111, 179, 167, 212 ms at C = 4..64 (1.92-fold),
    # throughput still scaling
    name = "Llama-3.1-70B|b200_sxm|vllm|fp8|agg|1024x8192|fp8|tp4pp1dp1ep1mtp4"
    assert name in flat and knees[name].rise == pytest.approx(1.92, abs=0.01)
    for name, k in knees.items():
        if name in flat:
            assert not k.converged and np.isnan(k.knee)
            continue
        assert k.converged
        assert k.interval[0] <= k.knee <= k.interval[1]
        assert k.knee in set(k.concurrency)


def _sweep(conc: np.ndarray, ttft: np.ndarray, thr: np.ndarray) -> pd.DataFrame:
    return conform(
        pd.DataFrame(
            {
                "deployment": "d",
                "concurrency": conc,
                "ttft_ms_p99": ttft,
                "request_throughput": thr,
            }
        ),
        "sweep",
    )


def test_flat_curve_has_no_knee_and_is_below_saturation() -> None:
    # Batching noise of +-10 ms on an 80 ms TTFT while throughput scales linearly:
    # Kneedle alone would still name a knee (it normalises any curve to the unit square).
    conc = np.array([1.0, 2, 4, 8, 16, 32, 64, 128, 256])
    ttft = 80.0 + 10.0 * np.array([0, 1, -1, 1, -1, 1, -1, 1, 0.5])
    sweep = _sweep(conc, ttft, conc / 0.08)
    loose = detect_knee(sweep, min_elasticity=-1.0)
    assert loose.converged and not loose.flat
    result = detect_knee(sweep)
    assert result.flat and not result.converged and np.isnan(result.knee)
    assert result.rise == pytest.approx(90.0 / 70.0)
    assert set(classify_regimes(sweep)["regime"]) == {"below saturation"}
    with pytest.raises(TelemetryError, match="min_elasticity must be finite"):
        detect_knee(sweep, min_elasticity=math.nan)


def test_mm1_like_curve() -> None:
    # Latency 1 / (mu - lambda) with throughput lambda saturating at mu = 100.
    conc = 2.0 ** np.arange(0, 9)
    lam = 100 * conc / (conc + 16)
    ttft = 1000 / (100 - 0.95 * lam)
    result = detect_knee(_sweep(conc, ttft, lam))
    assert result.converged and 16 <= result.knee <= 64
    flat = detect_knee(_sweep(conc, np.full(conc.size, 5.0), conc))
    assert not flat.converged and math.isnan(flat.knee)


def test_knee_input_errors() -> None:
    two = pd.concat(
        [_sweep(np.array([1.0, 2.0]), np.array([1.0, 2.0]), np.ones(2))] * 2, ignore_index=True
    )
    two.loc[two.index[:2], "deployment"] = "e"
    with pytest.raises(TelemetryError) as info:
        detect_knee(two)
    assert info.value.field == "deployment"
    with pytest.raises(TelemetryError):
        detect_knee(_sweep(np.array([1.0]), np.array([1.0]), np.ones(1)), metric="nope")


def test_policies_are_separate_sweeps() -> None:
    conc = 2.0 ** np.arange(0, 8)
    fast = _sweep(conc, 10 + conc, 10 * conc / (1 + conc / 64))
    slow = _sweep(conc, 10 + conc**2, 10 * conc / (1 + conc / 4))
    both = pd.concat(
        [fast.assign(policy="kv"), slow.assign(policy="round-robin")], ignore_index=True
    )
    both = conform(both, "sweep")
    with pytest.raises(TelemetryError):
        detect_knee(both)
    knees = detect_knees(both)
    assert set(knees) == {"d [kv]", "d [round-robin]"}
    one = detect_knee(both, policy="round-robin")
    assert one.deployment == "d [round-robin]"
    assert one.latency.tolist() == (10 + conc**2).tolist()
    regimes = classify_regimes(both)
    assert len(regimes) == 16
    assert set(regimes["policy"]) == {"kv", "round-robin"}


def test_missing_columns_are_named() -> None:
    frame = pd.DataFrame({"deployment": ["d"], "policy": [None], "concurrency": [1.0]})
    with pytest.raises(TelemetryError) as info:
        detect_knee(frame, metric="ttft_ms_p99")
    assert info.value.field == "ttft_ms_p99"
    with pytest.raises(TelemetryError) as info:
        classify_regimes(frame.drop(columns="policy"))
    assert info.value.field == "policy"
