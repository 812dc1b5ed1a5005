"""A per-worker latency model fitted on routing telemetry, for PoA-hat in latency units.

The router's logits are in KV blocks; the paper's PoA-hat is described on a
"frozen-latency" cost matrix (arXiv 2606.17081, section 6.4). This module turns the
cost terms the router logs into milliseconds with the least assumption that fits the
telemetry: per worker ``w``, a request's latency is linear in the prompt blocks ``w``
still has to prefill and in ``w``'s active decode blocks at the decision,

    latency = a_w + b_w * prefill_blocks + c_w * decode_blocks,  a_w, b_w, c_w >= 0,

fitted by nonnegative least squares (Lawson and Hanson, *Solving Least Squares
Problems*, 1974, ch. 23; :func:`scipy.optimize.nnls`) on the chosen candidate of every
decision joined to its request's measured latency (the ``requests`` schema). Workers
with too few requests get the pooled fit, and are named. The model is descriptive:
it is fitted on the run it scores, and queueing the state terms do not explain (the
shared prefill queue, batching) ends up in the intercept or in the residual.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.optimize import nnls

from gametheory.errors import TelemetryError
from gametheory.telemetry.results import LatencyModel

__all__ = ["coefficients", "fit_latency_model", "measured_latency"]

FloatArray = NDArray[np.float64]
_NEEDED = ("decision", "worker", "chosen", "request_id", "prefill_blocks", "decode_blocks")


def _chosen_rows(decisions: pd.DataFrame) -> pd.DataFrame:
    """The chosen candidate of every decision with exactly one."""
    for col in _NEEDED:
        if col not in decisions.columns:
            raise TelemetryError("decisions frame lacks a column", field=col)
    flag = decisions["chosen"].to_numpy(dtype=bool)
    rows = decisions.loc[flag, ["decision", "worker", "request_id", "prefill_blocks"]]
    rows = rows.assign(decode_blocks=decisions.loc[flag, "decode_blocks"])
    counts = rows["decision"].value_counts()
    return rows[rows["decision"].map(counts) == 1]


def _fit(x: FloatArray, y: FloatArray) -> tuple[FloatArray, bool]:
    design = np.column_stack([np.ones(len(y)), x])
    try:
        coef, _ = nnls(design, y)
    except RuntimeError:
        return np.zeros(3), False
    return np.asarray(coef, dtype=np.float64), True


def measured_latency(requests: pd.DataFrame, metric: str) -> pd.Series:
    """``metric`` of the successful requests, indexed by ``request_id`` (the first row
    of a repeated id; failed requests and missing values left out)."""
    ok = requests[metric].notna()
    if "error" in requests.columns:
        ok &= requests["error"].isna()
    return requests.loc[ok].drop_duplicates("request_id").set_index("request_id")[metric]


def fit_latency_model(
    decisions: pd.DataFrame,
    requests: pd.DataFrame,
    *,
    metric: str = "ttft_ms",
    min_samples: int = 8,
) -> LatencyModel:
    """Fit a per-worker linear latency model on the chosen candidates.

    Parameters
    ----------
    decisions
        A ``decisions`` frame with ``request_id``, ``prefill_blocks`` and
        ``decode_blocks`` (the simulator's, or a Dynamo router log with request ids).
    requests
        A ``requests`` frame of the same run (aiperf records, simulator output).
    metric
        ``"ttft_ms"`` or ``"latency_ms"``.
    min_samples
        Requests below which a worker gets the pooled fit.

    Returns
    -------
    LatencyModel
        Coefficients per worker, the fit's R^2 and median absolute percentage error.

    Raises
    ------
    TelemetryError
        On a missing column, an unknown metric, or fewer than 3 matched requests.
    """
    if metric not in ("ttft_ms", "latency_ms"):
        raise TelemetryError(
            f"metric must be ttft_ms or latency_ms, got {metric!r}", field="metric"
        )
    for col in ("request_id", metric):
        if col not in requests.columns:
            raise TelemetryError("requests frame lacks a column", field=col)
    if min_samples < 3:
        raise TelemetryError("min_samples must be >= 3", field="min_samples")
    rows = _chosen_rows(decisions)
    y_all = rows["request_id"].map(measured_latency(requests, metric))
    keep = y_all.notna().to_numpy() & rows["request_id"].notna().to_numpy()
    n_unmatched = int(np.count_nonzero(~keep))
    rows, y = rows[keep], y_all[keep].to_numpy(dtype=np.float64)
    if len(rows) < 3:
        raise TelemetryError(
            f"only {len(rows)} decisions match a request with a {metric}", field="request_id"
        )
    x = rows[["prefill_blocks", "decode_blocks"]].to_numpy(dtype=np.float64)
    if not np.all(np.isfinite(x)) or not np.all(np.isfinite(y)):
        raise TelemetryError("NaN or infinite cost term or latency", field="prefill_blocks")
    # Every candidate worker gets coefficients; one never chosen gets the pooled fit.
    workers = pd.Index(pd.unique(decisions["worker"].dropna())).sort_values()
    codes = workers.get_indexer(pd.Index(rows["worker"]))
    pooled_coef, converged = _fit(x, y)
    coef = np.tile(pooled_coef, (len(workers), 1))
    n_samples = np.bincount(codes, minlength=len(workers)).astype(np.int64)
    pooled: list[str] = []
    for k, name in enumerate(workers):
        if n_samples[k] < min_samples:
            pooled.append(str(name))
            continue
        coef[k], done = _fit(x[codes == k], y[codes == k])
        converged &= done
    predicted = coef[codes, 0] + coef[codes, 1] * x[:, 0] + coef[codes, 2] * x[:, 1]
    resid = y - predicted
    total = float(np.sum((y - y.mean()) ** 2))
    r2 = 1.0 - float(np.sum(resid**2)) / total if total > 0 else 1.0
    positive = y > 0
    ape = np.abs(resid[positive]) / y[positive]
    return LatencyModel(
        workers=tuple(str(w) for w in workers),
        intercept_ms=coef[:, 0].copy(),
        prefill_ms=coef[:, 1].copy(),
        decode_ms=coef[:, 2].copy(),
        metric=metric,
        n_samples=n_samples,
        pooled=tuple(pooled),
        r2=r2,
        median_ape=float(np.median(ape)) if ape.size else float("nan"),
        n_unmatched=n_unmatched,
        converged=bool(converged),
        method="nonnegative least squares per worker (pooled below min_samples)",
    )


def coefficients(
    model: LatencyModel, workers: pd.Index
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """``(intercept_ms, prefill_ms, decode_ms)`` of ``workers``, in their order.

    Raises
    ------
    TelemetryError
        If a worker is not in the model.
    """
    index = pd.Index(model.workers).get_indexer(workers.astype(str))
    if np.any(index < 0):
        missing = [str(w) for w, i in zip(workers, index) if i < 0]
        raise TelemetryError(f"workers not in the latency model: {missing}", field="worker")
    return model.intercept_ms[index], model.prefill_ms[index], model.decode_ms[index]
