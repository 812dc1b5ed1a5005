"""The saturation detector on a real Dynamo frontend's TTFT histogram.

The paper's adaptive experiment on the real stack: :func:`adaptive_run` runs one aiperf
cell through the router front (:mod:`~gametheory.deploy.front`) with a real Prometheus,
either static at ``kv(omega=1, tau=0)`` or with the controller service polling
Prometheus and pushing its ``(omega, tau)`` to the front; :func:`front_poa_hat` is the
PoA-hat of the front's decision log (every candidate's loads are there);
:func:`dynamo_adaptive_comparison` pairs both over seeds into the simulator's
:class:`~gametheory.sim.studies.results.AdaptiveComparisonResult` (the same Student-t
intervals), and :func:`dynamo_adaptive_scorecard_rows` scores it against the paper.
"""

from __future__ import annotations

import json
import math
import threading
import time
import urllib.request
from typing import Any

import numpy as np
import pandas as pd

from gametheory.control.detector import EWMADetector, Regime
from gametheory.control.evaluation import switch_rates, wilson_interval
from gametheory.control.service import PrometheusClient
from gametheory.deploy.adaptive import FRONT_QUERY
from gametheory.deploy.launcher import DynamoDeployment
from gametheory.errors import GameError
from gametheory.sim.studies.experiments import _t_interval

__all__ = [
    "detection_rates",
    "detection_trace",
]


def _user(
    url: str,
    model: str,
    i: int,
    users: list[int],
    stop: threading.Event,
    deadline: float,
    errors: list[str],
    osl: int,
) -> None:
    """One closed-loop streaming user, active while ``i < users[0]``."""
    prompt = "the quick brown fox jumps over the lazy dog " * 6
    n = 0
    while not stop.is_set() and time.monotonic() < deadline:
        if i >= users[0]:
            time.sleep(0.02)
            continue
        body = {
            "model": model,
            "prompt": f"{i} {n} {prompt}",
            "max_tokens": osl,
            "ignore_eos": True,
            "stream": True,
        }
        req = urllib.request.Request(
            url + "/v1/completions",
            json.dumps(body).encode(),
            {"content-type": "application/json"},
        )
        n += 1
        try:
            with urllib.request.urlopen(req, timeout=30) as answer:
                answer.read()
        except OSError as exc:
            errors.append(str(exc))


def detection_trace(
    deployment: DynamoDeployment,
    *,
    low_users: int = 2,
    high_users: int = 24,
    cycles: int = 3,
    low_s: float = 30.0,
    high_s: float = 12.0,
    poll_s: float = 0.5,
    osl: int = 48,
    query: str = FRONT_QUERY,
) -> pd.DataFrame:
    """The TTFT P99 a controller polls from the real stack while the load steps.

    ``cycles`` times: ``low_users`` closed-loop streaming users for ``low_s``, then
    ``high_users`` for ``high_s``; ``query`` is polled on the deployment's Prometheus
    every ``poll_s`` throughout (bounded: the run lasts ``cycles * (low_s + high_s)``).

    Returns
    -------
    pandas.DataFrame
        One row per poll: ``time_s`` (from the start), ``ttft_p99_s`` (NaN without a
        value), ``phase`` (``"low"`` or ``"high"``), ``cycle``, ``phase_start_s``.

    Raises
    ------
    GameError
        If the deployment has no Prometheus, or a user's request failed.
    """
    if deployment.prometheus_url is None:
        raise GameError("detection_trace needs a deployment with prometheus=True")
    client = PrometheusClient(deployment.prometheus_url)
    users = [low_users]
    stop = threading.Event()
    errors: list[str] = []
    total = cycles * (low_s + high_s)
    deadline = time.monotonic() + total + 5.0
    model = deployment.spec.served_name
    threads = [
        threading.Thread(
            target=_user,
            args=(deployment.url, model, i, users, stop, deadline, errors, osl),
            daemon=True,
        )
        for i in range(max(low_users, high_users))
    ]
    for t in threads:
        t.start()
    rows: list[dict[str, Any]] = []
    t0 = time.monotonic()
    try:
        for cycle in range(cycles):
            for phase, n, length in (("low", low_users, low_s), ("high", high_users, high_s)):
                users[0] = n
                start = time.monotonic() - t0
                k = 0
                while (now := time.monotonic() - t0) < start + length:
                    value = client.query(query)
                    rows.append(
                        {
                            "time_s": now,
                            "ttft_p99_s": math.nan if value is None else float(value),
                            "phase": phase,
                            "cycle": cycle,
                            "phase_start_s": start,
                        }
                    )
                    k += 1
                    time.sleep(max(0.0, start + k * poll_s - (time.monotonic() - t0)))
    finally:
        stop.set()
        for t in threads:
            t.join(35)
    if errors:
        raise GameError(f"{len(errors)} requests failed, first: {errors[0]}")
    return pd.DataFrame(rows)


