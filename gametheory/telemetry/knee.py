"""Saturation knee and load regimes of a latency-versus-concurrency sweep.

Three estimators are combined:

* Kneedle (Satopaa, Albrecht, Irwin, Raghavan, ICDCS Workshops 2011) on the latency
  curve against ``log2(concurrency)``, via the maintained ``kneed`` package (convex,
  increasing, online);
* the throughput-plateau test: the first grid point where throughput stops scaling,
  i.e. where the elasticity ``d log(throughput) / d log(concurrency)`` between
  consecutive points falls below ``plateau_elasticity`` (by Little's law latency then
  grows faster than ``1 - plateau_elasticity`` of the load);
* the largest discrete second derivative of latency versus ``log2(concurrency)``
  (non-uniform grid finite differences).

The knee is Kneedle's point (else the plateau, else the curvature point); the knee
interval spans the three estimates; regimes are *below saturation* (below the interval),
*transition* (inside it) and *saturated* (above it).

Kneedle normalises the curve to the unit square, so it finds a "knee" in any curve,
including a flat one whose wiggles are batching noise. A latency estimate therefore
counts only when latency grows past it at least as fast as ``C ** min_elasticity``
(the log-log slope from the estimate to the sweep's last point; 0.5 by default, the
plateau test's threshold read through Little's law: past a closed loop's saturation
latency grows like ``C``, while batching noise leaves it flat); a sweep with no
accepted estimate whose throughput never stops scaling has no knee, and all its points
are below saturation.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from gametheory.errors import TelemetryError
from gametheory.telemetry.results import KneeResult

__all__ = ["LATENCY_FALLBACK", "classify_regimes", "detect_knee", "detect_knees"]

FloatArray = NDArray[np.float64]

#: Latency columns tried in turn when the requested one is empty in the sweep.
LATENCY_FALLBACK = ("ttft_ms_p99", "ttft_ms_p90", "ttft_ms_p50", "ttft_ms_avg")


def require(frame: pd.DataFrame, columns: tuple[str, ...]) -> None:
    """Raise TelemetryError naming the first of ``columns`` missing from ``frame``."""
    for col in columns:
        if col not in frame.columns:
            raise TelemetryError("the sweep frame lacks a column", field=col)


def latency_column(sweep: pd.DataFrame, metric: str) -> str:
    """``metric`` if the sweep has data in it, else the first TTFT fallback that does."""
    if metric not in sweep.columns:
        raise TelemetryError("no such latency column in the sweep", field=metric)
    if sweep[metric].notna().any():
        return metric
    chain = LATENCY_FALLBACK if metric.startswith("ttft") else ()
    for alt in chain:
        if alt in sweep.columns and sweep[alt].notna().any():
            return alt
    raise TelemetryError("latency column is empty in the sweep", field=metric)


def _curve(sweep: pd.DataFrame, metric: str) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Concurrency, latency, throughput per grid point (repeats averaged, NaN rows out)."""
    require(sweep, ("concurrency", "request_throughput", metric))
    frame = sweep[["concurrency", metric, "request_throughput"]].astype("float64")
    frame = frame[np.isfinite(frame["concurrency"]) & np.isfinite(frame[metric])]
    grouped = frame.groupby("concurrency", sort=True).mean()
    return (
        grouped.index.to_numpy(dtype=np.float64),
        grouped[metric].to_numpy(dtype=np.float64),
        grouped["request_throughput"].to_numpy(dtype=np.float64),
    )


def _kneedle(x: FloatArray, y: FloatArray, sensitivity: float, log_x: bool) -> float:
    if x.size < 3 or np.ptp(y) == 0:
        return math.nan
    # Imported here: kneed imports matplotlib.pyplot, half a second that `import
    # gametheory` (and every command-line call) would otherwise pay.
    from kneed import KneeLocator

    u = np.log2(x) if log_x else x
    locator = KneeLocator(u, y, S=sensitivity, curve="convex", direction="increasing", online=True)
    if locator.knee is None:
        return math.nan
    return float(x[int(np.argmin(np.abs(u - float(locator.knee))))])


def _plateau(x: FloatArray, thr: FloatArray, elasticity: float) -> float:
    ok = np.isfinite(thr) & (thr > 0)
    if np.count_nonzero(ok) < 2:
        return math.nan
    xs, ts = x[ok], thr[ok]
    e = np.diff(np.log(ts)) / np.diff(np.log(xs))
    below = np.flatnonzero(e < elasticity)
    return float(xs[below[0] + 1]) if below.size else math.nan


