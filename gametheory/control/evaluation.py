"""How well a saturation detector switches: Monte Carlo rates and latency transients.

* :func:`switch_rates` estimates the false and missed switch rates of any detector of
  :mod:`gametheory.control.detector` under multiplicative load noise by Monte Carlo,
  with Wilson score intervals (:func:`wilson_interval`; Wilson, *JASA* 22(158), 1927).
* :func:`latency_transient` measures the latency just before and after given switch
  times of a recorded latency series (the transient a switch causes).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from statistics import NormalDist

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from gametheory.control.detector import Detector, Regime
from gametheory.control.results import SwitchRatesResult
from gametheory.errors import GameError

__all__ = ["latency_transient", "switch_rates", "wilson_interval"]

FloatArray = NDArray[np.float64]


def wilson_interval(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion ``k / n``.

    Wilson, "Probable inference, the law of succession, and statistical inference",
    *JASA* 22(158), 1927. Unlike the normal (Wald) interval it stays inside [0, 1] and
    is not degenerate at ``k = 0`` or ``k = n``.
    """
    if not (0 <= k <= n and n >= 1):
        raise GameError(f"need 0 <= k <= n and n >= 1, got k={k!r}, n={n!r}")
    if not 0 < confidence < 1:
        raise GameError(f"confidence must be in (0, 1), got {confidence!r}")
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    lower = 0.0 if k == 0 else max(0.0, centre - half)
    upper = 1.0 if k == n else min(1.0, centre + half)
    return (lower, upper)


def switch_rates(
    make_detector: Callable[[], Detector],
    *,
    baseline: float,
    saturated: float,
    noise: float = 0.3,
    n_runs: int = 500,
    duration_s: float = 120.0,
    interval_s: float = 1.0,
    crossing_s: float = 60.0,
    deadline_s: float | None = None,
    seed: int = 0,
) -> SwitchRatesResult:
    """False and missed switch rates of a detector under lognormal noise (Monte Carlo).

    Two scenarios of ``n_runs`` runs each, polled every ``interval_s`` from time 0 to
    ``duration_s``, each sample multiplied by ``exp(noise * Z)`` with ``Z`` i.i.d.
    standard normal:

    * *stable*: the signal stays at ``baseline`` (below the knee); a run in which the
      detector ever reports *saturated* is a **false switch**;
    * *crossing*: the signal is at ``baseline`` before ``crossing_s`` and at
      ``saturated`` (above the knee) from then on; a run in which the detector does not
      report *saturated* at some poll in ``[crossing_s, crossing_s + deadline_s]`` is a
      **missed switch**; otherwise the delay is the first such poll minus
      ``crossing_s``.

    Both scenarios use the same seeded noise draws for every ``noise`` level (common
    random numbers), so rates on a grid of noise levels are comparable.

    Parameters
    ----------
    make_detector
        Builds a fresh detector per run (a detector needing load, such as
        :class:`CurvatureDetector`, cannot be used: no load is fed).
    baseline, saturated
        Signal levels below and above the knee, ``0 < baseline < saturated``.
    noise
        Lognormal sigma of the multiplicative noise (>= 0).
    n_runs
        Runs per scenario.
    duration_s, interval_s, crossing_s
        Length of a run, polling interval and time of the crossing
        (``0 < crossing_s < duration_s``).
    deadline_s
        Detection deadline after the crossing; default ``duration_s - crossing_s``.
    seed
        Seed of the noise.

    Returns
    -------
    SwitchRatesResult
        Both rates with 95% Wilson intervals (:func:`wilson_interval`) and the mean
        delay of the detected crossings.
    """
    if not (math.isfinite(baseline) and math.isfinite(saturated) and 0 < baseline < saturated):
        raise GameError(f"need 0 < baseline < saturated, got {baseline!r}, {saturated!r}")
    if not (math.isfinite(noise) and noise >= 0):
        raise GameError(f"noise must be finite and >= 0, got {noise!r}")
    if n_runs < 1:
        raise GameError(f"n_runs must be >= 1, got {n_runs!r}")
    if not (math.isfinite(interval_s) and interval_s > 0):
        raise GameError(f"interval_s must be positive, got {interval_s!r}")
    if not 0 < crossing_s < duration_s < math.inf:
        raise GameError(
            f"need 0 < crossing_s < duration_s, got crossing_s={crossing_s!r}, "
            f"duration_s={duration_s!r}"
        )
    deadline = duration_s - crossing_s if deadline_s is None else deadline_s
    if not deadline > 0:
        raise GameError(f"deadline_s must be positive, got {deadline_s!r}")
    times = np.arange(0.0, duration_s, interval_s)
    rng = np.random.default_rng(seed)
    shocks = np.exp(noise * rng.standard_normal((2, n_runs, times.size)))
    stable = baseline * shocks[0]
    crossing = np.where(times >= crossing_s, saturated, baseline) * shocks[1]
    in_window = (times >= crossing_s) & (times <= crossing_s + deadline + 1e-9 * interval_s)
    t_list = times.tolist()
    false = missed = 0
    delays: list[float] = []
    name = ""
    for run in range(n_runs):
        det = make_detector()
        name = type(det).__name__
        for t, v in zip(t_list, stable[run].tolist(), strict=True):
            if det.update(t, v) == Regime.SATURATED:
                false += 1
                break
        det = make_detector()
        hit = math.nan
        for t, v, ok in zip(t_list, crossing[run].tolist(), in_window.tolist(), strict=True):
            if det.update(t, v) == Regime.SATURATED and ok:
                hit = t
                break
        if math.isnan(hit):
            missed += 1
        else:
            delays.append(hit - crossing_s)
    return SwitchRatesResult(
        false_switch_rate=false / n_runs,
        missed_switch_rate=missed / n_runs,
        mean_delay_s=float(np.mean(delays)) if delays else math.nan,
        false_ci=wilson_interval(false, n_runs),
        missed_ci=wilson_interval(missed, n_runs),
        n_runs=n_runs,
        noise=float(noise),
        converged=True,
        iterations=2 * n_runs,
        method=(
            f"Monte Carlo, {name}, {baseline:.4g} -> {saturated:.4g} at {crossing_s:g} s, "
            f"poll {interval_s:g} s, deadline {deadline:g} s, seed {seed}"
        ),
    )


