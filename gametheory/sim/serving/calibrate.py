"""Calibration of the roofline step-time model against real aiconfigurator measurements.

The rows of NVIDIA aiconfigurator's ``silicon_sample.csv`` for one model on one system
(Llama-3.1-70B on B200 by default) are aggregated deployments (prefill and decode on
the same instances, in-flight batching) at concurrency ``C``, input length ``I`` and
output length ``O``, with measured TTFT and TPOT. Their steady state under a closed
loop is predicted from the step-time model (:func:`predict_aggregated`):

* at most ``C_e = min(C, capacity / (I + O/2))`` requests fit in the KV cache; the
  others wait a whole request cycle ``(C / C_e - 1) O TPOT``;
* ``TPOT = decode_step(C_e, C_e (I + O/2)) + prefill_compute(C_e I / O)``: each step
  carries, on average, the prefill chunks of the ``C_e / O`` requests that arrive per
  step (chunked prefill, Agrawal et al., "Sarathi-Serve", OSDI 2024);
* ``TTFT = prefill_time(I) (1 + b C_e) + wait``: the new request's prefill chunks
  share their iterations with the decode steps and chunks of the ``C_e`` in-flight
  requests, so TTFT grows linearly in the batch (what the measurements show).

The free parameters (:class:`~gametheory.sim.serving.step_time.StepTimeParams`) are fitted by
robust nonlinear least squares on log errors (``scipy.optimize.least_squares``,
Cauchy loss) over a seeded random training split; the result reports the median
absolute percentage error (MdAPE) of TTFT and TPOT on the held-out rows.
"""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import least_squares

from gametheory.errors import GameError
from gametheory.sim.results import CalibrationResult
from gametheory.sim.serving.hardware import GPU, gpu
from gametheory.sim.serving.models import ModelSpec, model
from gametheory.sim.serving.step_time import StepTimeModel, StepTimeParams
from gametheory.telemetry.readers.aiconfigurator import read_aiconfigurator

__all__ = ["calibrate", "predict_aggregated", "silicon_rows"]

FloatArray = NDArray[np.float64]

#: Free parameters fitted: the fields of StepTimeParams, in order.
_N_PARAMS = len(fields(StepTimeParams))
_LOWER = np.array([0.01, 0.01, 0.0, 0.0, 0.3, 0.0, 0.0])
_UPPER = np.array([1.0, 1.0, 0.5, 0.05, 1.0, 10.0, 1e-3])
_DEPLOYMENT = re.compile(
    r"^(?P<model>[^|]+)\|(?P<system>[^|]+)\|(?P<backend>[^|]*)\|(?P<precision>[^|]*)\|"
    r"(?P<mode>[^|]+)\|(?P<isl>\d+)x(?P<osl>\d+)\|[^|]*\|tp(?P<tp>\d+)"
)


def silicon_rows(
    path: str | Path, model_name: str = "Llama-3.1-70B", system: str = "b200_sxm"
) -> pd.DataFrame:
    """The aggregated rows of one model on one system, read by the aiconfigurator reader.

    Returns a frame with ``backend``, ``precision``, ``tp``, ``isl``, ``osl``,
    ``concurrency``, ``ttft_ms`` and ``tpot_ms``.

    Raises
    ------
    GameError
        If no aggregated row matches.
    """
    sweep = read_aiconfigurator(path)
    parts = sweep["deployment"].str.extract(_DEPLOYMENT)
    keep = (
        (parts["model"].str.lower() == model_name.lower())
        & (parts["system"] == system)
        & (parts["mode"] == "agg")
    ).fillna(False)
    if not keep.any():
        raise GameError(f"no aggregated rows of {model_name!r} on {system!r} in {path}")
    p = parts[keep]
    return pd.DataFrame(
        {
            "backend": p["backend"].to_numpy(),
            "precision": p["precision"].to_numpy(),
            "tp": p["tp"].astype(int).to_numpy(),
            "isl": p["isl"].astype(float).to_numpy(),
            "osl": p["osl"].astype(float).to_numpy(),
            "concurrency": sweep.loc[keep, "concurrency"].to_numpy(dtype=np.float64),
            "ttft_ms": sweep.loc[keep, "ttft_ms_avg"].to_numpy(dtype=np.float64),
            "tpot_ms": sweep.loc[keep, "itl_ms_avg"].to_numpy(dtype=np.float64),
        }
    )


