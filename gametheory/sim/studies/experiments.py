"""Simulation experiments of the paper: regimes, the adaptive router and its lag.

Each function runs simulations (:func:`gametheory.sim.sweep.sweep` cells, so any
:class:`concurrent.futures.Executor` can carry them) and returns a frozen result:

* :func:`regime_study`: PoA-hat per topology x concurrency x (omega, tau); the knee of
  TTFT P99 versus concurrency (:func:`gametheory.telemetry.detect_knee`), the regimes
  (:func:`gametheory.telemetry.classify_regimes`) and the three-regime summary:
  low-load PoA-hat (fewer users than decode workers, where a window of ``N``
  decisions is not a meaningful game), the plateau (median and spread across router
  settings) and the saturated points.
* :func:`adaptive_comparison`: adaptive router versus Dynamo's static default
  ``(omega, tau) = (1, 0)`` at one concurrency, paired over seeds, with Student-t
  intervals of the PoA-hat reduction and of the throughput cost.
* :func:`lag_study`: the same comparison when the router sees worker state late.
* :func:`policy_curves`: TTFT and throughput of each routing policy against load.

:mod:`gametheory.sim.studies.study` runs them all with the referee checks.

References
----------
Roughgarden, T., "Selfish Routing and the Price of Anarchy", MIT Press, 2005.
Satopaa, V. et al., "Finding a 'Kneedle' in a Haystack", ICDCS Workshops, 2011.
Rosenthal, R. W., "A class of games possessing pure-strategy Nash equilibria",
IJGT 2(1), 1973.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import replace

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.special import stdtrit

from gametheory.errors import GameError
from gametheory.sim.serving.cluster import parse_topology, topology_name
from gametheory.sim.studies.results import (
    AdaptiveComparisonResult,
    RegimeStudyResult,
)
from gametheory.sim.sweep import SweepGrid, sweep
from gametheory.telemetry.knee import classify_regimes, detect_knee

__all__ = [
    "adaptive_comparison",
    "lag_study",
    "poa_summary",
    "policy_curves",
    "regime_study",
]

FloatArray = NDArray[np.float64]


def _t_interval(x: FloatArray, confidence: float) -> tuple[float, float]:
    """Student-t interval of the mean of ``x`` (NaN for fewer than two values)."""
    if x.size < 2:
        return (math.nan, math.nan)
    half = float(stdtrit(x.size - 1, 0.5 + confidence / 2)) * float(
        np.std(x, ddof=1) / math.sqrt(x.size)
    )
    mean = float(np.mean(x))
    return (mean - half, mean + half)


def poa_summary(
    part: pd.DataFrame, regimes: dict[float, str], knee: float, column: str = "poa_hat"
) -> dict[str, float | str]:
    """PoA-hat of one topology's sweep rows in the three regimes.

    Parameters
    ----------
    part
        Sweep rows of one topology (``concurrency``, ``omega``, ``tau``, ``column``).
    regimes
        Regime of each concurrency (:func:`gametheory.telemetry.classify_regimes`).
    knee
        The knee's concurrency.
    column
        The PoA-hat column (``"poa_hat"`` or ``"poa_hat[<variant>]"``).

    Returns
    -------
    dict
        ``low_load_poa`` (mean below the number of decode workers), ``plateau_median``,
        ``plateau_spread`` (median over plateau concurrencies of the max - min across
        (omega, tau)), ``plateau_cv`` (median over plateau concurrencies of the
        coefficient of variation across (omega, tau) of the seed-averaged PoA-hat),
        ``plateau_concurrency``, ``saturated_mean``, ``saturated_max`` and ``growth``.
    """
    c = part["concurrency"].to_numpy(dtype=np.float64)
    regime = np.array([regimes[v] for v in c])
    low = c < parse_topology(str(part["topology"].iloc[0]))[1]
    plateau = (~low) & (regime == "below saturation")
    past = (regime == "saturated") | (regime == "transition") & (c > knee)
    values = part[column]
    pmed, spread, cv = math.nan, math.nan, math.nan
    if plateau.any():
        by_c = values[plateau].groupby(part["concurrency"][plateau])
        spread = float((by_c.max() - by_c.min()).median())
        pmed = float(np.median(values[plateau]))
        means = part[plateau].groupby(["concurrency", "omega", "tau"])[column].mean()
        per_c = means.groupby(level="concurrency")
        cv = float(np.median((per_c.std(ddof=0) / per_c.mean().abs()).to_numpy()))
    sat = values[past].to_numpy(dtype=np.float64)
    return {
        "low_load_poa": float(values[low].mean()) if low.any() else math.nan,
        "plateau_median": pmed,
        "plateau_spread": spread,
        "plateau_cv": cv,
        "plateau_concurrency": (
            f"{c[plateau].min():g}-{c[plateau].max():g}" if plateau.any() else ""
        ),
        "saturated_mean": float(sat.mean()) if sat.size else math.nan,
        "saturated_max": float(sat.max()) if sat.size else math.nan,
        "growth": float(sat.mean() / pmed) if sat.size and pmed > 0 else math.nan,
    }


# --------------------------------------------------------------------------- regimes
def regime_study(
    grid: SweepGrid | None = None,
    executor: Executor | None = None,
    *,
    table: pd.DataFrame | None = None,
) -> RegimeStudyResult:
    """PoA-hat over topology x concurrency x (omega, tau) and its three regimes.

    Parameters
    ----------
    grid
        The sweep; default :meth:`SweepGrid.paper() <gametheory.sim.sweep.SweepGrid.paper>`
        (the paper's deployment: 70B on B200, 1P/5D and 1P/2D, the
        paper's concurrency grid, 4 x 4 (omega, tau), KV router, one seed). Only its
        ``"kv"`` cells are used.
    executor
        Runs the cells (see :func:`gametheory.sim.sweep.sweep`).
    table
        A sweep table already computed (then ``grid`` is not run).

    Returns
    -------
    RegimeStudyResult
        ``summary`` has per topology: ``knee`` (Kneedle on the mean TTFT P99 over
        router settings), ``knee_low``/``knee_high``, ``low_load_poa`` (mean PoA-hat
        at concurrencies below the number of decode workers), ``plateau_median`` and
        ``plateau_spread`` (median over plateau concurrencies of the max - min PoA-hat
        across (omega, tau)), ``plateau_cv`` (the same of the coefficient of
        variation), ``plateau_concurrency`` (its range), ``saturated_mean`` and
        ``saturated_max`` (PoA-hat at concurrencies classified *saturated* or past the
        knee interval), and ``growth`` (``saturated_mean / plateau_median``); see
        :func:`poa_summary`. ``knee`` is NaN for a topology whose sweep has no knee
        (:attr:`~gametheory.telemetry.results.KneeResult.flat`: every point below
        saturation); ``converged`` is True when each topology has a knee or is flat.
    """
    if table is None:
        grid = SweepGrid.paper() if grid is None else grid
        if "kv" not in grid.policies:
            raise GameError("regime_study needs the 'kv' policy in the grid")
        table = sweep(replace(grid, policies=("kv",)), executor)
    kv = table[table["policy_name"] == "kv"]
    if kv.empty:
        raise GameError("the sweep table has no 'kv' rows")
    knees = {}
    regime_frames = []
    rows = []
    for topo, part in kv.groupby("topology", sort=False):
        curve = part.assign(policy="kv (all settings)")
        knee = detect_knee(curve)
        knees[str(topo)] = knee
        reg = classify_regimes(
            curve, knees={f"{curve['deployment'].iloc[0]} [kv (all settings)]": knee}
        )
        regime_frames.append(reg.assign(topology=topo))
        label = dict(zip(reg["concurrency"], reg["regime"], strict=True))
        row = {
            "topology": topo,
            "knee": knee.knee,
            "knee_low": knee.interval[0],
            "knee_high": knee.interval[1],
        }
        rows.append(row | poa_summary(part, label, knee.knee))
    return RegimeStudyResult(
        table=table,
        summary=pd.DataFrame(rows),
        regimes=pd.concat(regime_frames, ignore_index=True),
        knees=knees,
        converged=all(k.converged or k.flat for k in knees.values()),
        iterations=len(table),
        method="KV-router sweep; knee: detect_knee on mean TTFT P99 over (omega, tau)",
    )


# --------------------------------------------------------------------------- adaptive
def adaptive_comparison(
    grid: SweepGrid | None = None,
    executor: Executor | None = None,
    *,
    topology: tuple[int, int] = (1, 5),
    concurrency: int = 256,
    seeds: Sequence[int] = tuple(range(8)),
    confidence: float = 0.95,
    state_interval_s: float | None = None,
) -> AdaptiveComparisonResult:
    """Adaptive router versus the static default ``kv(omega=1, tau=0)``, paired over seeds.

    Parameters
    ----------
    grid
        Deployment and workload settings (its topologies, concurrencies, policies and
        seeds are replaced).
    executor
        Runs the simulations.
    topology
        ``(n_prefill, n_decode)``.
    concurrency
        The load (at or past the knee for the paper's comparison).
    seeds
        Seeds; each gives both policies the same requests.
    confidence
        Level of the Student-t intervals.
    state_interval_s
        Staleness of the router's view of the workers (see
        :func:`gametheory.sim.engine.simulate`); None keeps the grid's (default 0,
        the exact current state).
    """
    if len(seeds) < 2:
        raise GameError("adaptive_comparison needs at least two seeds for an interval")
    base = SweepGrid.paper() if grid is None else grid
    if state_interval_s is not None:
        base = replace(base, state_interval_s=state_interval_s)
    g = replace(
        base,
        topologies=(topology,),
        concurrency=(concurrency,),
        policies=("kv", "adaptive"),
        omegas=(1.0,),
        taus=(0.0,),
        seeds=tuple(seeds),
    )
    table = sweep(g, executor)
    names = [v for v in g.variants if f"poa_hat[{v}]" in table.columns]
    cols = ["poa_hat", "request_throughput", "ttft_ms_p99", "switches", "n_requests"]
    cols += [f"poa_hat[{v}]" for v in names]
    static = table.loc[table["policy_name"] == "kv", ["seed", *cols]]
    adapt = table.loc[table["policy_name"] == "adaptive", ["seed", *cols]]
    per_seed = static.merge(adapt, on="seed", suffixes=("_static", "_adaptive"))
    red = (per_seed["poa_hat_static"] / per_seed["poa_hat_adaptive"]).to_numpy(np.float64)
    rows = []
    for v in names:
        ratio = per_seed[f"poa_hat[{v}]_static"] / per_seed[f"poa_hat[{v}]_adaptive"]
        r = ratio.to_numpy(np.float64)
        low, high = _t_interval(r, confidence)
        rows.append({"variant": v, "poa_reduction": float(r.mean()), "low": low, "high": high})
    variants = pd.DataFrame(rows, columns=["variant", "poa_reduction", "low", "high"])
    cost = (
        1.0 - per_seed["request_throughput_adaptive"] / per_seed["request_throughput_static"]
    ).to_numpy(np.float64)
    ttft = (per_seed["ttft_ms_p99_adaptive"] / per_seed["ttft_ms_p99_static"] - 1.0).to_numpy(
        np.float64
    )
    per_seed = per_seed.assign(poa_reduction=red, throughput_cost=cost, ttft_p99_change=ttft)
    issued = max(g.min_requests, g.requests_per_user * concurrency)
    expected = float(issued - math.floor(g.warmup_fraction * issued))  # warm-up left out
    return AdaptiveComparisonResult(
        topology=topology_name(*topology),
        concurrency=concurrency,
        poa_reduction=float(red.mean()),
        poa_reduction_ci=_t_interval(red, confidence),
        throughput_cost=float(cost.mean()),
        throughput_cost_ci=_t_interval(cost, confidence),
        ttft_p99_change=float(ttft.mean()),
        per_seed=per_seed,
        variants=variants,
        confidence=confidence,
        n_seeds=len(seeds),
        converged=bool((table["n_requests"] == expected).all()),
        iterations=len(table),
        method="paired over seeds: kv(omega=1,tau=0) vs adaptive; Student-t intervals"
        + (f"; router state lag {g.state_interval_s:g} s" if g.state_interval_s > 0 else ""),
    )


def lag_study(
    grid: SweepGrid | None = None,
    executor: Executor | None = None,
    *,
    topologies: Sequence[tuple[int, int]] = ((1, 5), (1, 2)),
    intervals: Sequence[float] = (0.0, 0.1, 0.5, 1.0),
    concurrency: int = 256,
    seeds: Sequence[int] = tuple(range(8)),
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Adaptive versus static routing when the router's view of the workers lags.

    Runs :func:`adaptive_comparison` for every topology and router-state interval
    (``state_interval_s`` of :func:`gametheory.sim.engine.simulate`): the hypothesis
    that the paper's adaptive gain comes from routers that decide on stale state
    (Dynamo's KV events and forward-pass metrics arrive asynchronously), which the
    exact-state simulator cannot show.

    Parameters
    ----------
    grid
        Deployment and workload (e.g. ``templates``, ``optimistic_state``).
    executor
        Runs the simulations.
    topologies
        ``(n_prefill, n_decode)`` pairs.
    intervals
        Router-state intervals (s); 0 is the exact current state.
    concurrency, seeds, confidence
        As in :func:`adaptive_comparison`.

    Returns
    -------
    pandas.DataFrame
        One row per topology x interval: ``topology``, ``templates``,
        ``optimistic_state``, ``state_interval_s``, mean ``poa_hat_static`` and
        ``poa_hat_adaptive``, ``poa_reduction`` (static / adaptive, paired over seeds)
        with ``poa_reduction_low``/``_high``, ``throughput_cost`` with its interval,
        ``ttft_p99_change``, ``ttft_ms_p99_static``, ``switches`` (mean adaptive
        switches) and ``identical_seeds`` (seeds where both policies gave exactly
        the same PoA-hat; in practice, the same decisions).
    """
    base = SweepGrid.paper() if grid is None else grid
    rows = []
    for topo in topologies:
        for lag in intervals:
            res = adaptive_comparison(
                base,
                executor,
                topology=topo,
                concurrency=concurrency,
                seeds=seeds,
                confidence=confidence,
                state_interval_s=float(lag),
            )
            ps = res.per_seed
            rows.append(
                {
                    "topology": res.topology,
                    "templates": base.templates,
                    "optimistic_state": base.optimistic_state,
                    "state_interval_s": float(lag),
                    "poa_hat_static": float(ps["poa_hat_static"].mean()),
                    "poa_hat_adaptive": float(ps["poa_hat_adaptive"].mean()),
                    "poa_reduction": res.poa_reduction,
                    "poa_reduction_low": res.poa_reduction_ci[0],
                    "poa_reduction_high": res.poa_reduction_ci[1],
                    "throughput_cost": res.throughput_cost,
                    "throughput_cost_low": res.throughput_cost_ci[0],
                    "throughput_cost_high": res.throughput_cost_ci[1],
                    "ttft_p99_change": res.ttft_p99_change,
                    "ttft_ms_p99_static": float(ps["ttft_ms_p99_static"].mean()),
                    "switches": float(ps["switches_adaptive"].mean()),
                    "identical_seeds": int((ps["poa_hat_static"] == ps["poa_hat_adaptive"]).sum()),
                }
            )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- curves
def policy_curves(
    grid: SweepGrid | None = None,
    executor: Executor | None = None,
    *,
    policies: Sequence[str] = ("kv", "adaptive", "cache_aware", "round_robin", "least_loaded"),
) -> pd.DataFrame:
    """PoA-hat and TTFT P99 versus concurrency per policy (``kv`` at (1, 0)).

    Returns
    -------
    pandas.DataFrame
        ``topology``, ``policy_name``, ``concurrency``, mean over seeds of
        ``poa_hat``, ``ttft_ms_p99`` and ``request_throughput``.
    """
    base = SweepGrid.paper() if grid is None else grid
    table = sweep(replace(base, policies=tuple(policies), omegas=(1.0,), taus=(0.0,)), executor)
    cols = ["poa_hat", "ttft_ms_p99", "request_throughput"]
    return (
        table.groupby(["topology", "policy_name", "concurrency"], sort=False)[cols]
        .mean()
        .reset_index()
    )


# --------------------------------------------------------------------------- the study
