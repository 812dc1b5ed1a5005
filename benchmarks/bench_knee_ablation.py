"""Benchmark: what moves the simulated knee (issue 13, item 3).

Runs :func:`gametheory.sim.studies.knee_ablation.knee_ablation` on the paper's
concurrency grid with the KV router at Dynamo's defaults, both topologies and 4 seeds:
the simulator's historical settings, then each setting of the paper's deployment added
in turn (warm-up left out, TP4, vLLM's 1024 decode slots, the vLLM step-time fit), then
10% output jitter (an assumption). Prints the knee, whether the curve is flat, where
throughput stops scaling, the throughput elasticity between C = 192 and 256, and the
TTFT P99 and throughput at C = 256.

Run: ``python benchmarks/bench_knee_ablation.py [workers]`` (default 2 processes).
"""

from __future__ import annotations

import sys
import time
from concurrent.futures import ProcessPoolExecutor

import pandas as pd

from gametheory.sim import SweepGrid, knee_ablation


def main() -> None:
    workers = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    start = time.perf_counter()
    with ProcessPoolExecutor(workers) as pool:
        table = knee_ablation(SweepGrid(seeds=(0, 1, 2, 3)), pool)
    print(f"knee ablation: {time.perf_counter() - start:.1f} s on {workers} processes")
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.round(3).to_string(index=False))


if __name__ == "__main__":
    main()