def detection_rates(
    trace: pd.DataFrame,
    thresholds: tuple[float, float],
    *,
    alpha: float = 0.6,
    hysteresis: float = 0.1,
    run_s: float = 10.0,
    settle_s: float = 5.0,
    confidence: float = 0.95,
    n_runs: int = 300,
    seed: int = 0,
) -> pd.DataFrame:
    """False-switch rate and delay of the EWMA detector on a real trace, and the
    simulator's Monte Carlo at the trace's levels and noise.

    Real: the low phases (after ``settle_s``) are cut into runs of ``run_s``, each fed to
    a fresh detector (thresholds ``thresholds``, no dwell); a run that ever reports
    *saturated* is a false switch (Wilson interval). Each step up is fed, from the start
    of its low phase, to a fresh detector: the delay is the first *saturated* poll after
    the step minus the step (Student-t interval over steps), and a step with none before
    the step back is missed. Polls without a value are skipped, as the controller does.

    Simulated: :func:`gametheory.control.evaluation.switch_rates` with the median low and
    high TTFT P99 of the trace, its lognormal noise (the standard deviation of the log
    of the low-phase values), the same detector and run length, polled at the trace's
    interval (the simulator's study's definitions, on simulated scrapes).

    Returns
    -------
    pandas.DataFrame
        Rows ``source`` (``"Dynamo mocker"``, ``"simulated scrapes"``) with
        ``false_rate``, ``false_low``, ``false_high``, ``runs``, ``missed_rate``,
        ``steps``, ``mean_delay_s``, ``delay_low``, ``delay_high``, ``low_p99_s``,
        ``high_p99_s``, ``noise``, ``poll_s``.
    """
    low_t, high_t = thresholds

    def fresh() -> EWMADetector:
        return EWMADetector(low_t, high_t, alpha=alpha, hysteresis=hysteresis, min_dwell_s=0.0)

    ok = trace[np.isfinite(trace["ttft_p99_s"]) & (trace["ttft_p99_s"] > 0)]
    poll = float(np.median(np.diff(trace["time_s"].to_numpy(np.float64))))
    false = runs = 0
    low = ok[(ok["phase"] == "low") & (ok["time_s"] >= ok["phase_start_s"] + settle_s)]
    for (_, start), part in low.groupby(["cycle", "phase_start_s"]):
        t = part["time_s"].to_numpy(np.float64)
        v = part["ttft_p99_s"].to_numpy(np.float64)
        first = float(start) + settle_s
        while first + run_s <= t[-1] + 1e-9:
            det, hit = fresh(), False
            for ti, vi in zip(t, v, strict=True):
                if first <= ti < first + run_s:
                    hit |= det.update(float(ti), float(vi)) is Regime.SATURATED
            false += hit
            runs += 1
            first += run_s
    delays: list[float] = []
    steps = missed = 0
    for _, part in ok.groupby("cycle"):
        up = part[part["phase"] == "high"]
        if up.empty:
            continue
        step = float(up["phase_start_s"].iloc[0])
        steps += 1
        det, found = fresh(), math.nan
        for ti, vi in zip(part["time_s"], part["ttft_p99_s"], strict=True):
            regime = det.update(float(ti), float(vi))
            if ti >= step and regime is Regime.SATURATED:
                found = float(ti) - step
                break
        if math.isnan(found):
            missed += 1
        else:
            delays.append(found)
    d = np.array(delays, dtype=np.float64)
    low_level = float(np.median(low["ttft_p99_s"])) if len(low) else math.nan
    high_level = float(np.median(ok.loc[ok["phase"] == "high", "ttft_p99_s"]))
    noise = float(np.std(np.log(low["ttft_p99_s"].to_numpy(np.float64)), ddof=1))
    lo_f, hi_f = wilson_interval(false, runs, confidence) if runs else (math.nan, math.nan)
    lo_d, hi_d = _t_interval(d, confidence)
    rows = [
        {
            "source": "Dynamo mocker",
            "false_rate": false / runs if runs else math.nan,
            "false_low": lo_f,
            "false_high": hi_f,
            "runs": runs,
            "missed_rate": missed / steps if steps else math.nan,
            "steps": steps,
            "mean_delay_s": float(d.mean()) if d.size else math.nan,
            "delay_low": lo_d,
            "delay_high": hi_d,
        },
    ]
    if 0 < low_level < high_level:
        high_len = float(
            (
                ok[ok["phase"] == "high"].groupby("cycle")["time_s"].max()
                - ok[ok["phase"] == "high"].groupby("cycle")["phase_start_s"].first()
            ).median()
        )
        sim = switch_rates(
            fresh,
            baseline=low_level,
            saturated=high_level,
            noise=noise,
            n_runs=n_runs,
            duration_s=run_s * 2,
            interval_s=poll,
            crossing_s=run_s,
            deadline_s=max(high_len, poll),
            seed=seed,
        )
        rows.append(
            {
                "source": "simulated scrapes",
                "false_rate": sim.false_switch_rate,
                "false_low": sim.false_ci[0],
                "false_high": sim.false_ci[1],
                "runs": n_runs,
                "missed_rate": sim.missed_switch_rate,
                "steps": n_runs,
                "mean_delay_s": sim.mean_delay_s,
                "delay_low": math.nan,
                "delay_high": math.nan,
            }
        )
    return pd.DataFrame(rows).assign(
        low_p99_s=low_level, high_p99_s=high_level, noise=noise, poll_s=poll
    )
