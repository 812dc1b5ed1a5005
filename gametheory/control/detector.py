"""Saturation detectors over a latency signal polled at a fixed interval.

Each detector consumes one ``(time, value, load)`` sample per poll (``value`` the TTFT
P99 of the requests of the last interval, in seconds; ``load`` the offered load, e.g.
in-flight requests, where the detector needs it) and classifies the deployment as
below saturation, in transition or saturated (:class:`Regime`):

* :class:`EWMADetector`: an exponentially weighted moving average of the signal
  (Roberts, *Technometrics* 1(3), 1959) compared with two levels, each with separate
  enter and exit thresholds (hysteresis) and a minimum dwell time between changes
  (the guard against flapping used by autoscalers, e.g. the stabilisation window of
  Kubernetes' horizontal pod autoscaler).
* :class:`CusumDetector`: Page's cumulative sum (*Biometrika* 41(1/2), 1954) of the
  log latency over a reference level; upward to enter saturation, and, once
  saturated, the reverse test to leave it.
* :class:`CurvatureDetector`: the discrete second derivative of latency versus
  ``log2`` load over the load levels seen so far; its first load with a curvature
  above a threshold is the knee (the curvature definition of a knee that Kneedle,
  Satopaa et al., ICDCS Workshops 2011, approximates; cf.
  :func:`gametheory.telemetry.detect_knee` for a whole sweep).

:mod:`gametheory.control.evaluation` measures how well a detector switches.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Protocol

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from gametheory.errors import GameError

__all__ = [
    "CurvatureDetector",
    "CusumDetector",
    "Detector",
    "EWMADetector",
    "Regime",
]

FloatArray = NDArray[np.float64]


class Regime(IntEnum):
    """Load regime of a deployment, ordered by load."""

    BELOW = 0
    TRANSITION = 1
    SATURATED = 2


class Detector(Protocol):
    """A saturation detector: one :meth:`update` per poll, returning the regime."""

    regime: Regime

    def update(self, time: float, value: float, load: float = math.nan) -> Regime:
        """Consume one sample and return the current regime."""
        ...


def _check_sample(time: float, last: float, value: float, *, positive: bool) -> None:
    """Raise GameError on a non-finite or negative sample or a time that does not advance."""
    if not math.isfinite(time):
        raise GameError(f"poll time must be finite, got {time!r}")
    if time <= last:
        raise GameError(f"poll times must increase: got {time!r} after {last!r}")
    if not math.isfinite(value):
        raise GameError(f"latency signal must be finite, got {value!r} at time {time!r}")
    if value < 0 or (positive and value == 0):
        bound = "positive" if positive else "nonnegative"
        raise GameError(f"latency signal must be {bound}, got {value!r} at time {time!r}")


@dataclass
class EWMADetector:
    """EWMA of the signal against two levels with hysteresis and a minimum dwell time.

    The average ``e_n = alpha * x_n + (1 - alpha) * e_{n-1}`` (``e_1 = x_1``) is
    compared with four thresholds (:attr:`thresholds`): the regime moves *up* to
    transition when ``e > low * (1 + hysteresis)`` and to saturated when
    ``e > high * (1 + hysteresis)``; it moves *down* to transition when
    ``e < high * (1 - hysteresis)`` and below saturation when
    ``e < low * (1 - hysteresis)``. Between an enter and its exit threshold the regime
    is kept, so a signal oscillating inside a band never switches. A change is applied
    only if at least ``min_dwell_s`` has passed since the previous change; otherwise it
    waits for a later poll that still asks for it.

    Parameters
    ----------
    low, high
        Signal levels (same unit as the samples, e.g. seconds of TTFT P99) separating
        below saturation / transition and transition / saturated; ``0 < low < high``.
    alpha
        EWMA weight of a new sample, in (0, 1]; the half-life is
        ``log(2) / -log(1 - alpha)`` polls.
    hysteresis
        Relative half-width of the band around each level, in [0, 1): a level ``L``
        is entered above ``L * (1 + hysteresis)`` and left below
        ``L * (1 - hysteresis)``.
    min_dwell_s
        Minimum time (same unit as the poll times) in a regime before it may change.
    """

    low: float
    high: float
    alpha: float = 0.3
    hysteresis: float = 0.1
    min_dwell_s: float = 5.0
    regime: Regime = Regime.BELOW
    ewma: float = math.nan
    since: float = -math.inf
    last_time: float = -math.inf

    def __post_init__(self) -> None:
        if not (math.isfinite(self.low) and math.isfinite(self.high)):
            raise GameError(f"thresholds must be finite, got low={self.low!r}, high={self.high!r}")
        if not 0 < self.low < self.high:
            raise GameError(
                f"thresholds out of order: need 0 < low < high, got low={self.low!r}, "
                f"high={self.high!r}"
            )
        if not 0 < self.alpha <= 1:
            raise GameError(f"alpha must be in (0, 1], got {self.alpha!r}")
        if not 0 <= self.hysteresis < 1:
            raise GameError(f"hysteresis must be in [0, 1), got {self.hysteresis!r}")
        if not (math.isfinite(self.min_dwell_s) and self.min_dwell_s >= 0):
            raise GameError(f"min_dwell_s must be finite and >= 0, got {self.min_dwell_s!r}")

    @property
    def thresholds(self) -> dict[str, float]:
        """The four thresholds: enter / exit of transition and of saturation."""
        h = self.hysteresis
        return {
            "enter_transition": self.low * (1 + h),
            "exit_transition": self.low * (1 - h),
            "enter_saturated": self.high * (1 + h),
            "exit_saturated": self.high * (1 - h),
        }

    def target(self, e: float) -> Regime:
        """The regime the average ``e`` asks for from the current regime (no dwell)."""
        return self._target(e, self.regime)

    def _target(self, e: float, regime: Regime) -> Regime:
        h = self.hysteresis
        up = 2 if e > self.high * (1 + h) else 1 if e > self.low * (1 + h) else 0
        down = 0 if e < self.low * (1 - h) else 1 if e < self.high * (1 - h) else 2
        current = int(regime)
        return Regime(up if up > current else down if down < current else current)

    def polls_to_switch(
        self, value: float, to: Regime | None = None, limit: int = 10_000
    ) -> int | None:
        """Polls until the regime is ``to`` (None: another regime) when the signal stays
        at ``value`` from now on.

        The detection delay of a step: starting from the current average and regime,
        the number of polls of a constant ``value`` after which :meth:`update` reports
        the regime, ignoring ``min_dwell_s`` (each switch also waits for what remains
        of it). None when ``value`` never gets there (within ``limit`` polls). In wall
        time a step is detected within ``(polls + 1) * interval``: the step can land
        just after a poll.

        Examples
        --------
        >>> d = EWMADetector(0.5, 1.0, alpha=0.5, min_dwell_s=0)
        >>> _ = d.update(0.0, 0.1)
        >>> d.polls_to_switch(3.0), d.polls_to_switch(0.2), d.polls_to_switch(0.7)
        (1, None, 3)
        >>> d.polls_to_switch(1.3, Regime.SATURATED)  # 0.7, 1.0, then 1.15 > 1.1
        3
        """
        e, regime = self.ewma, self.regime
        for polls in range(1, limit + 1):
            e = value if math.isnan(e) else self.alpha * value + (1 - self.alpha) * e
            regime = self._target(e, regime)
            if regime == to or (to is None and regime != self.regime):
                return polls
        return None

    def update(self, time: float, value: float, load: float = math.nan) -> Regime:
        """Consume the signal polled at ``time`` (``load`` is ignored).

        Raises
        ------
        GameError
            On a non-finite or negative value, or a time not after the previous poll.
        """
        _check_sample(time, self.last_time, value, positive=False)
        self.last_time = time
        e = value if math.isnan(self.ewma) else self.alpha * value + (1 - self.alpha) * self.ewma
        self.ewma = e
        target = self.target(e)
        if target != self.regime and time - self.since >= self.min_dwell_s:
            self.regime, self.since = target, time
        return self.regime


@dataclass
class CusumDetector:
    """Page's CUSUM on ``x = log(value / reference)``, one test per direction.

    Below saturation the upward statistic ``S+ = max(0, S+ + x - drift)`` accumulates
    evidence of a shift of the log latency of about ``2 * drift`` above the reference;
    the regime is *transition* once ``S+ > threshold / 2`` and *saturated* once
    ``S+ > threshold``. Saturated, the reverse test ``S- = max(0, S- + drift - x)``
    accumulates evidence of a return to the reference, and ``S- > threshold`` brings
    the regime back *below* (both sums restart at 0). On a noiseless step to a level
    with ``x > drift``, saturation is reported after exactly
    ``floor(threshold / (x - drift)) + 1`` polls.

    Parameters
    ----------
    reference
        Signal level of the unsaturated system (> 0).
    drift
        Allowance ``k`` in log units, half the log shift to detect (>= 0).
    threshold
        Decision interval ``h`` in log units (> 0).
    """

    reference: float
    drift: float = 0.2
    threshold: float = 2.0
    regime: Regime = Regime.BELOW
    up: float = 0.0
    down: float = 0.0
    last_time: float = -math.inf

    def __post_init__(self) -> None:
        if not (math.isfinite(self.reference) and self.reference > 0):
            raise GameError(f"reference must be finite and positive, got {self.reference!r}")
        if not (math.isfinite(self.drift) and self.drift >= 0):
            raise GameError(f"drift must be finite and >= 0, got {self.drift!r}")
        if not (math.isfinite(self.threshold) and self.threshold > 0):
            raise GameError(f"threshold must be finite and positive, got {self.threshold!r}")

    def update(self, time: float, value: float, load: float = math.nan) -> Regime:
        """Consume the signal polled at ``time`` (``load`` is ignored).

        Raises
        ------
        GameError
            On a non-finite or nonpositive value, or a time not after the previous poll.
        """
        _check_sample(time, self.last_time, value, positive=True)
        self.last_time = time
        x = math.log(value / self.reference)
        if self.regime == Regime.SATURATED:
            self.down = max(0.0, self.down + self.drift - x)
            if self.down > self.threshold:
                self.regime, self.up, self.down = Regime.BELOW, 0.0, 0.0
            return self.regime
        self.up = max(0.0, self.up + x - self.drift)
        if self.up > self.threshold:
            self.regime, self.down = Regime.SATURATED, 0.0
        elif self.up > self.threshold / 2:
            self.regime = Regime.TRANSITION
        else:
            self.regime = Regime.BELOW
        return self.regime


@dataclass
class CurvatureDetector:
    """Knee of latency versus load from the relative second derivative, online.

    Samples are averaged per load level. At each interior level ``i`` of the sorted
    levels ``u = log2(load)`` the three-point second derivative on the non-uniform grid

    ``d2_i = 2 * ((y[i+1] - y[i]) / (u[i+1] - u[i]) - (y[i] - y[i-1]) / (u[i] - u[i-1]))
    / (u[i+1] - u[i-1])``

    is divided by ``y[i]`` (a dimensionless curvature: relative latency change per
    squared doubling of the load). The knee is the lowest level whose curvature
    exceeds ``threshold``; the regime is *saturated* at loads at or above the knee,
    *transition* from ``transition_fraction * knee`` to the knee, else *below* (and
    *below* while no knee has been seen). A hockey stick flat up to load ``K`` and
    linear after it, sampled on a doubling grid through ``K``, has its knee at ``K``.

    Parameters
    ----------
    threshold
        Relative curvature above which a level is a knee (> 0).
    transition_fraction
        Fraction of the knee load where the transition starts, in (0, 1].
    """

    threshold: float = 0.5
    transition_fraction: float = 0.5
    regime: Regime = Regime.BELOW
    knee_load: float = math.nan
    levels: dict[float, tuple[float, int]] = field(default_factory=dict)
    last_time: float = -math.inf

    def __post_init__(self) -> None:
        if not (math.isfinite(self.threshold) and self.threshold > 0):
            raise GameError(f"threshold must be finite and positive, got {self.threshold!r}")
        if not 0 < self.transition_fraction <= 1:
            raise GameError(
                f"transition_fraction must be in (0, 1], got {self.transition_fraction!r}"
            )

    def curvature(self) -> pd.DataFrame:
        """Load levels seen, mean signal and relative curvature (NaN at the ends)."""
        loads = np.array(sorted(self.levels), dtype=np.float64)
        y = np.array([s / n for s, n in (self.levels[x] for x in loads)], dtype=np.float64)
        kappa = np.full(loads.size, math.nan)
        if loads.size >= 3:
            u = np.log2(loads)
            slope = np.diff(y) / np.diff(u)
            d2 = 2.0 * np.diff(slope) / (u[2:] - u[:-2])
            with np.errstate(divide="ignore", invalid="ignore"):
                kappa[1:-1] = np.where(y[1:-1] > 0, d2 / y[1:-1], math.nan)
        return pd.DataFrame({"load": loads, "value": y, "curvature": kappa})

    def update(self, time: float, value: float, load: float = math.nan) -> Regime:
        """Consume the signal polled at ``time`` under ``load``.

        Raises
        ------
        GameError
            On a non-finite or negative value, a load that is not finite and positive,
            or a time not after the previous poll.
        """
        _check_sample(time, self.last_time, value, positive=False)
        if not (math.isfinite(load) and load > 0):
            raise GameError(f"the curvature detector needs a finite positive load, got {load!r}")
        self.last_time = time
        total, count = self.levels.get(load, (0.0, 0))
        self.levels[load] = (total + value, count + 1)
        table = self.curvature()
        above = table.loc[table["curvature"] > self.threshold, "load"]
        self.knee_load = float(above.iloc[0]) if len(above) else math.nan
        if math.isnan(self.knee_load):
            self.regime = Regime.BELOW
        elif load >= self.knee_load:
            self.regime = Regime.SATURATED
        elif load >= self.transition_fraction * self.knee_load:
            self.regime = Regime.TRANSITION
        else:
            self.regime = Regime.BELOW
        return self.regime