def _curvature(x: FloatArray, y: FloatArray, log_x: bool) -> float:
    if x.size < 3:
        return math.nan
    u = np.log2(x) if log_x else x
    d2 = np.gradient(np.gradient(y, u), u)
    inner = d2[1:-1]
    if not np.any(inner > 0):
        return math.nan
    return float(x[1 + int(np.argmax(inner))])


def _rising(x: FloatArray, y: FloatArray, estimate: float, min_elasticity: float) -> float:
    """``estimate`` if latency grows past it at least like ``C ** min_elasticity``."""
    if math.isnan(estimate) or estimate >= x[-1]:
        return estimate
    at = float(y[int(np.argmin(np.abs(x - estimate)))])
    if not (at > 0 and y[-1] > 0):
        return estimate
    slope = math.log(float(y[-1]) / at) / math.log(float(x[-1]) / estimate)
    return estimate if slope >= min_elasticity else math.nan


def _key(deployment: object, policy: object) -> str:
    """Name of a (deployment, policy) sweep: the deployment, with the policy if stated."""
    if policy is None or policy is pd.NA or (isinstance(policy, float) and math.isnan(policy)):
        return str(deployment)
    return f"{deployment} [{policy}]"


def detect_knee(
    sweep: pd.DataFrame,
    metric: str = "ttft_ms_p99",
    *,
    deployment: str | None = None,
    policy: str | None = None,
    sensitivity: float = 1.0,
    plateau_elasticity: float = 0.5,
    log_x: bool = True,
    min_elasticity: float = 0.5,
) -> KneeResult:
    """Find the saturation knee of latency versus concurrency for one deployment.

    Parameters
    ----------
    sweep
        A ``sweep`` frame. If it holds several deployments or policies, name one.
    metric
        Latency column; TTFT P99 by default. If that column is empty (e.g. the
        aiconfigurator tables, which hold one TTFT value per point), the next of
        :data:`LATENCY_FALLBACK` that has data is used and named in the result.
    deployment, policy
        Which deployment and routing policy of ``sweep`` to use.
    sensitivity
        Kneedle's ``S``.
    plateau_elasticity
        Throughput elasticity below which throughput has plateaued.
    log_x
        Run Kneedle and the second derivative on ``log2(concurrency)``: benchmark grids
        are geometric (4, 8, 16, ...), and on a linear axis their few points leave
        Kneedle without a knee. Kneedle runs in its online mode (the last knee found).
    min_elasticity
        Smallest log-log slope of latency from a latency estimate (Kneedle's or the
        curvature point) to the sweep's last point for the estimate to count; 0 accepts
        any rise, a negative value any estimate. An estimate at the last point counts.

    Returns
    -------
    KneeResult
        The knee, its interval, the first post-knee grid point and the three estimates;
        ``converged`` is False when the sweep has fewer than three points or no
        estimator finds a knee; ``flat`` when no knee exists in the grid.

    Raises
    ------
    TelemetryError
        On a missing column, an ambiguous sweep, nonpositive concurrency or a
        non-finite ``min_elasticity``.
    """
    if not math.isfinite(min_elasticity):
        raise TelemetryError(
            f"min_elasticity must be finite, got {min_elasticity!r}", field="min_elasticity"
        )
    require(sweep, ("deployment", "policy", "concurrency"))
    for column, value in (("deployment", deployment), ("policy", policy)):
        if value is not None:
            sweep = sweep[sweep[column] == value]
            if sweep.empty:
                raise TelemetryError(f"no rows for {column} {value!r}", field=column)
    keys = {_key(d, p) for d, p in zip(sweep["deployment"], sweep["policy"])}
    if len(keys) > 1:
        raise TelemetryError(
            f"sweep holds {len(keys)} deployment/policy sweeps; pass deployment= and policy=",
            field="deployment",
        )
    name = keys.pop() if keys else ""
    col = latency_column(sweep, metric)
    x, y, thr = _curve(sweep, col)
    if x.size and np.any(x <= 0):
        raise TelemetryError("concurrency must be positive", field="concurrency")
    positive = y[np.isfinite(y) & (y > 0)]
    rise = float(positive.max() / positive.min()) if positive.size else math.nan
    kneedle = _rising(x, y, _kneedle(x, y, sensitivity, log_x), min_elasticity)
    plateau = _plateau(x, thr, plateau_elasticity)
    curvature = _rising(x, y, _curvature(x, y, log_x), min_elasticity)
    estimates = [v for v in (kneedle, plateau, curvature) if not math.isnan(v)]
    if not estimates:
        knee, interval, post = math.nan, (math.nan, math.nan), math.nan
    else:
        knee = estimates[0]
        interval = (min(estimates), max(estimates))
        above = x[x > knee]
        post = float(above[0]) if above.size else math.nan
    return KneeResult(
        deployment=name,
        metric=col,
        knee=knee,
        interval=interval,
        first_post_knee=post,
        kneedle=kneedle,
        plateau=plateau,
        curvature=curvature,
        concurrency=x,
        latency=y,
        throughput=thr,
        rise=rise,
        flat=not estimates and x.size >= 3,
        converged=bool(estimates),
        method="kneedle (kneed) + throughput plateau + max second derivative"
        + f"; latency estimates need latency elasticity >= {min_elasticity:g} past them",
    )


