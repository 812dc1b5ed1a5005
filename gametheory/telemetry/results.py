"""Results of the telemetry analyses: PoA-hat, the saturation knee and fitted cost curves."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gametheory.results import Result
from gametheory.solvers.network.results import FlowResult

__all__ = ["CostFitResult", "CurveFit", "KneeResult", "LatencyModel", "PoAHatResult"]


FloatArray = NDArray[np.float64]


@dataclass(frozen=True, repr=False)
class PoAHatResult(Result):
    """The empirical Price of Anarchy (PoA-hat) of a router's decisions.

    Attributes
    ----------
    poa_hat
        Ratio of sums: total actual cost over total optimal cost across all windows.
    ci_low, ci_high
        Bootstrap percentile confidence interval of ``poa_hat`` (windows resampled).
    confidence
        Level of the interval (e.g. 0.95).
    per_window
        Actual / optimal cost of each window (its distribution).
    actual_cost, optimal_cost
        The two sums behind ``poa_hat``.
    window
        Decisions per window (N).
    n_windows
        Windows evaluated.
    n_decisions
        Decisions read.
    n_unused
        Trailing decisions that did not fill a window, and windows left out because a
        chosen worker was not a candidate of the window's first decision.
    capacity_aware
        Whether the optimum allowed several requests per worker with a congestion term.
    variant
        Name of the estimator variant (:mod:`~gametheory.telemetry.poa_variants`).
    units
        Unit of ``actual_cost`` and ``optimal_cost``: ``"blocks"`` (router logits) or
        ``"ms"`` (latency).
    converged
        Whether every window's assignment problem was solved to optimality.
    iterations
        Assignment problems solved (one per window).
    method
        ``"hungarian"`` or ``"capacity-aware min-cost assignment"``.
    n_bootstrap
        Bootstrap replicates behind the interval.
    """

    poa_hat: float
    ci_low: float
    ci_high: float
    confidence: float
    per_window: FloatArray
    actual_cost: float
    optimal_cost: float
    window: int
    n_windows: int
    n_decisions: int
    n_unused: int
    capacity_aware: bool
    variant: str
    units: str
    converged: bool
    iterations: int
    method: str
    n_bootstrap: int


@dataclass(frozen=True, repr=False)
class KneeResult(Result):
    """The saturation knee of a latency-versus-concurrency sweep.

    Attributes
    ----------
    deployment
        Deployment the sweep belongs to.
    metric
        Latency column used (e.g. ``"ttft_ms_p99"``).
    knee
        Concurrency of the knee (Kneedle's, else the plateau or curvature estimate).
    interval
        ``(low, high)``: the range spanned by the three estimates.
    first_post_knee
        First grid concurrency above ``knee`` (NaN if the knee is the last point).
    kneedle, plateau, curvature
        The three estimates: Kneedle (Satopaa et al. 2011) on latency, the first point
        where throughput stops scaling, and the largest discrete second derivative.
        NaN where an estimate does not exist.
    concurrency, latency, throughput
        The sweep the knee was found on (sorted by concurrency).
    rise
        Largest latency over the smallest in the sweep.
    flat
        True when no estimate holds (latency grows slower than the detector's
        ``min_elasticity`` past every latency estimate, and throughput never stops
        scaling): the grid holds no knee, every point is below saturation.
    converged
        Whether a knee was found.
    method
        The estimators used.
    """

    deployment: str
    metric: str
    knee: float
    interval: tuple[float, float]
    first_post_knee: float
    kneedle: float
    plateau: float
    curvature: float
    concurrency: FloatArray
    latency: FloatArray
    throughput: FloatArray
    rise: float
    flat: bool
    converged: bool
    method: str

    @property
    def end_elasticity(self) -> float:
        """Throughput elasticity ``d log X / d log C`` between the sweep's last two
        points (1: still scaling linearly, 0: saturated; NaN without two positive
        throughputs)."""
        x, thr = self.concurrency, self.throughput
        if x.size < 2 or not (thr[-1] > 0 and thr[-2] > 0):
            return math.nan
        return float(math.log(thr[-1] / thr[-2]) / math.log(x[-1] / x[-2]))


@dataclass(frozen=True, repr=False)
class CurveFit(Result):
    """A latency-versus-load curve fitted as a cost function.

    Attributes
    ----------
    deployment
        Deployment the curve belongs to.
    family
        ``"tabulated"``, ``"mm1"`` or ``"polynomial"``.
    cost
        The fitted :class:`~gametheory.costs.CostFunction` (load -> latency).
    parameters
        Fitted parameters by name.
    r2, rmse
        Goodness of fit on the measured points (coefficient of determination and root
        mean squared error, in the latency's unit).
    n_points
        Points fitted.
    converged
        Whether the fit succeeded.
    method
        Fitting procedure.
    """

    deployment: str
    family: str
    cost: Any
    parameters: dict[str, float]
    r2: float
    rmse: float
    n_points: int
    converged: bool
    method: str


@dataclass(frozen=True, repr=False)
class CostFitResult(Result):
    """Cost functions fitted from a sweep, the game they define and its model PoA.

    Attributes
    ----------
    fits
        Every fit, keyed by ``(deployment, family)``.
    best
        The chosen fit per deployment (highest R^2 among the usable families).
    game
        Parallel-links routing game with one link per deployment (None if fewer than two
        deployments).
    demand
        Total load routed in the game.
    equilibrium, optimum
        Wardrop equilibrium and system optimum of the game (FlowResult or None).
    model_poa
        Equilibrium cost / optimal cost of the game (NaN without a game).
    converged
        Whether every fit and both flow computations converged.
    method
        How the costs were fitted and the game solved.
    """

    fits: dict[tuple[str, str], CurveFit]
    best: dict[str, CurveFit]
    game: Any
    demand: float
    equilibrium: FlowResult | None
    optimum: FlowResult | None
    model_poa: float
    converged: bool
    method: str


@dataclass(frozen=True, repr=False)
class LatencyModel(Result):
    """A per-worker linear latency model fitted on routing telemetry.

    A request routed to worker ``w`` with ``p`` prompt blocks still to prefill there,
    while ``w`` holds ``d`` active decode blocks, is predicted to see
    ``intercept_ms[w] + prefill_ms[w] * p + decode_ms[w] * d`` milliseconds.

    Attributes
    ----------
    workers
        Worker ids, in the order of the coefficient arrays.
    intercept_ms, prefill_ms, decode_ms
        Nonnegative coefficients per worker (ms, ms per prefill block, ms per decode
        block).
    metric
        The ``requests`` column fitted (``"ttft_ms"`` or ``"latency_ms"``).
    n_samples
        Requests fitted per worker.
    pooled
        Workers with fewer than ``min_samples`` requests, given the pooled fit.
    r2
        Coefficient of determination of the fit over all requests.
    median_ape
        Median absolute percentage error over all requests.
    n_unmatched
        Chosen decisions without a request (no id, not in ``requests``, failed, or a
        missing latency), left out of the fit.
    converged
        Whether every nonnegative least-squares fit converged.
    method
        Fitting procedure.
    """

    workers: tuple[str, ...]
    intercept_ms: FloatArray
    prefill_ms: FloatArray
    decode_ms: FloatArray
    metric: str
    n_samples: NDArray[np.int64]
    pooled: tuple[str, ...]
    r2: float
    median_ape: float
    n_unmatched: int
    converged: bool
    method: str
