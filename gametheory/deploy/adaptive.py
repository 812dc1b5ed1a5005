"""The paper's adaptive experiment on a real Dynamo, beside the simulator.

:func:`compare_rows` puts the two side by side, one row per concurrency and metric, and
the ratio Dynamo / simulator. The mocker runs ``speedup_ratio`` times faster than the
step-time model, so its latencies are multiplied and its throughputs divided by the
ratio first (both are then in the model's time). :func:`dynamo_scorecard_rows` scores a
real sweep against the paper's PoA-hat and knee figures, in the rows of the
reproduction scorecard (:mod:`gametheory.sim.studies.scorecard`) with the source
``"Dynamo mocker"``. What the two share is the step times;
what differs is the router's bookkeeping, the schedulers (vLLM's in the mocker, the
simulator's own) and the KV transfer.
"""

from __future__ import annotations

import json
import math
import threading
import urllib.request
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gametheory.control.detector import EWMADetector
from gametheory.control.policy import AdaptiveController
from gametheory.control.service import PAPER_MAPPING, ControlService, PrometheusClient
from gametheory.deploy.launcher import DynamoDeployment
from gametheory.deploy.loadgen import run_aiperf
from gametheory.deploy.spec import DeploymentSpec
from gametheory.errors import GameError
from gametheory.sim.studies.experiments import _t_interval, adaptive_comparison
from gametheory.sim.studies.results import AdaptiveComparisonResult
from gametheory.sim.studies.scorecard import PAPER_ADAPTIVE, scorecard_row
from gametheory.sim.sweep import SweepGrid, _rows, baseline_ttft
from gametheory.sim.workloads import paper_workload
from gametheory.telemetry import poa_hat
from gametheory.telemetry.readers.aiperf import read_aiperf_aggregate
from gametheory.telemetry.schemas import conform

__all__ = [
    "FRONT_QUERY",
    "adaptive_run",
    "adaptive_thresholds",
    "dynamo_adaptive_comparison",
    "dynamo_adaptive_scorecard_rows",
    "front_decisions",
    "front_poa_hat",
    "simulator_adaptive_twin",
    "ttft_p99_reduction",
]

#: PromQL of the controller on the real frontend (its TTFT histogram, a 3 s rate window).
FRONT_QUERY = (
    "histogram_quantile(0.99, sum by (le) "
    "(rate(dynamo_frontend_time_to_first_token_seconds_bucket[3s])))"
)


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
