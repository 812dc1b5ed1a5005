"""Latency-versus-load curves fitted as cost functions, and the game they define.

For each deployment of a ``sweep`` the load is the measured request throughput
``lambda`` (requests/s) and the cost the request latency in seconds (TTFT by default),
the variables of a nonatomic routing game in which a stream of requests is split over
deployments (Wardrop 1952; Roughgarden and Tardos, JACM 49(2) 2002). Points past the
throughput maximum (the unstable, overloaded branch) are not used, so the load axis
is increasing. With ``load="concurrency"`` the load is the number of requests in
flight instead, which gives the per-worker costs ``c_w(n)`` of the atomic affinity
routing game. Three families are fitted:

* ``tabulated``: the measured points, interpolated monotonically (PCHIP);
* ``mm1``: ``t0 + 1 / (mu - lambda)``, an M/M/1 sojourn time (Kleinrock 1975) plus a
  fixed service floor, by bounded nonlinear least squares (``mu`` above the largest
  measured load);
* ``polynomial``: ``a0 + a1 lambda + ... + ad lambda^d`` with nonnegative coefficients
  (nonnegative least squares), the class of the Roughgarden-Tardos bounds.

The best parametric family per deployment (highest R^2) defines the links of a
parallel-links :class:`~gametheory.games.network.routing.RoutingGame`; its Wardrop equilibrium
and system optimum give a model PoA that can be set beside the router's PoA-hat.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.optimize import curve_fit, nnls

from gametheory.costs import MM1, Constant, CostFunction, Polynomial, Tabulated
from gametheory.errors import GameError, SolverError, TelemetryError
from gametheory.games.network.routing import RoutingGame
from gametheory.solvers.network.wardrop import system_optimum, wardrop_equilibrium
from gametheory.telemetry.knee import latency_column, require
from gametheory.telemetry.results import CostFitResult, CurveFit

__all__ = ["FAMILIES", "fit_costs", "fit_curve"]

FloatArray = NDArray[np.float64]
FAMILIES = ("tabulated", "mm1", "polynomial")


def _quality(cost: CostFunction, x: FloatArray, y: FloatArray) -> tuple[float, float]:
    pred = np.asarray(cost(x), dtype=np.float64)
    resid = y - pred
    rmse = float(np.sqrt(np.mean(resid**2)))
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    r2 = 1.0 - float(np.sum(resid**2)) / ss_tot if ss_tot > 0 else 1.0
    return r2, rmse


def _mm1(x: FloatArray, y: FloatArray) -> tuple[CostFunction, dict[str, float], bool]:
    def model(lam: FloatArray, t0: float, mu: float) -> FloatArray:
        return np.asarray(t0 + 1.0 / (mu - lam), dtype=np.float64)

    lo = float(x.max()) * (1 + 1e-6) + 1e-12
    mu0 = float(np.median(x + 1.0 / np.maximum(y, 1e-12)))
    start = [max(float(y.min()) / 2, 0.0), max(mu0, lo * 1.5)]
    try:
        with np.errstate(all="ignore"):
            params, _ = curve_fit(
                model, x, y, p0=start, bounds=([0.0, lo], [np.inf, np.inf]), maxfev=20000
            )
        t0, mu = float(params[0]), float(params[1])
        ok = bool(np.all(np.isfinite(params)))
    except (RuntimeError, ValueError):
        t0, mu, ok = start[0], start[1], False
    cost: CostFunction = MM1(mu) if t0 == 0 else Constant(t0) + MM1(mu)
    return cost, {"t0": t0, "mu": mu}, ok


def _polynomial(
    x: FloatArray, y: FloatArray, degree: int
) -> tuple[CostFunction, dict[str, float], bool]:
    scale = float(x.max()) or 1.0
    design = np.vander(x / scale, degree + 1, increasing=True)
    coef, _ = nnls(design, y)
    coef = coef / scale ** np.arange(degree + 1)
    return Polynomial(coef), {f"a{i}": float(c) for i, c in enumerate(coef)}, True


def fit_curve(
    load: Sequence[float] | FloatArray,
    latency: Sequence[float] | FloatArray,
    family: str,
    *,
    deployment: str = "",
    degree: int = 2,
) -> CurveFit:
    """Fit one latency-versus-load curve with one family (see the module docstring).

    Raises
    ------
    TelemetryError
        For an unknown family, fewer than two points, non-finite or negative values, or
        loads that are not strictly increasing.
    """
    x = np.asarray(load, dtype=np.float64)
    y = np.asarray(latency, dtype=np.float64)
    if family not in FAMILIES:
        raise TelemetryError(f"unknown family {family!r}; expected {FAMILIES}", field="family")
    if x.shape != y.shape or x.ndim != 1 or x.size < 2:
        raise TelemetryError("need two 1-D arrays of equal length >= 2", field="load")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))) or np.any(x < 0) or np.any(y < 0):
        raise TelemetryError("loads and latencies must be finite and >= 0", field="latency")
    if np.any(np.diff(x) <= 0):
        raise TelemetryError("loads must be strictly increasing", field="load")
    if family == "tabulated":
        cost: CostFunction = Tabulated(x, y)
        params: dict[str, float] = {"n_knots": float(x.size)}
        ok, method = True, "PCHIP through the measured points (Fritsch and Carlson 1980)"
    elif family == "mm1":
        cost, params, ok = _mm1(x, y)
        method = "t0 + 1/(mu - x) by bounded least squares (scipy curve_fit, trf)"
    else:
        cost, params, ok = _polynomial(x, y, degree)
        method = f"degree-{degree} polynomial, nonnegative least squares (scipy nnls)"
    r2, rmse = _quality(cost, x, y)
    return CurveFit(
        deployment=deployment,
        family=family,
        cost=cost,
        parameters=params,
        r2=r2,
        rmse=rmse,
        n_points=int(x.size),
        converged=ok,
        method=method,
    )


def _curve_points(sweep: pd.DataFrame, metric: str, load: str) -> tuple[FloatArray, FloatArray]:
    """Load and latency (s) per concurrency level.

    ``load="throughput"``: request throughput up to its maximum (the stable branch, so
    the load axis increases); ``load="concurrency"``: every concurrency level.
    """
    frame = sweep[["concurrency", "request_throughput", metric]].astype("float64")
    frame = frame.dropna(subset=["concurrency", metric])
    frame = frame[(frame["concurrency"] > 0) & (frame[metric] >= 0)]
    frame = frame.groupby("concurrency", sort=True).mean()
    lat = frame[metric].to_numpy(dtype=np.float64) / 1e3
    if load == "concurrency":
        return frame.index.to_numpy(dtype=np.float64), lat
    thr = frame["request_throughput"].to_numpy(dtype=np.float64)
    ok = np.isfinite(thr) & (thr > 0)
    thr, lat = thr[ok], lat[ok]
    if thr.size == 0:
        return thr, lat
    stop = int(np.argmax(thr)) + 1
    thr, lat = thr[:stop], lat[:stop]
    keep = np.concatenate([[True], np.diff(thr) > 0])
    return thr[keep], lat[keep]


def fit_costs(
    sweep: pd.DataFrame,
    metric: str = "ttft_ms_avg",
    *,
    deployments: Sequence[str] | None = None,
    degree: int = 2,
    demand: float | None = None,
    min_points: int = 3,
    load: Literal["throughput", "concurrency"] = "throughput",
) -> CostFitResult:
    """Fit cost functions to every deployment's latency curve and solve the game.

    Parameters
    ----------
    sweep
        A ``sweep`` frame with ``request_throughput`` and a latency column.
    metric
        Latency column (ms); the TTFT fallbacks of :func:`detect_knee` apply.
    deployments
        Deployments to use (default: all with at least ``min_points`` usable points).
    degree
        Degree of the polynomial family.
    demand
        Total load routed over the deployments in the game; default half the sum of
        their largest measured loads.
    min_points
        Fewest usable points for a deployment to be fitted.
    load
        ``"throughput"`` (req/s, nonatomic routing of a request stream) or
        ``"concurrency"`` (requests in flight): the latter gives per-worker costs
        ``c_w(n)`` for the atomic :class:`~gametheory.games.affinity.game.AffinityRoutingGame`.

    Returns
    -------
    CostFitResult
        All fits, the best per deployment, the parallel-links game (two or more
        deployments), its Wardrop equilibrium and system optimum, and the model PoA.
    """
    require(sweep, ("deployment", "concurrency", "request_throughput"))
    if load not in ("throughput", "concurrency"):
        raise TelemetryError("load must be 'throughput' or 'concurrency'", field="load")
    col = latency_column(sweep, metric)
    names = (
        list(deployments)
        if deployments is not None
        else sorted(str(d) for d in sweep["deployment"].dropna().unique())
    )
    fits: dict[tuple[str, str], CurveFit] = {}
    best: dict[str, CurveFit] = {}
    peaks: list[float] = []
    for name in names:
        part = sweep[sweep["deployment"] == name]
        if part.empty:
            raise TelemetryError(f"no rows for deployment {name!r}", field="deployments")
        x, y = _curve_points(part, col, load)
        if x.size < min_points:
            if deployments is not None:
                raise TelemetryError(
                    f"deployment {name!r} has {x.size} usable points (< {min_points})",
                    field="deployments",
                )
            continue
        for family in FAMILIES:
            fits[(name, family)] = fit_curve(x, y, family, deployment=name, degree=degree)
        parametric = [fits[(name, f)] for f in ("mm1", "polynomial") if fits[(name, f)].converged]
        best[name] = (
            max(parametric, key=lambda f: f.r2) if parametric else fits[(name, "tabulated")]
        )
        peaks.append(float(x.max()))
    if not best:
        raise TelemetryError("no deployment has enough points to fit", field="deployments")
    total = 0.5 * float(sum(peaks)) if demand is None else float(demand)
    game, eq, opt, poa = None, None, None, math.nan
    method = f"per-deployment fits of latency (s) against {load}; best parametric family by R^2"
    if len(best) >= 2:
        try:
            game = RoutingGame.parallel_links([f.cost for f in best.values()], total)
            eq = wardrop_equilibrium(game, rgap=1e-8, max_iter=5000)
            opt = system_optimum(game, rgap=1e-8, max_iter=5000)
        except (GameError, SolverError) as exc:
            raise TelemetryError(
                f"the fitted game cannot be solved: {exc}", field="demand"
            ) from exc
        poa = eq.total_cost / opt.total_cost if opt.total_cost > 0 else math.nan
        method += "; parallel links solved by bi-conjugate Frank-Wolfe"
    converged = all(f.converged for f in best.values()) and (
        eq is None or (eq.converged and opt is not None and opt.converged)
    )
    return CostFitResult(
        fits=fits,
        best=best,
        game=game,
        demand=total,
        equilibrium=eq,
        optimum=opt,
        model_poa=poa,
        converged=converged,
        method=method,
    )
