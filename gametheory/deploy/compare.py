"""A real Dynamo mocker run beside the library's simulator on the same deployment.

:func:`simulator_twin` runs :func:`gametheory.sim.engine.simulate` on the cluster of a
:class:`~gametheory.deploy.spec.DeploymentSpec` (same model, GPU, tensor parallelism,
step-time parameters, scheduler limits) with the workload aiperf generates in
:func:`~gametheory.deploy.loadgen.aiperf_command`: fixed input and output lengths and
prompts that share no prefix (one template with no shared tokens), closed loop at the
same concurrency, the same number of requests, the KV router.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from gametheory.deploy.spec import DeploymentSpec
from gametheory.errors import GameError
from gametheory.sim.engine import simulate
from gametheory.sim.results import SimulationResult
from gametheory.sim.serving.cluster import parse_topology
from gametheory.sim.studies.scorecard import PAPER_FIGURES, scorecard_row
from gametheory.sim.workloads import paper_workload
from gametheory.telemetry.knee import classify_regimes, detect_knees
from gametheory.telemetry.schemas import SWEEP, conform

__all__ = [
    "COMPARED",
    "compare_rows",
    "dynamo_scorecard_rows",
    "simulator_twin",
]

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
