"""Results of the telemetry analyses: PoA-hat, the saturation knee and fitted cost curves."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gametheory.results import Result
from gametheory.solvers.network.results import FlowResult

__all__ = ["CostFitResult", "CurveFit", "KneeResult", "PoAHatResult"]


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
    converged: bool
    method: str


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
