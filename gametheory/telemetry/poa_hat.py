"""The empirical Price of Anarchy (PoA-hat) of a router, from its logged decisions.

The estimator of the paper behind the project (DESIGN.md, "The empirical PoA-hat"),
with its open choices made explicit as named variants
(:mod:`~gametheory.telemetry.poa_variants`):

1. Decisions are taken in log order and grouped into windows of ``N`` consecutive
   decisions, ``N`` = number of candidate workers by default. Trailing decisions that
   do not fill a window are not used (and counted).
2. For each window a cost matrix ``C[r, w]`` (request x worker) is built from the state
   frozen at the window start: the request-specific prefill term plus the worker's
   load term ``decode_blocks[w]`` as of the window's first decision (the last value
   logged at or before it; a worker first seen later in the window takes its first
   logged value). In router logits the prefill term is ``prefill_cost[r, w]`` and the
   load term enters with weight 1; in latency units both go through a per-worker
   latency model (:func:`~gametheory.telemetry.latency_model.fit_latency_model`).
3. The actual cost of the window charges each request its chosen worker: in the
   frozen matrix, at its own decision's logged state, or its measured latency.
4. The optimum is a minimum-cost assignment of the ``N`` requests to distinct workers
   (the Hungarian algorithm, :func:`scipy.optimize.linear_sum_assignment`, Kuhn 1955 /
   Munkres 1957), or, capacity-aware, to worker slots: the ``k``-th extra request
   placed on a worker within a window pays ``k * congestion`` on top of ``C[r, w]``
   (with nondecreasing slot costs the optimum is a min-cost assignment of requests to
   slots, each worker expanded into ``N`` slots), and a non-measured actual routing is
   charged the same congestion.
5. PoA-hat is the ratio of sums ``sum actual / sum optimum``; the per-window ratios
   give its distribution. A seeded bootstrap confidence interval (windows resampled
   with replacement, percentile interval; Efron and Tibshirani 1993, ch. 13) comes
   with every variant.

Assumptions of the paper's variant, named: costs are the router's (uncalibrated)
logits, not latencies; the load term is frozen although it moves within a window;
requests in a window are exchangeable. It is a relative indicator, not a calibrated
PoA, and it can dip below 1: the router may stack two requests on one worker, which
the one-request-per-worker optimum cannot.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment

from gametheory.errors import TelemetryError
from gametheory.telemetry.latency_model import coefficients, fit_latency_model, measured_latency
from gametheory.telemetry.poa_variants import PoAHatVariant, resolve_variant
from gametheory.telemetry.results import LatencyModel, PoAHatResult

__all__ = ["poa_hat"]

FloatArray = NDArray[np.float64]
_REQUIRED = ("decision", "worker", "chosen")


def _column(frame: pd.DataFrame, name: str) -> FloatArray:
    return frame[name].to_numpy(dtype=np.float64, na_value=np.nan)


@dataclass(frozen=True)
class _Log:
    """Dense (decision x worker) views of a decisions frame (valid decisions only)."""

    prefill: FloatArray  # router prefill term, inf where not a candidate
    blocks: FloatArray  # prefill blocks (NaN where not logged)
    prompt: FloatArray  # prefill + cached blocks of the chosen candidate, per decision
    load: FloatArray  # decode blocks, filled along time per worker
    chosen: NDArray[np.int64]
    request_id: pd.Series
    workers: pd.Index
    dropped: int


def _log(decisions: pd.DataFrame) -> _Log:
    """Dense matrices of the valid decisions (exactly one chosen candidate)."""
    for col in _REQUIRED:
        if col not in decisions.columns:
            raise TelemetryError("decisions frame lacks a column", field=col)
    frame = decisions
    if "prefill_cost" in frame.columns and "decode_blocks" in frame.columns:
        prefill, load = _column(frame, "prefill_cost"), _column(frame, "decode_blocks")
    elif "cost" in frame.columns:
        prefill, load = _column(frame, "cost"), np.zeros(len(frame))
    else:
        raise TelemetryError("decisions frame lacks cost terms", field="prefill_cost")
    if "cost" in frame.columns:
        missing = np.isnan(prefill)
        prefill = np.where(missing, _column(frame, "cost") - np.nan_to_num(load), prefill)
    load = np.nan_to_num(load, nan=0.0)
    if np.any(~np.isfinite(prefill)):
        raise TelemetryError("NaN or infinite cost term", field="prefill_cost")
    if np.any(prefill < 0) or np.any(load < 0):
        raise TelemetryError("negative cost term", field="prefill_cost")
    blocks = _column(frame, "prefill_blocks") if "prefill_blocks" in frame else None
    cached = _column(frame, "cached_blocks") if "cached_blocks" in frame else None
    dec_codes, _ = pd.factorize(frame["decision"], sort=False)
    wrk_codes, workers = pd.factorize(frame["worker"], sort=True)
    if np.any(dec_codes < 0) or np.any(wrk_codes < 0):
        raise TelemetryError("missing decision or worker id", field="decision")
    n_dec, n_wrk = int(dec_codes.max()) + 1 if len(frame) else 0, len(workers)
    if n_wrk > 1 and n_dec == len(frame):
        # Dynamo 1.6 logs the chosen worker only: no optimum can be formed from that
        raise TelemetryError(
            f"every decision lists a single candidate but {n_wrk} workers appear: the log "
            "has the chosen worker only (Dynamo 1.6), not every candidate's cost; get them "
            "from the router with gametheory.deploy.probe (gametheory deploy --probe)",
            field="worker",
        )
    chosen_flag = frame["chosen"].to_numpy(dtype=bool)
    valid = np.bincount(dec_codes, weights=chosen_flag, minlength=n_dec) == 1
    P = np.full((n_dec, n_wrk), np.inf)
    L = np.full((n_dec, n_wrk), np.nan)
    B = np.full((n_dec, n_wrk), np.nan)
    P[dec_codes, wrk_codes] = prefill
    L[dec_codes, wrk_codes] = load
    if blocks is not None:
        B[dec_codes, wrk_codes] = blocks
    chosen = np.zeros(n_dec, dtype=np.int64)
    chosen[dec_codes[chosen_flag]] = wrk_codes[chosen_flag]
    prompt = np.full(n_dec, np.nan)
    if blocks is not None:
        rows = np.flatnonzero(chosen_flag)
        extra = np.zeros(rows.size) if cached is None else np.nan_to_num(cached[rows])
        prompt[dec_codes[rows]] = blocks[rows] + extra
    rid = pd.Series(pd.NA, index=range(n_dec), dtype="string")
    if "request_id" in frame.columns:
        ids = frame["request_id"].astype("string").to_numpy()[chosen_flag]
        rid.iloc[dec_codes[chosen_flag]] = ids
    L = pd.DataFrame(L[valid]).ffill().bfill().to_numpy()
    return _Log(
        prefill=P[valid],
        blocks=B[valid],
        prompt=prompt[valid],
        load=L,
        chosen=chosen[valid],
        request_id=rid[valid].reset_index(drop=True),
        workers=workers,
        dropped=int(np.count_nonzero(~valid)),
    )


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


def _terms(
    log: _Log, spec: PoAHatVariant, model: LatencyModel | None
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Request terms ``(decisions x workers)``, load weights per worker and the load one
    routed request adds (per decision) in the variant's units."""
    n_wrk = len(log.workers)
    if spec.units == "logits":
        chosen_prefill = log.prefill[np.arange(log.chosen.size), log.chosen]
        return log.prefill, np.ones(n_wrk), chosen_prefill
    assert model is not None
    if np.any(np.isnan(log.blocks[np.isfinite(log.prefill)])):
        raise TelemetryError("latency units need prefill_blocks", field="prefill_blocks")
    intercept, per_prefill, per_decode = coefficients(model, log.workers)
    base = intercept[None, :] + per_prefill[None, :] * np.nan_to_num(log.blocks)
    terms = np.where(np.isfinite(log.prefill), base, np.inf)
    return terms, per_decode, per_decode[log.chosen] * np.nan_to_num(log.prompt)