def _as_float_array(values: ArrayLike, name: str) -> FloatArray:
    try:
        out = np.asarray(values, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        raise GameError(f"{name} must be numeric") from None
    return out


def latency_transient(
    time: ArrayLike,
    latency: ArrayLike,
    switch_times: Sequence[float] | ArrayLike,
    *,
    window_s: float = 5.0,
    quantile: float = 0.99,
) -> pd.DataFrame:
    """Latency in the windows just before and just after each switch.

    For every switch time ``t`` the ``quantile`` of the latencies stamped in
    ``[t - window_s, t)`` (before) and in ``[t, t + window_s)`` (after), and the largest
    latency after. ``time`` and ``latency`` may be per request (arrival time, TTFT:
    the exact P99 of the requests of the window) or a polled series (poll time, TTFT
    P99 of the interval); e.g. with the simulator's ``requests`` frame, ``time`` the
    start time in seconds, ``latency`` the TTFT and ``switch_times`` the run's
    ``switch_times`` (or a controller's ``history`` times).

    Parameters
    ----------
    time, latency
        Sample times and latencies, same length, finite.
    switch_times
        Times of the switches.
    window_s
        Width of each window (> 0).
    quantile
        Quantile of each window, in [0, 1].

    Returns
    -------
    pandas.DataFrame
        One row per switch: ``switch_s``, ``n_before``, ``n_after``, ``before``,
        ``after`` (the window quantiles, NaN for an empty window), ``peak_after`` and
        ``change`` (``after / before - 1``).
    """
    t = _as_float_array(time, "time")
    y = _as_float_array(latency, "latency")
    s = _as_float_array(switch_times, "switch_times")
    if t.size != y.size:
        raise GameError(f"time and latency differ in length: {t.size} != {y.size}")
    if not (np.all(np.isfinite(t)) and np.all(np.isfinite(y)) and np.all(np.isfinite(s))):
        raise GameError("time, latency and switch_times must be finite")
    if not (math.isfinite(window_s) and window_s > 0):
        raise GameError(f"window_s must be positive, got {window_s!r}")
    if not 0 <= quantile <= 1:
        raise GameError(f"quantile must be in [0, 1], got {quantile!r}")
    rows = []
    for ts in s.tolist():
        before = y[(t >= ts - window_s) & (t < ts)]
        after = y[(t >= ts) & (t < ts + window_s)]
        qb = float(np.quantile(before, quantile)) if before.size else math.nan
        qa = float(np.quantile(after, quantile)) if after.size else math.nan
        rows.append(
            {
                "switch_s": ts,
                "n_before": int(before.size),
                "n_after": int(after.size),
                "before": qb,
                "after": qa,
                "peak_after": float(after.max()) if after.size else math.nan,
                "change": qa / qb - 1 if qb > 0 else math.nan,
            }
        )
    columns = ["switch_s", "n_before", "n_after", "before", "after", "peak_after", "change"]
    return pd.DataFrame(rows, columns=columns)
