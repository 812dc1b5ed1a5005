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
ratio first (both are then in the model's time). What the two share is the step times;
what differs is the router's bookkeeping, the schedulers (vLLM's in the mocker, the
simulator's own) and the KV transfer.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from gametheory.deploy.spec import DeploymentSpec
from gametheory.errors import GameError
from gametheory.sim.engine import simulate
from gametheory.sim.results import SimulationResult
from gametheory.sim.workloads import paper_workload

__all__ = ["COMPARED", "compare_rows", "simulator_twin"]

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