def poa_hat(
    decisions: pd.DataFrame,
    window: int | None = None,
    *,
    variant: str | PoAHatVariant = "paper",
    requests: pd.DataFrame | None = None,
    latency_model: LatencyModel | None = None,
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
        Decisions per window; default the number of candidate workers. A window
        larger than the workers needs a capacity-aware variant.
    variant
        The estimator: a name in :data:`~gametheory.telemetry.poa_variants.VARIANTS`
        (``"paper"``, ``"capacity"``, ``"logged"``, ``"frozen-latency"``,
        ``"measured-latency"``, ``"measured-latency-capacity"``) or a
        :class:`~gametheory.telemetry.poa_variants.PoAHatVariant`.
    requests
        The ``requests`` frame of the same run, joined on ``request_id``: required by
        the latency variants (to fit the latency model and for measured costs).
    latency_model
        A fitted model to use instead of fitting one on ``decisions`` and
        ``requests``.
    congestion
        Capacity-aware variants: extra cost per request already placed on the same
        worker in the window, in the variant's units. Default: the load one routed
        request adds, averaged over the chosen candidates (its prefill cost in
        logits; the fitted ms per decode block times its prompt blocks in latency).
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
        On a missing column, NaN or negative cost terms, a bad ``window``, an unknown
        variant, a latency variant without ``requests``, or no complete window.
    """
    spec = resolve_variant(variant)
    if not 0 < confidence < 1:
        raise TelemetryError("confidence must be in (0, 1)", field="confidence")
    if n_bootstrap < 0:
        raise TelemetryError("n_bootstrap must be >= 0", field="n_bootstrap")
    if window is not None and (
        isinstance(window, bool) or not isinstance(window, (int, np.integer))
    ):
        raise TelemetryError("window must be a positive integer", field="window")
    capacity = spec.optimum == "capacity"
    if requests is None and (
        spec.actual == "measured" or (spec.needs_requests and latency_model is None)
    ):
        raise TelemetryError(f"variant {spec.name!r} needs the requests frame", field="requests")
    log = _log(decisions)
    n_dec, n_wrk = log.chosen.size, len(log.workers)
    N = n_wrk if window is None else int(window)
    if N < 1:
        raise TelemetryError("window must be a positive integer", field="window")
    if n_wrk < N and not capacity:
        raise TelemetryError(
            f"window {N} exceeds the {n_wrk} workers: the one-request-per-worker optimum "
            "is infeasible; use a capacity-aware variant",
            field="window",
        )
    n_win = n_dec // N
    if n_win == 0:
        raise TelemetryError(
            f"{n_dec} usable decisions do not fill one window of {N}", field="window"
        )
    if spec.needs_requests and latency_model is None:
        assert requests is not None
        latency_model = fit_latency_model(decisions, requests, metric=spec.metric)
    terms, weight, adds = _terms(log, spec, latency_model)
    used = n_win * N
    Tw = terms[:used].reshape(n_win, N, n_wrk)
    C = Tw + (weight[None, :] * log.load[:used:N])[:, None, :]
    ch = log.chosen[:used].reshape(n_win, N)
    if spec.actual == "frozen":
        actual = np.take_along_axis(C, ch[:, :, None], axis=2)[:, :, 0]
    elif spec.actual == "logged":
        rows, cols = np.arange(used), log.chosen[:used]
        logged = terms[rows, cols] + weight[cols] * log.load[rows, cols]
        actual = logged.reshape(n_win, N)
    else:
        assert requests is not None
        by_id = measured_latency(requests, spec.metric)
        measured = log.request_id.map(by_id).to_numpy(dtype=np.float64, na_value=np.nan)
        actual = measured[:used].reshape(n_win, N)
    slots = np.zeros(N)
    if capacity:
        delta = float(np.mean(adds[:used])) if congestion is None else float(congestion)
        if not np.isfinite(delta) or delta < 0:
            raise TelemetryError("congestion must be finite and >= 0", field="congestion")
        slots = np.arange(N, dtype=np.float64) * delta
        if spec.actual != "measured":
            # k-th (0-based) earlier request on the same worker in the window adds k * delta.
            same = ch[:, :, None] == ch[:, None, :]
            earlier = np.tril(np.ones((N, N), dtype=bool), k=-1)
            actual = actual + np.sum(same & earlier[None, :, :], axis=2) * delta
    actual_sum = actual.sum(axis=1)
    optimal_sum = np.full(n_win, np.nan)
    for k in range(n_win):
        cost = C[k]
        if capacity:
            cost = (cost[:, :, None] + slots[None, None, :]).reshape(N, n_wrk * N)
        try:
            rows_k, cols_k = linear_sum_assignment(cost)
        except ValueError:
            continue
        optimal_sum[k] = cost[rows_k, cols_k].sum()
    ok = np.isfinite(optimal_sum) & np.isfinite(actual_sum)
    n_unused = log.dropped + (n_dec - used) + int(np.count_nonzero(~ok)) * N
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
        n_decisions=n_dec + log.dropped,
        n_unused=n_unused,
        capacity_aware=capacity,
        variant=spec.name,
        units="blocks" if spec.units == "logits" else "ms",
        converged=bool(np.all(ok)),
        iterations=n_win,
        method="capacity-aware min-cost assignment" if capacity else "hungarian",
        n_bootstrap=n_bootstrap,
    )
