"""The adaptive router policy: regime -> Dynamo KV-router parameters ``(omega, tau)``.

Below saturation the router should chase cache affinity (a large overlap weight
``omega``: prefix hits cut prefill work, and idle capacity absorbs the imbalance);
once saturated, load balancing (``omega`` near 0: the logit is the decode load, so
the router spreads requests). :class:`AdaptiveController` applies this mapping to the
regime a detector (:mod:`gametheory.control.detector`) reads off the TTFT P99 signal.
The same controller runs inside the simulator (:class:`gametheory.sim.routing.
AdaptivePolicy`) and, through :func:`parameters_from_scrape`, against a real
deployment: Prometheus scrapes of Dynamo's frontend (read by
:func:`gametheory.telemetry.read_prometheus`) in, router parameters out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from gametheory.control.detector import Detector, EWMADetector, Regime
from gametheory.errors import GameError, TelemetryError
from gametheory.telemetry.readers.prometheus import histogram_quantile, increase, series

__all__ = [
    "DEFAULT_MAPPING",
    "PAPER_MAPPING",
    "TTFT_FAMILY",
    "AdaptiveController",
    "parameters_from_scrape",
]

DEFAULT_MAPPING: dict[Regime, tuple[float, float]] = {
    Regime.BELOW: (2.0, 0.0),
    Regime.TRANSITION: (1.0, 0.0),
    Regime.SATURATED: (0.0, 0.0),
}
"""Regime -> router ``(omega, tau)``: cache affinity, Dynamo's default, load balancing."""

PAPER_MAPPING: dict[Regime, tuple[float, float]] = {
    Regime.BELOW: (1.0, 0.0),
    Regime.TRANSITION: (1.0, 0.0),
    Regime.SATURATED: (0.1, 0.8),
}
"""The paper's rows: Dynamo's defaults (``overlap_score_weight`` 1, temperature 0) until
saturation, then ``omega = 0.1`` and ``tau = 0.8`` (load balancing with softmax
sampling), set per request through Dynamo's ``router_config_override``."""

TTFT_FAMILY = "dynamo_frontend_time_to_first_token_seconds"
"""The TTFT histogram family of Dynamo's frontend."""


@dataclass
class AdaptiveController:
    """Detector + mapping from regime to ``(omega, tau)``.

    Parameters
    ----------
    detector
        Saturation detector fed with TTFT P99 (seconds). Default: an EWMA detector
        with thresholds 0.5 s and 1.0 s; use :meth:`for_baseline` to scale them to a
        deployment.
    mapping
        Router parameters per regime.
    """

    detector: Detector = field(default_factory=lambda: EWMADetector(0.5, 1.0))
    mapping: dict[Regime, tuple[float, float]] = field(
        default_factory=lambda: dict(DEFAULT_MAPPING)
    )
    history: list[tuple[float, Regime]] = field(default_factory=list)

    def __post_init__(self) -> None:
        missing = [r.name for r in Regime if r not in self.mapping]
        if missing:
            raise GameError(f"mapping lacks regimes {missing}")
        for omega, tau in self.mapping.values():
            if not (math.isfinite(omega) and omega >= 0 and math.isfinite(tau) and tau >= 0):
                raise GameError("mapping values must be finite, nonnegative (omega, tau)")

    @classmethod
    def for_baseline(
        cls,
        baseline_s: float,
        *,
        low: float = 2.0,
        high: float = 4.0,
        alpha: float = 0.3,
        hysteresis: float = 0.1,
        min_dwell_s: float = 5.0,
        mapping: dict[Regime, tuple[float, float]] | None = None,
    ) -> AdaptiveController:
        """An EWMA controller whose thresholds are ``low`` and ``high`` times the
        unloaded TTFT ``baseline_s``."""
        if not baseline_s > 0:
            raise GameError(f"baseline_s must be positive, got {baseline_s!r}")
        detector = EWMADetector(baseline_s * low, baseline_s * high, alpha, hysteresis, min_dwell_s)
        return cls(detector, dict(DEFAULT_MAPPING if mapping is None else mapping))

    @property
    def regime(self) -> Regime:
        """Current regime."""
        return self.detector.regime

    @property
    def parameters(self) -> tuple[float, float]:
        """Current ``(omega, tau)``."""
        return self.mapping[self.detector.regime]

    def update(self, time: float, ttft_p99: float, load: float = math.nan) -> tuple[float, float]:
        """Feed one polled TTFT P99 (seconds); return the router parameters to use."""
        before = self.detector.regime
        after = self.detector.update(time, ttft_p99, load)
        if after != before:
            self.history.append((time, after))
        return self.mapping[after]