def detect_knees(
    sweep: pd.DataFrame,
    metric: str = "ttft_ms_p99",
    *,
    min_points: int = 3,
    progress: Callable[[int, int, str], None] | None = None,
) -> dict[str, KneeResult]:
    """:func:`detect_knee` for every (deployment, policy) with at least ``min_points``
    concurrency levels, keyed by deployment (``"deployment [policy]"`` when a policy is
    stated). ``progress(i, n, name)`` is called before each sweep."""
    require(sweep, ("deployment", "policy", "concurrency"))
    out: dict[str, KneeResult] = {}
    groups = sweep.groupby(["deployment", "policy"], sort=True, dropna=False)
    for i, ((name, policy), part) in enumerate(groups):
        if progress is not None:
            progress(i, groups.ngroups, str(name))
        if part["concurrency"].nunique() >= min_points:
            out[_key(name, policy)] = detect_knee(part, metric)
    return out


def classify_regimes(
    sweep: pd.DataFrame,
    metric: str = "ttft_ms_p99",
    *,
    min_points: int = 3,
    knees: dict[str, KneeResult] | None = None,
) -> pd.DataFrame:
    """Label every grid point *below saturation*, *transition* or *saturated*.

    Per deployment and policy, points below the knee interval are ``"below
    saturation"``, points inside it ``"transition"``, points above it ``"saturated"``.
    A sweep whose latency stays flat (:attr:`KneeResult.flat`) is below saturation
    everywhere. Sweeps with fewer than ``min_points`` concurrency levels, or without a
    knee otherwise, get ``"unknown"``. Pass ``knees`` (from :func:`detect_knees`) to
    reuse them.

    Returns
    -------
    pandas.DataFrame
        ``deployment``, ``policy``, ``concurrency``, ``regime``, ``knee``, ``knee_low``,
        ``knee_high``.
    """
    require(sweep, ("deployment", "policy", "concurrency"))
    if knees is None:
        knees = detect_knees(sweep, metric, min_points=min_points)
    rows = (
        sweep[["deployment", "policy", "concurrency"]]
        .drop_duplicates()
        .sort_values(["deployment", "policy", "concurrency"], ignore_index=True)
    )
    found = [knees.get(_key(d, p)) for d, p in zip(rows["deployment"], rows["policy"])]
    knee = np.array([k.knee if k else np.nan for k in found], dtype=np.float64)
    lo = np.array([k.interval[0] if k else np.nan for k in found], dtype=np.float64)
    hi = np.array([k.interval[1] if k else np.nan for k in found], dtype=np.float64)
    flat = np.array([bool(k and k.flat) for k in found], dtype=bool)
    c = rows["concurrency"].to_numpy(dtype=np.float64)
    with np.errstate(invalid="ignore"):
        regime = np.select(
            [flat, np.isnan(lo) | np.isnan(c), c < lo, c <= hi],
            ["below saturation", "unknown", "below saturation", "transition"],
            default="saturated",
        )
    return rows.assign(
        regime=pd.Series(regime, dtype="string"), knee=knee, knee_low=lo, knee_high=hi
    )
