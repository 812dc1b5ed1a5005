"""A real Dynamo mocker run beside the library's simulator on the same deployment.

:func:`simulator_twin` runs :func:`gametheory.sim.engine.simulate` on the cluster of a
:class:`~gametheory.deploy.spec.DeploymentSpec` (same model, GPU, tensor parallelism,
step-time parameters, scheduler limits) with the workload aiperf generates in
:func:`~gametheory.deploy.loadgen.aiperf_command`: fixed input and output lengths and
prompts that share no prefix (one template with no shared tokens), closed loop at the
same concurrency, the same number of requests, the KV router.

:func:`compare_rows` puts the two side by side, one row per concurrency and metric, and
the ratio Dynamo / simulator. The mocker runs ``speedup_ratio`` times faster than the
step-time model, so its latencies are multiplied and its throughputs divided by the
ratio first (both are then in the model's time). :func:`dynamo_scorecard_rows` scores a
real sweep against the paper's PoA-hat and knee figures, in the rows of the
reproduction scorecard (:mod:`gametheory.sim.studies.scorecard`) with the source
``"Dynamo mocker"``. What the two share is the step times;
what differs is the router's bookkeeping, the schedulers (vLLM's in the mocker, the
simulator's own) and the KV transfer.

The paper's adaptive experiment on the real stack: :func:`adaptive_run` runs one aiperf
cell through the router front (:mod:`~gametheory.deploy.front`) with a real Prometheus,
either static at ``kv(omega=1, tau=0)`` or with the controller service polling
Prometheus and pushing its ``(omega, tau)`` to the front; :func:`front_poa_hat` is the
PoA-hat of the front's decision log (every candidate's loads are there);
:func:`dynamo_adaptive_comparison` pairs both over seeds into the simulator's
:class:`~gametheory.sim.studies.results.AdaptiveComparisonResult` (the same Student-t
intervals), and :func:`dynamo_adaptive_scorecard_rows` scores it against the paper.

Detection on real metrics: :func:`detection_trace` polls a real Prometheus scraping the
real frontend's TTFT histogram while a bounded closed loop of streaming users steps
between a low and a high load; :func:`detection_rates` replays that trace through fresh
EWMA detectors with the definitions of :func:`gametheory.control.evaluation.switch_rates`
(a false switch: a run at the low load in which the detector ever reports *saturated*;
the delay: from the step up to the first *saturated* poll; a missed switch: none before
the step back) and puts the simulator's Monte Carlo at the trace's own levels and noise
beside it.
"""

from __future__ import annotations

import json
import math
import threading
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gametheory.control.detector import EWMADetector, Regime
from gametheory.control.evaluation import switch_rates, wilson_interval
from gametheory.control.policy import AdaptiveController
from gametheory.control.service import PAPER_MAPPING, ControlService, PrometheusClient
from gametheory.deploy.launcher import DynamoDeployment
from gametheory.deploy.loadgen import run_aiperf
from gametheory.deploy.spec import DeploymentSpec
from gametheory.errors import GameError
from gametheory.sim.engine import simulate
from gametheory.sim.results import SimulationResult
from gametheory.sim.serving.cluster import parse_topology
from gametheory.sim.studies.experiments import _t_interval, adaptive_comparison
from gametheory.sim.studies.results import AdaptiveComparisonResult
from gametheory.sim.studies.scorecard import PAPER_ADAPTIVE, PAPER_FIGURES, scorecard_row
from gametheory.sim.sweep import SweepGrid, _rows, baseline_ttft
from gametheory.sim.workloads import paper_workload
from gametheory.telemetry import poa_hat
from gametheory.telemetry.knee import classify_regimes, detect_knees
from gametheory.telemetry.readers.aiperf import read_aiperf_aggregate
from gametheory.telemetry.schemas import SWEEP, conform

__all__ = [
    "COMPARED",
    "adaptive_run",
    "adaptive_thresholds",
    "compare_rows",
    "detection_rates",
    "detection_trace",
    "dynamo_adaptive_comparison",
    "dynamo_adaptive_scorecard_rows",
    "dynamo_scorecard_rows",
    "front_decisions",
    "front_poa_hat",
    "simulator_adaptive_twin",
    "simulator_twin",
    "ttft_p99_reduction",
]

