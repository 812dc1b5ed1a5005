"""Benchmark: the PoA-hat sensitivity study on the full grid (issue 13).

Target: every PoA-hat variant on 1P/5D and 1P/2D x the paper's 11 concurrencies x the
4 x 4 (omega, tau) grid x 4 seeds (1,408 simulations) within 10 minutes on 2 cores.
Prints the wall time, the cells per second and the summary table (plateau, its CV
across router settings, growth past the knee, and the paper-shape checks).

The cells are the paper's deployment (``SweepGrid.paper()``: TP4 prefill and decode
instances, vLLM's default ``max_num_seqs`` 1024 and step-time fit, the first 25% of each
cell's requests left out as warm-up, and 10% output-length jitter, a stand-in for the
timing noise that keeps real closed-loop users from returning in lockstep: an
assumption, named). With ``--historical`` they are the simulator's historical defaults
(TP1 instances, 48-request decode batches, TensorRT-LLM fit, no warm-up, fixed lengths).

Run: ``python benchmarks/bench_estimator_study.py [workers] [--historical]`` (default 2
processes).
"""

from __future__ import annotations

import sys
import time
from concurrent.futures import ProcessPoolExecutor

import pandas as pd

from gametheory.sim.studies.estimators import estimator_study
from gametheory.sim.sweep import SweepGrid


def main() -> None:
    args = [a for a in sys.argv[1:] if a != "--historical"]
    workers = int(args[0]) if args else 2
    seeds = (0, 1, 2, 3)
    historical = "--historical" in sys.argv
    grid = SweepGrid(seeds=seeds) if historical else SweepGrid.paper(seeds=seeds)
    start = time.perf_counter()
    with ProcessPoolExecutor(workers) as pool:
        result = estimator_study(grid, pool)
    wall = time.perf_counter() - start
    n = len(result.table)
    print(
        f"{n} simulations x {result.summary['variant'].nunique()} variants on {workers} "
        f"processes: {wall:.1f} s ({n / wall:.2f} cells/s)"
    )
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(result.summary.round(4).to_string(index=False))


if __name__ == "__main__":
    main()
