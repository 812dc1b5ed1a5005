"""Benchmark: the full sweep of issue 8 and the simulation study.

Target (issue 8): the sweep of Llama-3.1-70B on B200, 1P/5D and 1P/2D, concurrency
1, 2, 4, ..., 256 (11 points) x a 4 x 4 (omega, tau) grid (352 simulations, up to
2,048 requests each, PoA-hat with a 200-replicate bootstrap per cell) in under 10
minutes on 2 cores. The sweep runs on a ``ProcessPoolExecutor`` with ``--workers``
processes and, with ``--serial``, also serially (the two tables must be identical,
bit for bit). With ``--study`` the whole study of
:func:`gametheory.sim.studies.study.simulation_study` (curves for five policies,
adaptive comparison over 8 seeds, optimum check, detector Monte Carlo) runs too and
its tables and figures go to ``--out``.

The sweep is the paper's deployment (``StudyConfig().grid``: ``SweepGrid.paper()`` with
every PoA-hat variant); ``--historical`` runs the simulator's historical defaults
(``SweepGrid()``: TP1, 48 decode slots) instead.

Run: ``python benchmarks/bench_sweep.py [--workers 2] [--serial] [--study] [--historical]
[--out DIR]``.
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ProcessPoolExecutor

import pandas as pd

from gametheory.sim.studies.experiments import regime_study
from gametheory.sim.studies.study import StudyConfig, simulation_study
from gametheory.sim.sweep import SweepGrid, sweep


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--serial", action="store_true", help="also run serially and compare")
    parser.add_argument("--study", action="store_true", help="run the full study too")
    parser.add_argument(
        "--historical", action="store_true", help="TP1 / 48 slots instead of the paper's"
    )
    parser.add_argument("--out", default="bench-sweep-out", help="folder of the study's files")
    args = parser.parse_args()
    pd.set_option("display.width", 200)
    pd.set_option("display.max_columns", 20)

    grid = SweepGrid() if args.historical else StudyConfig().grid
    n_cells = len(list(grid.cells()))
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.workers) as ex:
        table = sweep(grid, ex)
    wall = time.perf_counter() - t0
    print(
        f"full sweep: {n_cells} cells, {int(table['n_requests'].sum())} requests, "
        f"{wall:.1f} s on {args.workers} processes (target < 600 s: "
        f"{'met' if wall < 600 else 'MISSED'}, {600 / wall:.1f}x margin)"
    )
    if args.serial:
        t0 = time.perf_counter()
        serial = sweep(grid)
        ws = time.perf_counter() - t0
        pd.testing.assert_frame_equal(serial, table, check_exact=True)
        print(f"serial: {ws:.1f} s (speed-up {ws / wall:.2f}x); tables identical bit for bit")

    study = regime_study(table=table)
    print("\nthree-regime summary (PoA-hat over the 4 x 4 grid):")
    print(study.summary.to_string(index=False))
    print("\nPoA-hat per concurrency: mean, min and max over (omega, tau):")
    stats = table.groupby(["topology", "concurrency"], sort=False)["poa_hat"].agg(
        ["mean", "min", "max"]
    )
    ttft = table.groupby(["topology", "concurrency"], sort=False)[
        ["ttft_ms_p99", "request_throughput"]
    ].mean()
    regimes = study.regimes.set_index(["topology", "concurrency"])["regime"]
    print(stats.join(ttft).join(regimes).round(3).to_string())

    if args.study:
        t0 = time.perf_counter()
        with ProcessPoolExecutor(max_workers=args.workers) as ex:
            full = simulation_study(
                StudyConfig(),
                ex,
                out_dir=args.out,
                progress=lambda m: print(f"  ... {m}", flush=True),
            )
        print(f"\nfull study: {time.perf_counter() - t0:.1f} s, files in {args.out}/")
        for a in full.adaptive + full.saturating:
            print(a)
        print(full.scorecard.to_markdown())
        for o in full.optimum:
            print(o)
            print(o.windows.round(4).to_string(index=False))
        print(full.detector.table.round(4).to_string(index=False))
        print(full.transient.table.round(1).to_string(index=False))
        print(full.curves.round(3).to_string(index=False))


if __name__ == "__main__":
    main()