#: PromQL of the controller on the real frontend (its TTFT histogram, a 3 s rate window).
FRONT_QUERY = (
    "histogram_quantile(0.99, sum by (le) "
    "(rate(dynamo_frontend_time_to_first_token_seconds_bucket[3s])))"
)

#: Sweep columns compared, and whether each is a duration (scaled by the speed-up).
COMPARED: dict[str, bool] = {
    "ttft_ms_p50": True,
    "ttft_ms_p99": True,
    "itl_ms_p50": True,
    "latency_ms_p50": True,
    "request_throughput": False,
    "output_token_throughput": False,
}


def simulator_twin(
    spec: DeploymentSpec,
    concurrency: int,
    n_requests: int,
    *,
    isl: int = 128,
    osl: int = 128,
    seed: int = 0,
) -> SimulationResult:
    """The simulator's run of the workload aiperf sends to ``spec`` (see the module).

    Raises
    ------
    GameError
        For a concurrency or request count below 1.
    """
    for name, value in (("concurrency", concurrency), ("n_requests", n_requests)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise GameError(f"{name} must be an integer >= 1, got {value!r}")
    workload = paper_workload(
        n_requests,
        templates=1,
        shared_tokens=0,
        input_tokens=isl,
        output_tokens=osl,
        block_size=spec.block_size,
        seed=seed,
    )
    return simulate(spec.cluster(), workload, "kv", concurrency=concurrency, seed=seed)


def compare_rows(
    dynamo: pd.DataFrame, simulator: pd.DataFrame, *, speedup_ratio: float = 1.0
) -> pd.DataFrame:
    """One row per concurrency and metric: the Dynamo mocker's value, the simulator's and
    their ratio.

    Parameters
    ----------
    dynamo, simulator
        ``sweep`` frames (one row per concurrency) of the real runs and of the twins.
    speedup_ratio
        The mocker's speed-up: its durations are multiplied by it and its throughputs
        divided by it, so that both columns are in the step-time model's time.

    Returns
    -------
    pandas.DataFrame
        Columns ``concurrency``, ``metric``, ``dynamo``, ``simulator``, ``ratio``.

    Raises
    ------
    GameError
        For a nonpositive speed-up or a frame without ``concurrency``.
    """
    if not (math.isfinite(speedup_ratio) and speedup_ratio > 0):
        raise GameError(f"speedup_ratio must be > 0, got {speedup_ratio!r}")
    for name, frame in (("dynamo", dynamo), ("simulator", simulator)):
        if "concurrency" not in frame.columns:
            raise GameError(f"{name} has no concurrency column")

    def table(frame: pd.DataFrame) -> dict[float, dict[str, float]]:
        levels = frame["concurrency"].to_numpy(dtype=np.float64).tolist()
        values = {m: frame[m].to_numpy(dtype=np.float64).tolist() for m in COMPARED}
        return {c: {m: values[m][i] for m in COMPARED} for i, c in enumerate(levels)}

    real, sim = table(dynamo), table(simulator)
    rows = []
    for c in sorted(set(real) & set(sim)):
        for metric, duration in COMPARED.items():
            value = real[c][metric]
            value = value * speedup_ratio if duration else value / speedup_ratio
            twin = sim[c][metric]
            rows.append(
                {
                    "concurrency": float(c),
                    "metric": metric,
                    "dynamo": value,
                    "simulator": twin,
                    "ratio": value / twin if twin else math.nan,
                }
            )
    return pd.DataFrame(rows, columns=["concurrency", "metric", "dynamo", "simulator", "ratio"])


def dynamo_scorecard_rows(
    topology: str,
    sweep: pd.DataFrame,
    poa: dict[int, float],
    *,
    metric: str = "ttft_ms_p99",
) -> list[dict[str, Any]]:
    """The paper's PoA-hat and knee figures scored on a real Dynamo mocker sweep.

    The same definitions as the simulator's rows: the plateau is the median PoA-hat of
    the cells below saturation at a concurrency of at least the number of decode
    workers, the growth the mean PoA-hat past the knee (saturated cells, and transition
    cells above the knee) over the plateau, and the share of plateau cells below 1.

    Parameters
    ----------
    topology
        xPyD name (``"1P/5D"``).
    sweep
        ``sweep`` rows of the aiperf cells (one per concurrency).
    poa
        PoA-hat of the router probe at each concurrency.
    metric
        Latency column of the knee.

    Returns
    -------
    list of dict
        Rows of :func:`~gametheory.sim.studies.scorecard.scorecard_row`, source
        ``"Dynamo mocker"``.

    Raises
    ------
    GameError
        If a concurrency of the sweep has no PoA-hat.
    """
    names = [c.name for c in SWEEP]
    frame = conform(sweep[[c for c in sweep.columns if c in names]], "sweep")
    frame = frame.assign(deployment=topology)
    levels = frame["concurrency"].to_numpy(dtype=np.float64)
    missing = [c for c in levels if int(c) not in poa]
    if missing:
        raise GameError(f"no PoA-hat at concurrency {missing[0]:g}")
    knees = detect_knees(frame, metric)
    knee = next(iter(knees.values()))
    labels = classify_regimes(frame, metric, knees=knees)
    regime = dict(zip(labels["concurrency"].tolist(), labels["regime"].tolist()))
    n_decode = parse_topology(topology)[1]
    values = np.array([poa[int(c)] for c in levels])
    kinds = np.array([regime[c] for c in levels])
    plateau = (kinds == "below saturation") & (levels >= n_decode)
    past = (kinds == "saturated") | ((kinds == "transition") & (levels > knee.knee))
    level = float(np.median(values[plateau])) if plateau.any() else math.nan
    growth = float(values[past].mean() / level) if past.any() and level > 0 else math.nan
    share = float((values[plateau] < 1.0).mean()) if plateau.any() else math.nan
    post = float(knee.first_post_knee)
    nan = (math.nan, math.nan)

    def row(claim: str, ours: float, holds: bool, reason: str, variant: str = "paper") -> Any:
        paper, tolerance = PAPER_FIGURES[claim]
        return scorecard_row(
            claim,
            topology,
            paper,
            ours,
            nan,
            variant,
            tolerance,
            holds,
            reason,
            source="Dynamo mocker",
        )

    return [
        row(
            "PoA-hat plateau below the knee",
            level,
            7 <= level <= 19,
            f"median {level:.3f}: Dynamo's decode router books each request's prompt blocks "
            "only, so its load term counts requests in flight and a greedy choice among "
            "equal requests is near the one-per-worker optimum",
        ),
        row(
            "first concurrency past the knee",
            post,
            post == 128.0,
            f"TTFT P99 knee at C = {knee.knee:g} (decode slots: {n_decode} x the batch limit)",
            "-",
        ),
        row(
            "PoA-hat growth past the knee",
            growth,
            growth >= 10,
            "no point past the knee"
            if math.isnan(growth)
            else f"past the knee {float(values[past].mean()):.3f} against the plateau {level:.3f}",
        ),
        row(
            "PoA-hat < 1 is rare",
            share,
            share <= 0.1,
            f"{100 * share:.0f}% of {int(plateau.sum())} plateau cells are below 1",
        ),
    ]


# --------------------------------------------------------------------------- adaptive
def _router_log(url: str | None) -> list[dict[str, Any]]:
    """The front's change log (``GET /router``)."""
    if url is None:
        raise GameError("the deployment has no router front")
    with urllib.request.urlopen(url, timeout=10) as answer:
        doc = json.loads(answer.read())
    return list(doc["log"])


def front_decisions(
    path: str | Path, *, stage: str = "decode", omega: float = 1.0, block_size: int = 16
) -> pd.DataFrame:
    """The router front's decision log as a ``decisions`` frame (every candidate).

    Each candidate's cost is recomputed from its logged loads under the fixed prefill
    weight ``omega`` (default 1: Dynamo's default logit ``prefill tokens / block size +
    decode blocks``, the paper's cost), so that runs under different pairs in force are
    scored by the same cost.

    Raises
    ------
    GameError
        If the log holds no decision of ``stage`` with its loads.
    """
    rows: list[dict[str, Any]] = []
    lines = Path(path).read_text().splitlines()
    records = [json.loads(line) for line in lines if line.strip()]
    records = [r for r in records if r.get("stage") == stage and "prefill_tokens" in r]
    if not records:
        raise GameError(f"{path}: no {stage} decision with its candidates' loads")
    for order, rec in enumerate(sorted(records, key=lambda r: (r["time"], r["decision"]))):
        stamp = pd.Timestamp(rec["time"], unit="s", tz="UTC")
        for worker, tokens in rec["prefill_tokens"].items():
            blocks = float(tokens) / block_size
            load = float(rec["decode_blocks"][worker])
            rows.append(
                {
                    "decision": order,
                    "time": stamp,
                    "request_id": f"{rec['decision']}",
                    "worker": worker,
                    "cost": omega * blocks + load,
                    "prefill_weight": omega,
                    "prefill_blocks": blocks,
                    "prefill_cost": omega * blocks,
                    "decode_blocks": load,
                    "cached_blocks": math.nan,
                    "chosen": worker == rec["worker"],
                    "stage": stage,
                    "source": "Dynamo mocker front",
                }
            )
    return conform(pd.DataFrame(rows), "decisions")


def front_poa_hat(path: str | Path, *, stage: str = "decode", block_size: int = 16) -> float:
    """PoA-hat (the paper's estimator, a window of the candidate count) of the front's log."""
    return float(poa_hat(front_decisions(path, stage=stage, block_size=block_size)).poa_hat)


def adaptive_thresholds(
    spec: DeploymentSpec, *, isl: int = 128, osl: int = 128, grid: SweepGrid | None = None
) -> tuple[float, float]:
    """The controller's ``(low_s, high_s)`` on the real stack: the simulator's rule.

    ``grid.adaptive_low`` and ``grid.adaptive_high`` times the unloaded TTFT of the
    same cluster and workload (:func:`gametheory.sim.sweep.baseline_ttft`), divided by
    the mocker's speed-up (its clock runs that much faster).
    """
    g = SweepGrid.paper() if grid is None else grid
    workload = paper_workload(1, templates=1, shared_tokens=0, input_tokens=isl, output_tokens=osl)
    base = baseline_ttft(spec.cluster(), workload) / spec.speedup_ratio
    return (base * g.adaptive_low, base * g.adaptive_high)


def adaptive_run(
    spec: DeploymentSpec,
    workdir: str | Path,
    *,
    adaptive: bool,
    concurrency: int,
    n_requests: int,
    seed: int = 0,
    isl: int = 128,
    osl: int = 128,
    thresholds: tuple[float, float] | None = None,
    poll_s: float = 0.5,
    timeout_s: float = 600.0,
) -> dict[str, Any]:
    """One aiperf cell through the router front, static or with the controller.

    The deployment is ``spec`` with the front and a real Prometheus (scraping the
    frontend every second). Static: the front stays at Dynamo's default ``(1, 0)``.
    Adaptive: :class:`~gametheory.control.service.ControlService` polls Prometheus
    every ``poll_s`` (:data:`FRONT_QUERY`, the frontend's TTFT histogram) with an EWMA
    detector (``alpha`` 0.6, no dwell) on ``thresholds`` (default
    :func:`adaptive_thresholds`) and pushes the paper's mapping to the front's
    ``/router``. Every process is stopped on return.

    Returns
    -------
    dict
        ``seed``, ``poa_hat`` (decode decisions of the front's log, see
        :func:`front_poa_hat`), ``request_throughput`` (requests/s), ``ttft_ms_p99``
        (aiperf's), ``switches`` (changes of the front's pair), ``n_requests``
        (aiperf's count), ``folder``.

    Raises
    ------
    DeploymentError
        If the deployment or aiperf fails.
    """
    low, high = adaptive_thresholds(spec, isl=isl, osl=osl) if thresholds is None else thresholds
    run_spec = replace(spec, front=True, prometheus=True)
    work = Path(workdir)
    with DynamoDeployment(run_spec, work) as d:
        service: ControlService | None = None
        thread: threading.Thread | None = None
        if adaptive:
            assert d.prometheus_url is not None and d.router_url is not None
            service = ControlService(
                PrometheusClient(d.prometheus_url),
                AdaptiveController(
                    EWMADetector(low, high, alpha=0.6, min_dwell_s=0.0), dict(PAPER_MAPPING)
                ),
                query=FRONT_QUERY,
                interval_s=poll_s,
                push_url=d.router_url,
                emit=lambda record: None,
            )
            service.check()
            max_polls = int(timeout_s / poll_s) + 1
            thread = threading.Thread(target=service.run, kwargs={"max_polls": max_polls})
            thread.start()
        try:
            folder = run_aiperf(
                d.url,
                spec.served_name,
                d.model_dir,
                work / "aiperf",
                concurrency=concurrency,
                request_count=n_requests,
                isl=isl,
                osl=osl,
                seed=seed,
                timeout_s=timeout_s,
            )
        finally:
            if service is not None and thread is not None:
                service.stop.set()
                thread.join(30)
        switches = len(_router_log(d.router_url)) - 1
        log = d.decision_log
    row = read_aiperf_aggregate(folder / "profile_export_aiperf.json").iloc[0]
    return {
        "seed": seed,
        "poa_hat": front_poa_hat(log, block_size=spec.block_size),
        "request_throughput": float(row["request_throughput"]),
        "ttft_ms_p99": float(row["ttft_ms_p99"]),
        "switches": switches,
        "n_requests": float(row["n_requests"]) if "n_requests" in row else float(n_requests),
        "folder": str(folder),
    }


def dynamo_adaptive_comparison(
    spec: DeploymentSpec,
    out: str | Path,
    *,
    concurrency: int = 256,
    n_requests: int = 400,
    seeds: Sequence[int] = (0, 1, 2),
    confidence: float = 0.95,
    isl: int = 128,
    osl: int = 128,
    thresholds: tuple[float, float] | None = None,
    poll_s: float = 0.5,
    timeout_s: float = 600.0,
) -> AdaptiveComparisonResult:
    """Static ``kv(1, 0)`` against adaptive on the real stack, paired over seeds.

    Each seed runs :func:`adaptive_run` twice (static, then adaptive: a fresh deployment
    each, aiperf's ``--random-seed`` the seed, so both get the same prompts) into
    ``out/<topology>/seed<k>-static`` and ``-adaptive``. The per-seed ratios and their
    Student-t intervals are those of
    :func:`~gametheory.sim.studies.experiments.adaptive_comparison`: PoA-hat reduction
    ``static / adaptive``, throughput cost ``1 - adaptive / static``, TTFT P99 change
    ``adaptive / static - 1``.

    Raises
    ------
    GameError
        For fewer than two seeds.
    DeploymentError
        If a deployment or aiperf fails.
    """
    if len(seeds) < 2:
        raise GameError("dynamo_adaptive_comparison needs at least two seeds for an interval")
    root = Path(out) / spec.topology.replace("/", "")
    runs: dict[str, list[dict[str, Any]]] = {"static": [], "adaptive": []}
    for seed in seeds:
        for policy in ("static", "adaptive"):
            runs[policy].append(
                adaptive_run(
                    spec,
                    root / f"seed{seed}-{policy}",
                    adaptive=policy == "adaptive",
                    concurrency=concurrency,
                    n_requests=n_requests,
                    seed=seed,
                    isl=isl,
                    osl=osl,
                    thresholds=thresholds,
                    poll_s=poll_s,
                    timeout_s=timeout_s,
                )
            )
    static = pd.DataFrame(runs["static"]).drop(columns="folder")
    adapt = pd.DataFrame(runs["adaptive"]).drop(columns="folder")
    per_seed = static.merge(adapt, on="seed", suffixes=("_static", "_adaptive"))
    red = (per_seed["poa_hat_static"] / per_seed["poa_hat_adaptive"]).to_numpy(np.float64)
    cost = (
        1.0 - per_seed["request_throughput_adaptive"] / per_seed["request_throughput_static"]
    ).to_numpy(np.float64)
    ttft = (per_seed["ttft_ms_p99_adaptive"] / per_seed["ttft_ms_p99_static"] - 1.0).to_numpy(
        np.float64
    )
    per_seed = per_seed.assign(poa_reduction=red, throughput_cost=cost, ttft_p99_change=ttft)
    red_ci = _t_interval(red, confidence)
    variants = pd.DataFrame(
        [
            {
                "variant": "paper",
                "poa_reduction": float(red.mean()),
                "low": red_ci[0],
                "high": red_ci[1],
            }
        ]
    )
    done = per_seed[["n_requests_static", "n_requests_adaptive"]].to_numpy(np.float64)
    return AdaptiveComparisonResult(
        topology=spec.topology,
        concurrency=concurrency,
        poa_reduction=float(red.mean()),
        poa_reduction_ci=red_ci,
        throughput_cost=float(cost.mean()),
        throughput_cost_ci=_t_interval(cost, confidence),
        ttft_p99_change=float(ttft.mean()),
        per_seed=per_seed,
        variants=variants,
        confidence=confidence,
        n_seeds=len(seeds),
        converged=bool((done == n_requests).all()),
        iterations=2 * len(seeds),
        method="Dynamo mocker through the router front, paired over seeds: kv(omega=1,tau=0) "
        "vs the controller on real Prometheus; Student-t intervals",
    )


def simulator_adaptive_twin(
    spec: DeploymentSpec,
    *,
    concurrency: int,
    n_requests: int,
    seeds: Sequence[int] = (0, 1, 2),
    isl: int = 128,
    osl: int = 128,
    poll_s: float = 0.5,
    confidence: float = 0.95,
) -> AdaptiveComparisonResult:
    """The simulator's :func:`~gametheory.sim.studies.experiments.adaptive_comparison` of
    the same runs: the cluster of ``spec`` (model, GPU, TP, decode batch limit), aiperf's
    workload (fixed lengths, no shared prefix, ``n_requests`` a cell, none left out), the
    controller polling every ``poll_s`` of the mocker's clock with the same thresholds
    rule and the paper's mapping."""
    grid = SweepGrid(
        model=spec.model,
        gpu=spec.gpu,
        tp_prefill=spec.tp,
        tp_decode=spec.tp,
        decode_batch_limit=spec.max_num_seqs,
        input_tokens=isl,
        output_tokens=osl,
        templates=1,
        shared_tokens=0,
        requests_per_user=1,
        min_requests=n_requests,
        adaptive_rows=_rows(PAPER_MAPPING),
        poll_s=poll_s * spec.speedup_ratio,
    )
    return adaptive_comparison(
        grid,
        topology=(spec.n_prefill, spec.n_decode),
        concurrency=concurrency,
        seeds=tuple(seeds),
        confidence=confidence,
    )


def ttft_p99_reduction(
    result: AdaptiveComparisonResult,
) -> tuple[float, tuple[float, float]]:
    """Mean over seeds of ``TTFT P99(static) / TTFT P99(adaptive)`` and its Student-t
    interval (the scorecard's definition)."""
    ps = result.per_seed
    ratio = (ps["ttft_ms_p99_static"] / ps["ttft_ms_p99_adaptive"]).to_numpy(np.float64)
    return float(ratio.mean()), _t_interval(ratio, result.confidence)


def dynamo_adaptive_scorecard_rows(result: AdaptiveComparisonResult) -> list[dict[str, Any]]:
    """The paper's adaptive figures scored on a real comparison (source "Dynamo mocker").

    The rows of the simulator's scorecard: PoA-hat reduction, throughput cost and TTFT
    P99 reduction where the paper states them for the topology, each holding when the
    paper's figure lies inside the 95% interval.
    """
    paper = PAPER_ADAPTIVE.get(result.topology, {})
    ps = result.per_seed
    switches = float(ps["switches_adaptive"].mean())
    where = f"C = {result.concurrency}, {result.n_seeds} seeds"
    why = (
        f"{switches:.1f} switches per run; PoA-hat static "
        f"{float(ps['poa_hat_static'].mean()):.3f}, adaptive "
        f"{float(ps['poa_hat_adaptive'].mean()):.3f}"
    )
    ttft, ttft_ci = ttft_p99_reduction(result)
    figures = (
        (
            "PoA-hat reduction, adaptive vs static",
            "poa_reduction",
            result.poa_reduction,
            result.poa_reduction_ci,
            "x",
            "paper",
        ),
        (
            "throughput cost of the adaptive router",
            "throughput_cost",
            result.throughput_cost,
            result.throughput_cost_ci,
            "",
            "paper",
        ),
        ("TTFT P99 reduction, adaptive vs static", "ttft_reduction", ttft, ttft_ci, "x", "-"),
    )
    rows = []
    for claim, key, ours, ci, unit, variant in figures:
        value = paper.get(key)
        if value is None:
            continue
        rows.append(
            scorecard_row(
                claim,
                result.topology,
                f"{value:.3g}{unit}",
                ours,
                ci,
                variant,
                f"paper's figure inside the 95% interval ({where})",
                ci[0] <= value <= ci[1],
                why,
                source="Dynamo mocker",
            )
        )
    return rows


# --------------------------------------------------------------------------- detection
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
