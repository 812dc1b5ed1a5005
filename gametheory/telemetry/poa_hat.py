"""The empirical Price of Anarchy (PoA-hat) of a router, from its logged decisions.

This is the estimator of the paper behind the project (DESIGN.md, "The empirical
PoA-hat"), implemented exactly:

1. Decisions are taken in log order and grouped into windows of ``N`` consecutive
   decisions, ``N`` = number of candidate workers by default. Trailing decisions that
   do not fill a window are not used (and counted).
2. For each window a cost matrix ``C[r, w]`` (request x worker) is built from the
   router's own cost terms frozen at the window start: the request-specific prefill
   term ``prefill_cost[r, w]`` plus the worker's load term ``decode_blocks[w]`` as of the
   window's first decision (the last value logged at or before it; a worker first
   seen later in the window takes its first logged value).
3. The actual cost of the window is ``sum_r C[r, chosen(r)]``; the optimum is a
   minimum-cost assignment of the ``N`` requests to distinct workers (the Hungarian
   algorithm, :func:`scipy.optimize.linear_sum_assignment`, Kuhn 1955 / Munkres 1957).
4. PoA-hat is the ratio of sums ``sum actual / sum optimum``; the per-window ratios
   give its distribution.

Assumptions, named: costs are the router's (uncalibrated) logits, not latencies; the
load term is frozen although it moves within a window; requests in a window are
exchangeable. The estimator is therefore a relative indicator, not a calibrated PoA:
it can dip below 1, because the router may stack two requests on one worker, which
the one-request-per-worker optimum cannot.

Added here, as DESIGN.md asks: a seeded bootstrap confidence interval (windows
resampled with replacement, percentile interval; Efron and Tibshirani 1993, ch. 13)
and a capacity-aware variant: several requests may share a worker, the ``k``-th
request placed on worker ``w`` within a window paying ``k * congestion`` on top of
``C[r, w]`` (convex congestion). With nondecreasing slot costs the optimum is a
min-cost assignment of requests to worker slots (each worker expanded into ``N``
slots), and the actual routing is charged the same congestion, so the ratio is >= 1.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment

from gametheory.errors import TelemetryError
from gametheory.telemetry.results import PoAHatResult

__all__ = ["poa_hat"]

FloatArray = NDArray[np.float64]
_REQUIRED = ("decision", "worker", "chosen")


def _matrices(
    decisions: pd.DataFrame,
) -> tuple[FloatArray, FloatArray, NDArray[np.int64], int, int]:
    """Dense (decision x worker) prefill and load matrices and the chosen worker.

    Returns the prefill matrix (inf where not a candidate), the load matrix (frozen
    values filled along time per worker), the chosen column per decision, the number
    of decisions dropped for not having exactly one chosen candidate, and the number
    of distinct workers.
    """
    for col in _REQUIRED:
        if col not in decisions.columns:
            raise TelemetryError("decisions frame lacks a column", field=col)
    frame = decisions
    if "prefill_cost" in frame.columns and "decode_blocks" in frame.columns:
        prefill = frame["prefill_cost"].to_numpy(dtype=np.float64, na_value=np.nan)
        load = frame["decode_blocks"].to_numpy(dtype=np.float64, na_value=np.nan)
    elif "cost" in frame.columns:
        prefill = frame["cost"].to_numpy(dtype=np.float64, na_value=np.nan)
        load = np.zeros(len(frame))
    else:
        raise TelemetryError("decisions frame lacks cost terms", field="prefill_cost")
    if "cost" in frame.columns:
        total = frame["cost"].to_numpy(dtype=np.float64, na_value=np.nan)
        missing = np.isnan(prefill)
        prefill = np.where(missing, total - np.nan_to_num(load), prefill)
    load = np.nan_to_num(load, nan=0.0)
    if np.any(~np.isfinite(prefill)):
        raise TelemetryError("NaN or infinite cost term", field="prefill_cost")
    if np.any(prefill < 0) or np.any(load < 0):
        raise TelemetryError("negative cost term", field="prefill_cost")
    dec_codes, _ = pd.factorize(frame["decision"], sort=False)
    wrk_codes, workers = pd.factorize(frame["worker"], sort=True)
    if np.any(dec_codes < 0) or np.any(wrk_codes < 0):
        raise TelemetryError("missing decision or worker id", field="decision")
    n_dec, n_wrk = int(dec_codes.max()) + 1 if len(frame) else 0, len(workers)
    chosen_flag = frame["chosen"].to_numpy(dtype=bool)
    n_chosen = np.bincount(dec_codes, weights=chosen_flag, minlength=n_dec)
    valid = n_chosen == 1
    P = np.full((n_dec, n_wrk), np.inf)
    L = np.full((n_dec, n_wrk), np.nan)
    P[dec_codes, wrk_codes] = prefill
    L[dec_codes, wrk_codes] = load
    chosen = np.zeros(n_dec, dtype=np.int64)
    chosen[dec_codes[chosen_flag]] = wrk_codes[chosen_flag]
    dropped = int(np.count_nonzero(~valid))
    P, L, chosen = P[valid], L[valid], chosen[valid]
    L = pd.DataFrame(L).ffill().bfill().to_numpy()
    return P, L, chosen, dropped, n_wrk


def _bootstrap(
    actual: FloatArray, optimal: FloatArray, n_boot: int, confidence: float, seed: int | None
) -> tuple[float, float]:
    """Percentile bootstrap interval of ``sum(actual) / sum(optimal)`` over windows."""
    n = actual.size
    if n == 0 or n_boot == 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    ratios = np.empty(n_boot)
    chunk = max(1, 2_000_000 // n)
    for start in range(0, n_boot, chunk):
        stop = min(n_boot, start + chunk)
        idx = rng.integers(0, n, size=(stop - start, n))
        with np.errstate(divide="ignore", invalid="ignore"):
            ratios[start:stop] = actual[idx].sum(axis=1) / optimal[idx].sum(axis=1)
    alpha = (1.0 - confidence) / 2.0
    lo, hi = np.quantile(ratios, [alpha, 1.0 - alpha])
    return float(lo), float(hi)


def poa_hat(
    decisions: pd.DataFrame,
    window: int | None = None,
    *,
    capacity_aware: bool = False,
    congestion: float | None = None,
    n_bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int | None = None,
) -> PoAHatResult:
    """Empirical Price of Anarchy of the routing decisions (the paper's PoA-hat).

    Parameters
    ----------
    decisions
        A ``decisions`` frame (e.g. from :func:`read_router_log`): one row per decision
        x candidate worker with ``prefill_cost``, ``decode_blocks`` (or just ``cost``)
        and ``chosen``. Decisions without exactly one chosen candidate are left out
        and counted in ``n_unused``.
    window
        Decisions per window; default the number of candidate workers.
    capacity_aware
        Allow several requests per worker in the optimum, the ``k``-th request on a
        worker in a window paying ``k * congestion`` extra (and charge the actual
        routing the same), instead of the paper's one-request-per-worker optimum.
    congestion
        Extra cost per request already placed on the same worker in the window (router
        cost units). Default: the mean prefill cost of the chosen candidates, i.e. the
        load one routed request adds.
    n_bootstrap
        Bootstrap replicates for the confidence interval (0 for none).
    confidence
        Level of the interval.
    seed
        Seed of the bootstrap's ``numpy.random.Generator``.

    Returns
    -------
    PoAHatResult
        PoA-hat, its interval and per-window ratios.

    Raises
    ------
    TelemetryError
        On a missing column, NaN or negative cost terms, a bad ``window``, or no
        complete window.
    """
    if not 0 < confidence < 1:
        raise TelemetryError("confidence must be in (0, 1)", field="confidence")
    if n_bootstrap < 0:
        raise TelemetryError("n_bootstrap must be >= 0", field="n_bootstrap")
    if window is not None and (
        isinstance(window, bool) or not isinstance(window, (int, np.integer))
    ):
        raise TelemetryError("window must be a positive integer", field="window")
    P, L, chosen, dropped, n_wrk = _matrices(decisions)
    n_dec = P.shape[0]
    N = n_wrk if window is None else int(window)
    if N < 1:
        raise TelemetryError("window must be a positive integer", field="window")
    if n_wrk < N and not capacity_aware:
        raise TelemetryError(
            f"window {N} exceeds the {n_wrk} workers: the one-request-per-worker optimum "
            "is infeasible; use capacity_aware=True",
            field="window",
        )
    n_win = n_dec // N
    if n_win == 0:
        raise TelemetryError(
            f"{n_dec} usable decisions do not fill one window of {N}", field="window"
        )
    used = n_win * N
    Pw = P[:used].reshape(n_win, N, n_wrk)
    start_load = L[:used:N]
    C = Pw + start_load[:, None, :]
    ch = chosen[:used].reshape(n_win, N)
    actual = np.take_along_axis(C, ch[:, :, None], axis=2)[:, :, 0]
    if capacity_aware:
        delta = (
            float(np.mean(np.take_along_axis(Pw, ch[:, :, None], axis=2)))
            if congestion is None
            else float(congestion)
        )
        if not np.isfinite(delta) or delta < 0:
            raise TelemetryError("congestion must be finite and >= 0", field="congestion")
        # k-th (0-based) earlier request on the same worker in the window adds k * delta.
        same = ch[:, :, None] == ch[:, None, :]
        earlier = np.tril(np.ones((N, N), dtype=bool), k=-1)
        rank = np.sum(same & earlier[None, :, :], axis=2)
        actual = actual + rank * delta
        slots = np.arange(N, dtype=np.float64) * delta
    actual_sum = actual.sum(axis=1)
    optimal_sum = np.full(n_win, np.nan)
    for k in range(n_win):
        cost = C[k]
        if capacity_aware:
            cost = (cost[:, :, None] + slots[None, None, :]).reshape(N, n_wrk * N)
        try:
            rows, cols = linear_sum_assignment(cost)
        except ValueError:
            continue
        optimal_sum[k] = cost[rows, cols].sum()
    ok = np.isfinite(optimal_sum) & np.isfinite(actual_sum)
    n_unused = dropped + (n_dec - used) + int(np.count_nonzero(~ok)) * N
    actual_ok, optimal_ok = actual_sum[ok], optimal_sum[ok]
    if actual_ok.size == 0:
        raise TelemetryError("no window has a feasible assignment", field="worker")
    with np.errstate(divide="ignore", invalid="ignore"):
        per_window = np.where(
            optimal_ok > 0, actual_ok / optimal_ok, np.where(actual_ok > 0, np.inf, 1.0)
        )
    total_actual, total_opt = float(actual_ok.sum()), float(optimal_ok.sum())
    if total_opt > 0:
        estimate = total_actual / total_opt
    else:
        estimate = 1.0 if total_actual == 0 else float("inf")
    lo, hi = _bootstrap(actual_ok, optimal_ok, n_bootstrap, confidence, seed)
    return PoAHatResult(
        poa_hat=estimate,
        ci_low=lo,
        ci_high=hi,
        confidence=confidence,
        per_window=per_window,
        actual_cost=total_actual,
        optimal_cost=total_opt,
        window=N,
        n_windows=int(actual_ok.size),
        n_decisions=n_dec + dropped,
        n_unused=n_unused,
        capacity_aware=capacity_aware,
        converged=bool(np.all(ok)),
        iterations=n_win,
        method="capacity-aware min-cost assignment" if capacity_aware else "hungarian",
        n_bootstrap=n_bootstrap,
    )
