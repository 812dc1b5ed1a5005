"""Saturation detectors, switch rates and the latency transient (gametheory.control)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gametheory.control import (
    CurvatureDetector,
    CusumDetector,
    EWMADetector,
    Regime,
    latency_transient,
    switch_rates,
    wilson_interval,
)
from gametheory.errors import GameError


def _feed(
    det: EWMADetector | CusumDetector, values: list[float], start: float = 0.0
) -> list[Regime]:
    return [det.update(start + i, v) for i, v in enumerate(values)]


def _switches(regimes: list[Regime]) -> int:
    return sum(a != b for a, b in itertools.pairwise(regimes))


# ------------------------------------------------------------------ EWMA
def test_ewma_thresholds_are_the_hysteresis_band() -> None:
    det = EWMADetector(2.0, 4.0, hysteresis=0.1)
    assert det.thresholds == pytest.approx(
        {
            "enter_transition": 2.2,
            "exit_transition": 1.8,
            "enter_saturated": 4.4,
            "exit_saturated": 3.6,
        }
    )


def test_hysteresis_prevents_chattering() -> None:
    signal = [0.9, 1.1] * 50  # oscillates around the level 1.0
    # No band: every poll crosses the level, the regime flips every poll.
    flat = EWMADetector(1.0, 2.0, alpha=1.0, hysteresis=0.0, min_dwell_s=0.0)
    assert _switches(_feed(flat, signal)) == 99
    # A 20% band (enter above 1.2, leave below 0.8): no switch at all, from either side.
    banded = EWMADetector(1.0, 2.0, alpha=1.0, hysteresis=0.2, min_dwell_s=0.0)
    assert set(_feed(banded, signal)) == {Regime.BELOW}
    banded.update(100.0, 1.5)  # enter the transition
    assert set(_feed(banded, signal, start=101.0)) == {Regime.TRANSITION}


def _ewma_polls(level_from: float, level_to: float, threshold: float, alpha: float) -> int:
    """Polls after a noiseless step until e_k = to - (to - from)(1 - alpha)^k > threshold."""
    ratio = (level_to - threshold) / (level_to - level_from)
    return math.floor(math.log(ratio) / math.log(1 - alpha)) + 1


def test_ewma_step_detected_after_the_analytic_number_of_polls() -> None:
    det = EWMADetector(2.0, 4.0, alpha=0.1, hysteresis=0.1, min_dwell_s=0.0)
    regimes = _feed(det, [1.0] * 10 + [10.0] * 20)
    to_transition = _ewma_polls(1.0, 10.0, 2.2, 0.1)
    to_saturated = _ewma_polls(1.0, 10.0, 4.4, 0.1)
    assert (to_transition, to_saturated) == (2, 5)
    first = {r: regimes.index(r) - 10 + 1 for r in (Regime.TRANSITION, Regime.SATURATED)}
    assert first == {Regime.TRANSITION: to_transition, Regime.SATURATED: to_saturated}


def test_ewma_dwell_time_delays_the_second_switch() -> None:
    det = EWMADetector(2.0, 4.0, alpha=0.1, hysteresis=0.1, min_dwell_s=10.0)
    times = np.arange(30.0)
    values = [1.0] * 10 + [10.0] * 20
    regimes = [det.update(t, v) for t, v in zip(times.tolist(), values, strict=True)]
    # Transition at t = 11 (second poll at 10), saturation wanted at t = 14 but the
    # dwell holds it until t = 11 + 10 = 21.
    assert regimes.index(Regime.TRANSITION) == 11
    assert regimes.index(Regime.SATURATED) == 21


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.floats(0.0, 10.0), min_size=2, max_size=80),
    gaps=st.lists(st.floats(0.05, 3.0), min_size=80, max_size=80),
    dwell=st.floats(0.0, 6.0),
    alpha=st.floats(0.05, 1.0),
    hysteresis=st.floats(0.0, 0.5),
)
def test_switches_never_closer_than_the_dwell(
    values: list[float], gaps: list[float], dwell: float, alpha: float, hysteresis: float
) -> None:
    det = EWMADetector(1.0, 3.0, alpha=alpha, hysteresis=hysteresis, min_dwell_s=dwell)
    times = np.cumsum(gaps[: len(values)]).tolist()
    previous, switch_times = det.regime, []
    for t, v in zip(times, values, strict=True):
        regime = det.update(t, v)
        if regime != previous:
            switch_times.append(t)
        previous = regime
    assert all(b - a >= dwell for a, b in itertools.pairwise(switch_times))


def test_ewma_rejects_bad_input() -> None:
    with pytest.raises(GameError, match="out of order"):
        EWMADetector(2.0, 1.0)
    with pytest.raises(GameError, match="alpha"):
        EWMADetector(1.0, 2.0, alpha=0.0)
    with pytest.raises(GameError, match="hysteresis"):
        EWMADetector(1.0, 2.0, hysteresis=1.0)
    with pytest.raises(GameError, match="min_dwell_s"):
        EWMADetector(1.0, 2.0, min_dwell_s=-1.0)
    det = EWMADetector(1.0, 2.0)
    with pytest.raises(GameError, match="finite"):
        det.update(0.0, math.nan)
    with pytest.raises(GameError, match="finite"):
        det.update(0.0, math.inf)
    with pytest.raises(GameError, match="nonnegative"):
        det.update(0.0, -0.1)
    det.update(1.0, 0.5)
    with pytest.raises(GameError, match="increase"):
        det.update(0.5, 0.5)


# ------------------------------------------------------------------ CUSUM
def test_cusum_step_detected_after_floor_h_over_shift_plus_one_polls() -> None:
    drift, h = 0.2, 2.0
    det = CusumDetector(reference=1.0, drift=drift, threshold=h)
    regimes = _feed(det, [1.0] * 10 + [math.exp(1.0)] * 10)
    assert set(regimes[:10]) == {Regime.BELOW}
    shift = 1.0 - drift
    expected = math.floor(h / shift) + 1
    assert expected == 3
    assert regimes.index(Regime.SATURATED) - 10 + 1 == expected
    assert regimes.index(Regime.TRANSITION) - 10 + 1 == math.floor(h / 2 / shift) + 1 == 2


def test_cusum_leaves_saturation_when_the_signal_returns() -> None:
    det = CusumDetector(reference=1.0, drift=0.3, threshold=2.0)
    _feed(det, [math.exp(1.0)] * 5)
    assert det.regime == Regime.SATURATED
    back = _feed(det, [1.0] * 10, start=5.0)
    # The reverse statistic grows by drift per poll at the reference: 7 polls > 2.0.
    assert back.index(Regime.BELOW) + 1 == math.floor(2.0 / 0.3) + 1 == 7


def test_cusum_rejects_bad_input() -> None:
    with pytest.raises(GameError, match="reference"):
        CusumDetector(reference=0.0)
    with pytest.raises(GameError, match="threshold"):
        CusumDetector(reference=1.0, threshold=-1.0)
    det = CusumDetector(reference=1.0)
    with pytest.raises(GameError, match="positive"):
        det.update(0.0, 0.0)
    with pytest.raises(GameError, match="finite"):
        det.update(0.0, math.nan)


# ------------------------------------------------------------------ curvature
def test_curvature_finds_the_knee_of_a_hockey_stick() -> None:
    loads = 2.0 ** np.arange(9)  # 1 .. 256
    latency = 0.1 + 0.01 * np.maximum(0.0, loads - 16.0)  # flat, then linear past 16
    det = CurvatureDetector(threshold=0.5)
    regimes = [
        det.update(float(t), float(y), float(x))
        for t, (x, y) in enumerate(zip(loads, latency, strict=True))
    ]
    assert det.knee_load == 16.0
    # The knee is only visible once the load past it (32) has been seen.
    assert regimes[:5] == [Regime.BELOW] * 5
    assert regimes[5:] == [Regime.SATURATED] * 4
    table = det.curvature()
    assert table.loc[table["load"] == 16.0, "curvature"].item() == pytest.approx(1.6)
    assert det.update(10.0, 0.1, 10.0) == Regime.TRANSITION  # within [8, 16)
    assert det.update(11.0, 0.1, 4.0) == Regime.BELOW


def test_curvature_needs_load() -> None:
    det = CurvatureDetector()
    with pytest.raises(GameError, match="load"):
        det.update(0.0, 0.1)
    with pytest.raises(GameError, match="threshold"):
        CurvatureDetector(threshold=0.0)


# ------------------------------------------------------------------ switch rates
def _ewma() -> EWMADetector:
    return EWMADetector(2.0, 4.0, alpha=0.3, hysteresis=0.1, min_dwell_s=5.0)


def test_noiseless_switch_rates_are_zero_with_the_analytic_delay() -> None:
    r = switch_rates(_ewma, baseline=1.0, saturated=8.0, noise=0.0, n_runs=20, seed=3)
    assert r.false_switch_rate == 0.0
    assert r.missed_switch_rate == 0.0
    assert r.false_ci[0] == 0.0 and r.false_ci[1] == pytest.approx(0.1611, abs=1e-4)
    # Transition at the first poll after the step (t = 60), saturation wanted at the
    # second (t = 61) but the 5 s dwell holds it until t = 65: a delay of 5 s.
    assert _ewma_polls(1.0, 8.0, 2.2, 0.3) == 1
    assert _ewma_polls(1.0, 8.0, 4.4, 0.3) == 2
    assert r.mean_delay_s == pytest.approx(5.0)
    assert "<table>" in r._repr_html_()


def test_false_switch_rate_grows_with_noise_and_is_seeded() -> None:
    grid = [0.4, 0.6, 0.8, 1.0]
    rates = [
        switch_rates(_ewma, baseline=1.0, saturated=8.0, noise=s, n_runs=200, seed=7) for s in grid
    ]
    false = [r.false_switch_rate for r in rates]
    assert false == sorted(false)
    assert false == [0.0, 0.005, 0.15, 0.54]  # seeded: 0, 1, 30 and 108 runs of 200
    again = switch_rates(_ewma, baseline=1.0, saturated=8.0, noise=0.8, n_runs=200, seed=7)
    assert again == rates[2]
    other = switch_rates(_ewma, baseline=1.0, saturated=8.0, noise=0.8, n_runs=200, seed=8)
    assert other.false_switch_rate != again.false_switch_rate


def test_missed_switches_within_a_short_deadline() -> None:
    slow = switch_rates(
        lambda: CusumDetector(reference=1.0, drift=0.2, threshold=8.0),
        baseline=1.0,
        saturated=2.0,
        noise=0.0,
        n_runs=5,
        deadline_s=5.0,
    )
    # log 2 - 0.2 = 0.493 per poll: 17 polls to exceed 8, past the 5 s deadline.
    assert slow.missed_switch_rate == 1.0
    assert math.isnan(slow.mean_delay_s)


def test_switch_rates_rejects_bad_input() -> None:
    with pytest.raises(GameError, match="baseline"):
        switch_rates(_ewma, baseline=2.0, saturated=1.0)
    with pytest.raises(GameError, match="interval_s"):
        switch_rates(_ewma, baseline=1.0, saturated=2.0, interval_s=-1.0)
    with pytest.raises(GameError, match="crossing_s"):
        switch_rates(_ewma, baseline=1.0, saturated=2.0, crossing_s=200.0)
    with pytest.raises(GameError, match="noise"):
        switch_rates(_ewma, baseline=1.0, saturated=2.0, noise=math.nan)


def test_wilson_interval_values() -> None:
    # Wilson (1927) at 95%: 10/100 -> (0.0552, 0.1744).
    lo, hi = wilson_interval(10, 100)
    assert (lo, hi) == pytest.approx((0.05523, 0.17437), abs=1e-4)
    assert wilson_interval(0, 10)[0] == 0.0 and wilson_interval(10, 10)[1] == 1.0
    with pytest.raises(GameError):
        wilson_interval(3, 2)


# ------------------------------------------------------------------ transient
def test_latency_transient_windows() -> None:
    t = np.arange(0.0, 20.0, 0.5)
    y = np.where(t < 10.0, 1.0, 3.0)
    y[t == 10.0] = 6.0  # a spike right after the switch
    table = latency_transient(t, y, [10.0], window_s=4.0, quantile=0.5)
    row = table.iloc[0]
    assert (row["n_before"], row["n_after"]) == (8, 8)
    assert (row["before"], row["after"], row["peak_after"]) == (1.0, 3.0, 6.0)
    assert row["change"] == pytest.approx(2.0)
    with pytest.raises(GameError, match="length"):
        latency_transient(t, y[:-1], [10.0])
    with pytest.raises(GameError, match="window_s"):
        latency_transient(t, y, [10.0], window_s=0.0)
