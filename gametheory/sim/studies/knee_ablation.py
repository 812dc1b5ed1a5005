"""What moves the simulated knee: the deployment's settings applied one at a time.

:func:`knee_ablation` starts from the simulator's historical settings
(:class:`~gametheory.sim.sweep.SweepGrid`: TP1 instances, 48-request decode batches,
the TensorRT-LLM step-time fit, every request counted) and applies the settings of the
paper's deployment (:meth:`SweepGrid.paper() <gametheory.sim.sweep.SweepGrid.paper>`)
cumulatively, in :data:`PAPER_STEPS` order, then one assumption beyond it: output
lengths with a 10% standard deviation, a stand-in for whatever breaks the closed-loop
waves in a real engine.
After each step it runs the KV router at Dynamo's defaults over the concurrency grid and
reports the TTFT knee (:func:`gametheory.telemetry.detect_knee`), whether the curve is
flat (no knee), where throughput stops scaling, and the load at the top of the grid.
Each step's source is in its name: a deployment fact, a measurement convention, or an
assumption; none is chosen by the knee it gives.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import replace
from typing import Any

import pandas as pd

from gametheory.errors import GameError
from gametheory.sim.sweep import SweepGrid, reduced, sweep
from gametheory.telemetry.knee import detect_knee

__all__ = ["PAPER_STEPS", "knee_ablation"]

#: The paper deployment's settings in the order :func:`knee_ablation` applies them,
#: then output jitter (not part of the paper's deployment): ``(label, source, SweepGrid
#: changes)``.
PAPER_STEPS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("historical", "the simulator's old defaults", {}),
    ("warm-up left out", "aiperf warm-up requests", {"warmup_fraction": 0.25}),
    ("TP4 instances", "the paper's deployment", {"tp_prefill": 4, "tp_decode": 4}),
    ("1024 decode slots", "vLLM max_num_seqs on >= 70 GiB GPUs", {"decode_batch_limit": 1024}),
    ("vLLM step times", "calibrate() on aiconfigurator vLLM rows", {"backend": "vllm"}),
    ("10% output jitter", "assumption: engine timing noise", {"output_tokens_stddev": 12.8}),
)


def knee_ablation(
    base: SweepGrid | None = None,
    executor: Executor | None = None,
    *,
    steps: Sequence[tuple[str, str, dict[str, Any]]] = PAPER_STEPS,
) -> pd.DataFrame:
    """The knee after each cumulative change from ``base`` towards the paper's deployment.

    Parameters
    ----------
    base
        The starting grid; default :class:`SweepGrid` with seeds 0 and 1. Its router
        grid is replaced by Dynamo's defaults ``(omega, tau) = (1, 0)``.
    executor
        Runs the cells.
    steps
        ``(label, source, changes)`` applied cumulatively (default :data:`PAPER_STEPS`).

    Returns
    -------
    pandas.DataFrame
        One row per step and topology: ``step``, ``source``, ``topology``, ``knee``
        (NaN when none), ``flat``, ``plateau`` (where throughput stops scaling, NaN when
        it never does), ``rise`` (largest over smallest TTFT P99),
        ``ttft_ms_p99_top`` and ``request_throughput_top`` (at the largest
        concurrency, means over seeds) and ``elasticity_top`` (throughput elasticity
        between the two largest concurrencies).

    Raises
    ------
    GameError
        On an empty ``steps`` or an unknown grid field in a step.
    """
    if not steps:
        raise GameError("knee_ablation needs at least one step")
    grid = SweepGrid(seeds=(0, 1)) if base is None else base
    grid = replace(grid, policies=("kv",), omegas=(1.0,), taus=(0.0,), variants=("paper",))
    rows = []
    for label, source, changes in steps:
        grid = reduced(grid, **changes)
        table = sweep(grid, executor)
        for topo, part in table.groupby("topology", sort=False):
            knee = detect_knee(part)
            top = part[part["concurrency"] == part["concurrency"].max()]
            rows.append(
                {
                    "step": label,
                    "source": source,
                    "topology": topo,
                    "knee": knee.knee,
                    "flat": knee.flat,
                    "plateau": knee.plateau,
                    "rise": knee.rise,
                    "ttft_ms_p99_top": float(top["ttft_ms_p99"].mean()),
                    "request_throughput_top": float(top["request_throughput"].mean()),
                    "elasticity_top": knee.end_elasticity,
                }
            )
    return pd.DataFrame(rows)
