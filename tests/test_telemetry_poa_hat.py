"""PoA-hat: the paper's windowed estimator, its bootstrap interval and the
capacity-aware variant."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment

from gametheory.errors import TelemetryError
from gametheory.telemetry import poa_hat, read_router_log


def _frame(prefill: np.ndarray, load: np.ndarray, chosen: np.ndarray) -> pd.DataFrame:
    n_dec, n_wrk = prefill.shape
    return pd.DataFrame(
        {
            "decision": np.repeat(np.arange(n_dec), n_wrk),
            "worker": np.tile([f"w{j}" for j in range(n_wrk)], n_dec),
            "prefill_cost": prefill.ravel(),
            "decode_blocks": load.ravel(),
            "cost": (prefill + load).ravel(),
            "chosen": (chosen[:, None] == np.arange(n_wrk)[None, :]).ravel(),
        }
    )


def test_hand_computed_3x3() -> None:
    prefill = np.array([[2.0, 1.0, 4.0], [3.0, 3.0, 1.0], [1.0, 2.0, 3.0]])
    # Loads at decisions 1 and 2 differ, but the window uses those of decision 0.
    load = np.array([[1.0, 2.0, 0.0], [5.0, 5.0, 5.0], [9.0, 0.0, 9.0]])
    # Frozen matrix C = [[3, 3, 4], [4, 5, 1], [2, 4, 3]]: optimum (B, C, A) = 6.
    # The router chose C, C, B: 4 + 1 + 4 = 9, so PoA-hat = 9 / 6 = 1.5.
    result = poa_hat(_frame(prefill, load, np.array([2, 2, 1])), seed=0)
    assert result.window == 3 and result.n_windows == 1
    assert result.actual_cost == 9.0 and result.optimal_cost == 6.0
    assert result.poa_hat == 1.5
    assert result.per_window.tolist() == [1.5]
    assert result.converged and result.method == "hungarian"


def test_can_dip_below_one() -> None:
    prefill = np.array([[1.0, 5.0], [1.0, 5.0]])
    load = np.zeros((2, 2))
    # Both requests on worker 0 cost 2; one request per worker costs at least 6.
    result = poa_hat(_frame(prefill, load, np.array([0, 0])), n_bootstrap=0)
    assert result.poa_hat == pytest.approx(2.0 / 6.0)
    capacity = poa_hat(_frame(prefill, load, np.array([0, 0])), variant="capacity", congestion=1.0)
    # Capacity-aware: stacking pays 1 extra, which is also the optimum (2 + 1 = 3).
    assert capacity.poa_hat == 1.0


@settings(max_examples=40, deadline=None)
@given(
    n_wrk=st.integers(2, 5),
    n_win=st.integers(1, 6),
    seed=st.integers(0, 2**32 - 1),
)
def test_exactly_one_when_router_is_optimal(n_wrk: int, n_win: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_dec = n_wrk * n_win
    prefill = rng.uniform(0, 10, (n_dec, n_wrk))
    load = rng.uniform(0, 5, (n_dec, n_wrk))
    chosen = np.empty(n_dec, dtype=np.int64)
    for k in range(n_win):
        rows = slice(k * n_wrk, (k + 1) * n_wrk)
        frozen = prefill[rows] + load[k * n_wrk][None, :]
        _, cols = linear_sum_assignment(frozen)
        chosen[rows] = cols
    result = poa_hat(_frame(prefill, load, chosen), seed=seed)
    assert result.poa_hat == 1.0
    assert np.all(result.per_window == 1.0)
    assert result.ci_low == 1.0 and result.ci_high == 1.0
    # Any other assignment that is a permutation in each window can only cost more.
    shuffled = chosen.copy()
    for k in range(n_win):
        shuffled[k * n_wrk : (k + 1) * n_wrk] = rng.permutation(n_wrk)
    assert poa_hat(_frame(prefill, load, shuffled), n_bootstrap=0).poa_hat >= 1.0 - 1e-12


@settings(max_examples=30, deadline=None)
@given(n_wrk=st.integers(2, 4), n_win=st.integers(1, 5), seed=st.integers(0, 2**32 - 1))
def test_capacity_aware_is_at_least_one(n_wrk: int, n_win: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_dec = n_wrk * n_win
    prefill = rng.uniform(0, 10, (n_dec, n_wrk))
    load = rng.uniform(0, 5, (n_dec, n_wrk))
    chosen = rng.integers(0, n_wrk, n_dec)
    result = poa_hat(_frame(prefill, load, chosen), variant="capacity", n_bootstrap=0)
    assert result.poa_hat >= 1.0 - 1e-12
    assert np.all(result.per_window >= 1.0 - 1e-12)


def test_bootstrap_interval_covers_estimate_and_is_seeded() -> None:
    rng = np.random.default_rng(7)
    n_dec, n_wrk = 400, 4
    prefill = rng.uniform(0, 10, (n_dec, n_wrk))
    load = rng.uniform(0, 5, (n_dec, n_wrk))
    chosen = (prefill + load).argmin(axis=1)
    frame = _frame(prefill, load, chosen)
    a = poa_hat(frame, seed=3)
    b = poa_hat(frame, seed=3)
    assert a.ci_low < a.poa_hat < a.ci_high
    assert (a.ci_low, a.ci_high) == (b.ci_low, b.ci_high)
    assert a.n_windows == 100 and a.n_unused == 0
    assert a.poa_hat == pytest.approx(a.actual_cost / a.optimal_cost)


def test_trailing_and_invalid_decisions_are_counted() -> None:
    prefill = np.ones((7, 3))
    frame = _frame(prefill, np.zeros((7, 3)), np.array([0, 1, 2, 0, 1, 2, 0]))
    frame.loc[frame["decision"] == 6, "chosen"] = False  # no choice: left out
    result = poa_hat(frame, n_bootstrap=0)
    assert result.n_windows == 2 and result.n_unused == 1
    assert result.n_decisions == 7
    with pytest.raises(TelemetryError) as info:
        poa_hat(frame, window=4)
    assert info.value.field == "window"


def test_router_log_sample(shared_data: Path) -> None:
    frame = read_router_log(
        shared_data / "telemetry" / "dynamo-router-logs" / "kv_router_scheduler_v0.6.log"
    )
    result = poa_hat(frame, window=1, n_bootstrap=0)
    assert result.poa_hat == 1.0  # the router picked the cheaper (tied) worker
    with pytest.raises(TelemetryError, match="do not fill one window"):
        poa_hat(frame)


def test_bad_input() -> None:
    frame = _frame(np.ones((2, 2)), np.zeros((2, 2)), np.array([0, 1]))
    with pytest.raises(TelemetryError) as info:
        poa_hat(frame.drop(columns="chosen"))
    assert info.value.field == "chosen"
    frame.loc[0, "prefill_cost"] = -1.0
    with pytest.raises(TelemetryError, match="negative"):
        poa_hat(frame)