def parameters_from_scrape(
    samples: pd.DataFrame,
    controller: AdaptiveController | None = None,
    *,
    family: str = TTFT_FAMILY,
    quantile: float = 0.99,
    interval_s: float = 1.0,
    labels: dict[str, str] | None = None,
    min_requests: int = 10,
    load_metric: str | None = None,
) -> pd.DataFrame:
    """Router parameters from a series of Prometheus scrapes of a real deployment.

    For each scrape, the increments of the TTFT histogram's buckets since the previous
    scrape give the ``quantile`` of the time to first token of that interval's requests
    (PromQL ``histogram_quantile(0.99, sum by (le) (increase(..._bucket[interval])))``,
    computed by :func:`gametheory.telemetry.histogram_quantile`), which is fed to the
    controller; the controller's ``(omega, tau)`` are the router parameters to apply
    after that scrape. The first scrape's interval is everything since the process
    started (its histogram's whole content).

    An interval with fewer than ``min_requests`` new observations gives no signal: the
    controller is not updated and keeps its regime. A P99 over a handful of requests is
    their maximum, and one slow warm-up request of a fresh server would otherwise flip
    the router to load balancing.

    Parameters
    ----------
    samples
        A ``samples`` frame (:func:`gametheory.telemetry.read_prometheus`) of one or
        more scrapes in order.
    controller
        The controller (its state advances); default a fresh :class:`AdaptiveController`.
    family
        TTFT histogram family: Dynamo's frontend ``dynamo_frontend_time_to_first_token_
        seconds`` (default), or an engine's, e.g. ``vllm:time_to_first_token_seconds``.
    quantile
        Quantile of the signal, in [0, 1].
    interval_s
        Scrape interval, for scrapes without timestamps (scrape ``k`` at
        ``k * interval_s``).
    labels
        Only the histogram series with these label values (e.g. one model); the others
        are summed (``sum by (le)``).
    min_requests
        Fewest new observations in an interval for its quantile to be used (>= 1).
    load_metric
        A gauge or counter fed to the controller as the load (summed over its series),
        e.g. ``dynamo_frontend_inflight_requests``; needed by a
        :class:`~gametheory.control.detector.CurvatureDetector`.

    Returns
    -------
    pandas.DataFrame
        One row per scrape: ``scrape``, ``time``, ``requests`` (new observations),
        ``ttft_p99_s`` (NaN when below ``min_requests``), ``load``, ``regime``,
        ``omega`` and ``tau``.

    Raises
    ------
    TelemetryError
        If the histogram family or the load metric is absent, or the scrape times do
        not increase.
    GameError
        On a bad ``quantile``, ``interval_s`` or ``min_requests``.
    """
    if not 0 <= quantile <= 1:
        raise GameError(f"quantile must be in [0, 1], got {quantile!r}")
    if not (math.isfinite(interval_s) and interval_s > 0):
        raise GameError(f"interval_s must be positive, got {interval_s!r}")
    if min_requests < 1:
        raise GameError(f"min_requests must be >= 1, got {min_requests!r}")
    ctl = AdaptiveController() if controller is None else controller
    buckets = samples[samples["metric"] == f"{family}_bucket"]
    if buckets.empty:
        known = sorted(
            str(m)[: -len("_bucket")]
            for m in samples["metric"].unique()
            if str(m).endswith("_bucket")
        )
        raise TelemetryError(
            f"no buckets of histogram {family!r}; histograms in the scrape: {known}",
            field="family",
        )
    increments = increase(samples, f"{family}_bucket", labels)
    scrapes = np.sort(samples["scrape"].unique())
    stamped = samples.groupby("scrape", sort=True)["time"].first().reindex(scrapes)
    times = np.where(
        stamped.isna().to_numpy(), scrapes * interval_s, stamped.to_numpy(dtype=np.float64)
    )
    if np.any(np.diff(times) <= 0):
        raise TelemetryError("scrape times must increase", field="time")
    increments["time"] = times[np.searchsorted(scrapes, increments["scrape"].to_numpy())]
    quantiles = histogram_quantile(quantile, increments, family, by=())
    q = quantiles.set_index("scrape")["quantile"].reindex(scrapes)
    plus_inf = increments[np.isinf(increments["le"].to_numpy(dtype=np.float64))]
    counts = plus_inf.groupby("scrape")["value"].sum().reindex(scrapes, fill_value=0.0)
    load: pd.Series
    if load_metric is None:
        load = pd.Series(math.nan, index=scrapes)
    else:
        load = series(samples.assign(time=math.nan), load_metric).reindex(scrapes)
    rows = []
    for k, scrape in enumerate(scrapes.tolist()):
        t = float(times[k])
        n = round(float(counts.loc[scrape]))
        p99 = float(q.loc[scrape])
        x = float(load.loc[scrape])
        if n >= min_requests and math.isfinite(p99):
            omega, tau = ctl.update(t, p99, x)
        else:
            p99 = math.nan
            omega, tau = ctl.parameters
        rows.append((int(scrape), t, n, p99, x, ctl.regime.name.lower(), omega, tau))
    columns = ["scrape", "time", "requests", "ttft_p99_s", "load", "regime", "omega", "tau"]
    return pd.DataFrame(rows, columns=columns)
