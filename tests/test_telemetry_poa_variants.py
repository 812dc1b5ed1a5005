"""The PoA-hat variant family: each variant's documented property, the latency model,
and the errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment

from gametheory.errors import TelemetryError
from gametheory.sim import Cluster, paper_workload, simulate
from gametheory.telemetry import poa_hat
from gametheory.telemetry.latency_model import fit_latency_model
from gametheory.telemetry.poa_variants import VARIANTS, PoAHatVariant, resolve_variant


def _frame(blocks: np.ndarray, load: np.ndarray, chosen: np.ndarray) -> pd.DataFrame:
    """A decisions frame with prefill weight 1 and one request id per decision."""
    n_dec, n_wrk = blocks.shape
    return pd.DataFrame(
        {
            "decision": np.repeat(np.arange(n_dec), n_wrk),
            "request_id": np.repeat(np.arange(n_dec).astype(str), n_wrk),
            "worker": np.tile([f"w{j}" for j in range(n_wrk)], n_dec),
            "prefill_blocks": blocks.ravel(),
            "prefill_cost": blocks.ravel(),
            "decode_blocks": load.ravel(),
            "cached_blocks": 0.0,
            "cost": (blocks + load).ravel(),
            "chosen": (chosen[:, None] == np.arange(n_wrk)[None, :]).ravel(),
        }
    )


def _requests(ttft: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"request_id": np.arange(ttft.size).astype(str), "ttft_ms": ttft})


def _latency_truth(blocks: np.ndarray, load: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    """TTFT = 10 + 2 * prefill blocks + 0.5 * decode blocks on the chosen worker."""
    rows = np.arange(chosen.size)
    return 10.0 + 2.0 * blocks[rows, chosen] + 0.5 * load[rows, chosen]


def test_latency_model_recovers_a_linear_truth() -> None:
    rng = np.random.default_rng(0)
    blocks = rng.integers(0, 8, size=(60, 3)).astype(float)
    load = rng.integers(0, 40, size=(60, 3)).astype(float)
    chosen = rng.integers(0, 3, size=60)
    ttft = _latency_truth(blocks, load, chosen)
    model = fit_latency_model(_frame(blocks, load, chosen), _requests(ttft))
    assert model.workers == ("w0", "w1", "w2") and model.pooled == ()
    np.testing.assert_allclose(model.intercept_ms, 10.0, atol=1e-8)
    np.testing.assert_allclose(model.prefill_ms, 2.0, atol=1e-8)
    np.testing.assert_allclose(model.decode_ms, 0.5, atol=1e-8)
    assert model.r2 == pytest.approx(1.0) and model.n_unmatched == 0


def test_latency_model_counts_unmatched_and_pools_thin_workers() -> None:
    rng = np.random.default_rng(1)
    blocks = rng.integers(0, 8, size=(40, 2)).astype(float)
    load = rng.integers(0, 40, size=(40, 2)).astype(float)
    chosen = np.where(np.arange(40) < 3, 1, 0)  # worker w1 chosen only 3 times
    ttft = _latency_truth(blocks, load, chosen)
    requests = _requests(ttft).iloc[5:]  # 5 requests never measured
    model = fit_latency_model(_frame(blocks, load, chosen), requests)
    # requests 0-2 (the only ones on w1) and 3-4 are not measured
    assert model.n_unmatched == 5 and model.pooled == ("w1",)
    assert model.n_samples.tolist() == [35, 0]
    np.testing.assert_allclose(model.decode_ms, 0.5, atol=1e-8)


def test_measured_equals_frozen_latency_when_the_truth_is_frozen() -> None:
    # Load constant within each window: the measured latency is the frozen prediction.
    rng = np.random.default_rng(2)
    n_wrk, n_win = 3, 30
    blocks = rng.integers(0, 8, size=(n_win * n_wrk, n_wrk)).astype(float)
    load = np.repeat(rng.integers(0, 40, size=(n_win, n_wrk)).astype(float), n_wrk, axis=0)
    chosen = rng.integers(0, n_wrk, size=n_win * n_wrk)
    frame = _frame(blocks, load, chosen)
    requests = _requests(_latency_truth(blocks, load, chosen))
    frozen = poa_hat(frame, variant="frozen-latency", requests=requests, n_bootstrap=0)
    measured = poa_hat(frame, variant="measured-latency", requests=requests, n_bootstrap=0)
    assert frozen.units == "ms" and measured.variant == "measured-latency"
    assert measured.poa_hat == pytest.approx(frozen.poa_hat, rel=1e-9)
    assert measured.actual_cost == pytest.approx(frozen.actual_cost, rel=1e-9)


def test_measured_charges_what_the_frozen_matrix_does_not_see() -> None:
    # One window of two requests; the frozen optimum is 10 + 10; the requests really
    # waited 30 ms each (a queue the cost terms do not show).
    blocks = np.zeros((2, 2))
    load = np.zeros((2, 2))
    chosen = np.array([0, 1])
    frame = _frame(blocks, load, chosen)
    model = fit_latency_model(
        _frame(np.zeros((3, 2)), np.zeros((3, 2)), np.zeros(3, dtype=int)),
        _requests(np.full(3, 10.0)),
    )
    res = poa_hat(
        frame,
        variant="measured-latency",
        requests=_requests(np.array([30.0, 30.0])),
        latency_model=model,
        n_bootstrap=0,
    )
    assert res.optimal_cost == pytest.approx(20.0) and res.poa_hat == pytest.approx(3.0)


def test_logged_charges_the_load_at_each_decision() -> None:
    # Window start loads (0, 0); at decision 1 worker 0 holds 5 blocks (decision 0's).
    blocks = np.array([[1.0, 2.0], [1.0, 2.0]])
    load = np.array([[0.0, 0.0], [5.0, 0.0]])
    frame = _frame(blocks, load, np.array([0, 0]))
    frozen = poa_hat(frame, n_bootstrap=0)
    logged = poa_hat(frame, variant="logged", n_bootstrap=0)
    assert frozen.actual_cost == 2.0 and logged.actual_cost == 1.0 + 6.0
    assert frozen.optimal_cost == logged.optimal_cost == 3.0


@settings(max_examples=30, deadline=None)
@given(n_wrk=st.integers(2, 5), n_win=st.integers(1, 6), seed=st.integers(0, 2**31 - 1))
def test_greedy_router_scores_at_most_one_under_the_paper_variant(
    n_wrk: int, n_win: int, seed: int
) -> None:
    # Frozen logits + a router choosing the argmin of the window-start matrix: <= 1.
    rng = np.random.default_rng(seed)
    n = n_wrk * n_win
    blocks = rng.integers(0, 9, size=(n, n_wrk)).astype(float)
    load = np.repeat(rng.integers(0, 30, size=(n_win, n_wrk)).astype(float), n_wrk, axis=0)
    chosen = np.argmin(blocks + load, axis=1)
    res = poa_hat(_frame(blocks, load, chosen), n_bootstrap=0)
    assert res.poa_hat <= 1.0 + 1e-12
    # and the optimum is the Hungarian one on the frozen matrix
    opt = sum(
        (blocks + load)[k * n_wrk : (k + 1) * n_wrk][
            linear_sum_assignment((blocks + load)[k * n_wrk : (k + 1) * n_wrk])
        ].sum()
        for k in range(n_win)
    )
    assert res.optimal_cost == pytest.approx(opt)


@settings(max_examples=30, deadline=None)
@given(
    n_wrk=st.integers(2, 4),
    multiple=st.integers(1, 3),
    n_win=st.integers(1, 4),
    seed=st.integers(0, 2**31 - 1),
)
def test_capacity_variants_are_at_least_one(
    n_wrk: int, multiple: int, n_win: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    window = n_wrk * multiple
    n = window * n_win
    blocks = rng.integers(0, 9, size=(n, n_wrk)).astype(float)
    load = rng.integers(0, 30, size=(n, n_wrk)).astype(float)
    chosen = rng.integers(0, n_wrk, size=n)
    frame = _frame(blocks, load, chosen)
    res = poa_hat(frame, window, variant="capacity", n_bootstrap=0)
    assert res.poa_hat >= 1.0 - 1e-12 and res.window == window


def test_every_variant_runs_on_a_simulated_run_with_an_interval() -> None:
    cluster = Cluster.build(n_prefill=1, n_decode=2, tp_prefill=4, tp_decode=4)
    run = simulate(cluster, paper_workload(240), "kv", concurrency=16)
    for name in VARIANTS:
        res = poa_hat(run.decisions, variant=name, requests=run.requests, seed=0, n_bootstrap=200)
        assert res.variant == name and np.isfinite(res.poa_hat), name
        assert res.ci_low <= res.poa_hat <= res.ci_high, name
        assert res.per_window.size == res.n_windows == 120, name
    assert poa_hat(run.decisions, variant="capacity", requests=run.requests).poa_hat >= 1.0


def test_variant_errors() -> None:
    frame = _frame(np.ones((2, 2)), np.zeros((2, 2)), np.array([0, 1]))
    with pytest.raises(TelemetryError, match="unknown PoA-hat variant"):
        poa_hat(frame, variant="nope")
    with pytest.raises(TelemetryError, match="needs the requests frame"):
        poa_hat(frame, variant="measured-latency")
    with pytest.raises(TelemetryError, match="units='latency'"):
        PoAHatVariant("x", actual="measured")
    with pytest.raises(TelemetryError, match="optimum must be one of"):
        PoAHatVariant("x", optimum="greedy")
    with pytest.raises(TelemetryError, match="capacity-aware variant"):
        poa_hat(frame, window=4)
    with pytest.raises(TelemetryError, match="match a request"):
        fit_latency_model(frame, _requests(np.array([], dtype=float)))
    with pytest.raises(TelemetryError, match="metric"):
        fit_latency_model(frame, _requests(np.ones(2)), metric="itl_ms")
    assert resolve_variant(VARIANTS["paper"]) is VARIANTS["paper"]