def predict_aggregated(
    steps: StepTimeModel, concurrency: ArrayLike, isl: ArrayLike, osl: ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """Steady-state TTFT and TPOT (seconds) of an aggregated engine under a closed loop.

    Parameters
    ----------
    steps
        Step-time model of one instance.
    concurrency, isl, osl
        Concurrent requests, input and output lengths (broadcast together).
    """
    c = np.asarray(concurrency, dtype=np.float64)
    i = np.asarray(isl, dtype=np.float64)
    o = np.asarray(osl, dtype=np.float64)
    context = i + o / 2.0
    c_eff = np.maximum(np.minimum(c, steps.kv_capacity_tokens() / context), 1.0)
    step = steps.decode_step_time(c_eff, c_eff * context)
    tpot = step + steps.prefill_compute(c_eff * i / o, i / 2.0)
    wait = np.maximum(c / c_eff - 1.0, 0.0) * o * tpot
    growth = 1.0 + steps.params.prefill_contention * c_eff
    ttft = steps.prefill_time(i) * growth + wait
    return np.asarray(ttft), np.asarray(tpot)


def _predict(
    x: FloatArray, rows: pd.DataFrame, spec: ModelSpec, hw: GPU
) -> tuple[FloatArray, FloatArray]:
    params = StepTimeParams(*(float(v) for v in x))
    ttft = np.empty(len(rows))
    tpot = np.empty(len(rows))
    groups: dict[tuple[int, str], list[int]] = {}
    for k, (tp, precision) in enumerate(zip(rows["tp"].tolist(), rows["precision"].tolist())):
        groups.setdefault((int(tp), str(precision)), []).append(k)
    for (tp, precision), members in groups.items():
        idx = np.asarray(members, dtype=np.int64)
        steps = StepTimeModel(spec, hw, tp, precision, "fp8", params)
        sub = rows.iloc[idx]
        a, b = predict_aggregated(steps, sub["concurrency"], sub["isl"], sub["osl"])
        ttft[idx], tpot[idx] = a, b
    return ttft * 1e3, tpot * 1e3


def _mdape(pred: FloatArray, actual: FloatArray) -> float:
    return float(np.median(np.abs(pred / actual - 1.0)))


def calibrate(
    path: str | Path,
    *,
    model_name: str | ModelSpec = "Llama-3.1-70B",
    gpu_name: str | GPU = "B200",
    system: str = "b200_sxm",
    holdout: float = 0.25,
    seed: int = 0,
) -> CalibrationResult:
    """Fit the step-time parameters to aiconfigurator rows; report held-out errors.

    Parameters
    ----------
    path
        ``silicon_sample.csv`` of aiconfigurator.
    model_name, gpu_name
        Model and GPU of the rows (built-in names or specs).
    system
        aiconfigurator system name of the rows.
    holdout
        Fraction of rows held out of the fit (drawn with ``seed``).
    seed
        Seed of the split.

    Returns
    -------
    CalibrationResult
        Fitted parameters per serving backend (``{"trtllm": ..., "vllm": ...}``: the
        engines differ in scheduling, so each gets its own) and the median absolute
        percentage errors of TTFT and TPOT on the held-out rows (and on the training
        rows).
    """
    if not 0 < holdout < 1:
        raise GameError(f"holdout must be in (0, 1), got {holdout!r}")
    spec, hw = model(model_name), gpu(gpu_name)
    rows = silicon_rows(path, spec.name, system)
    test = np.random.default_rng(seed).random(len(rows)) < holdout
    if not test.any():
        raise GameError(f"no row held out of {len(rows)}; raise holdout")
    pred = np.full((len(rows), 2), np.nan)
    fitted: dict[str, StepTimeParams] = {}
    evaluations, success = 0, True
    backends = rows["backend"].to_numpy(dtype=str)
    for backend in sorted(set(backends.tolist())):
        idx = np.flatnonzero(backends == backend)
        train_idx = idx[~test[idx]]
        if train_idx.size < 2 * _N_PARAMS:
            raise GameError(f"too few {backend} rows ({train_idx.size}) to fit")
        x, nfev, ok = _fit(rows.iloc[train_idx].reset_index(drop=True), spec, hw)
        fitted[str(backend)] = StepTimeParams(*(float(v) for v in x))
        evaluations, success = evaluations + nfev, success and ok
        a, b = _predict(x, rows.iloc[idx].reset_index(drop=True), spec, hw)
        pred[idx] = np.column_stack([a, b])
    actual = rows[["ttft_ms", "tpot_ms"]].to_numpy()
    return CalibrationResult(
        params=fitted,
        ttft_mdape=_mdape(pred[test, 0], actual[test, 0]),
        tpot_mdape=_mdape(pred[test, 1], actual[test, 1]),
        train_ttft_mdape=_mdape(pred[~test, 0], actual[~test, 0]),
        train_tpot_mdape=_mdape(pred[~test, 1], actual[~test, 1]),
        n_train=int(np.count_nonzero(~test)),
        n_test=int(np.count_nonzero(test)),
        converged=success,
        iterations=evaluations,
        method="least_squares per backend (Cauchy loss on log errors), seeded random hold-out",
    )


def _fit(train: pd.DataFrame, spec: ModelSpec, hw: GPU) -> tuple[FloatArray, int, bool]:
    y_ttft, y_tpot = train["ttft_ms"].to_numpy(), train["tpot_ms"].to_numpy()

    def residuals(x: FloatArray) -> FloatArray:
        a, b = _predict(x, train, spec, hw)
        return np.concatenate([np.log(a / y_ttft), np.log(b / y_tpot)])

    x0 = np.array([0.45, 0.6, 0.01, 0.004, 0.85, 0.05, 2e-5])
    fit = least_squares(
        residuals, x0, bounds=(_LOWER, _UPPER), loss="cauchy", f_scale=0.1, x_scale="jac"
    )
    return np.asarray(fit.x, dtype=np.float64), int(fit.nfev), bool(fit.success)
