"""Sensitivity of PoA-hat to its definition: every variant on the same simulated runs.

:func:`estimator_study` runs one KV-router sweep (topologies x the paper's concurrency
grid x the (omega, tau) grid x seeds) with every PoA-hat variant of
:mod:`gametheory.telemetry.poa_variants` computed on each run, and summarises each
variant the way the paper reports PoA-hat (arXiv 2606.17081, section 6): the plateau
below the knee, its coefficient of variation across router settings, and its growth
past the knee. The knee is the TTFT knee of the same runs
(:func:`~gametheory.sim.studies.experiments.regime_study`), so it is one per topology
whatever the variant. Each variant is then checked against the paper's shape
(:data:`PAPER_SHAPE`): a plateau of 7 to 19, a cross-setting CV below 0.5%, and at
least tenfold growth past the knee. The adaptive router's PoA-hat reduction at
saturation is reported under every variant too. One definition is applied unchanged to every cell,
and nothing is fitted to the paper's numbers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import replace

import pandas as pd

from gametheory.errors import GameError
from gametheory.sim.studies.experiments import adaptive_comparison, poa_summary, regime_study
from gametheory.sim.studies.results import (
    AdaptiveComparisonResult,
    EstimatorStudyResult,
    RegimeStudyResult,
)
from gametheory.sim.sweep import SweepGrid, sweep
from gametheory.telemetry.poa_variants import VARIANTS

__all__ = ["PAPER_SHAPE", "estimator_study"]

#: The paper's PoA-hat shape (section 6 and its 340B table): plateau range below the
#: knee, largest cross-setting coefficient of variation there, least growth past it.
PAPER_SHAPE = {"plateau_low": 7.0, "plateau_high": 19.0, "cv_max": 0.005, "growth_min": 10.0}


def estimator_study(
    grid: SweepGrid | None = None,
    executor: Executor | None = None,
    *,
    table: pd.DataFrame | None = None,
    adaptive: Sequence[AdaptiveComparisonResult] | None = None,
    regimes: RegimeStudyResult | None = None,
    adaptive_concurrency: int = 256,
    adaptive_seeds: Sequence[int] = tuple(range(8)),
) -> EstimatorStudyResult:
    """Every PoA-hat variant on the same sweep, against the paper's shape.

    Parameters
    ----------
    grid
        The sweep; default :meth:`SweepGrid.paper() <gametheory.sim.sweep.SweepGrid.paper>`
        with four seeds. Its ``variants`` are
        replaced by all of :data:`~gametheory.telemetry.poa_variants.VARIANTS`.
    executor
        Runs the cells (see :func:`gametheory.sim.sweep.sweep`).
    table
        A sweep table with ``poa_hat[<variant>]`` columns already computed.
    adaptive
        Adaptive comparisons with every variant (:func:`~gametheory.sim.studies.
        experiments.adaptive_comparison` on a grid with all variants), one per topology.
        Default: run at ``adaptive_concurrency`` over ``adaptive_seeds`` when the sweep
        is run here; none when ``table`` is given.
    regimes
        The regime study of ``table`` if already computed (its knees and regimes are
        reused instead of detected again).
    adaptive_concurrency, adaptive_seeds
        Load and seeds of those comparisons.

    Returns
    -------
    EstimatorStudyResult
        ``summary``: one row per topology x variant with ``knee``, the columns of
        :func:`~gametheory.sim.studies.experiments.poa_summary` (``plateau_median``,
        ``plateau_cv``, ``growth``, ...), ``adaptive_ratio`` with ``adaptive_low`` and
        ``adaptive_high`` (PoA-hat static / adaptive under the variant, NaN without a
        comparison), and the checks ``plateau_ok``, ``cv_ok``, ``growth_ok`` and
        ``paper_shape`` (all three).
    """
    if table is None:
        grid = SweepGrid.paper(seeds=(0, 1, 2, 3)) if grid is None else grid
        grid = replace(grid, policies=("kv",), variants=tuple(VARIANTS))
        table = sweep(grid, executor)
        if adaptive is None:
            adaptive = [
                adaptive_comparison(
                    grid,
                    executor,
                    topology=topo,
                    concurrency=adaptive_concurrency,
                    seeds=adaptive_seeds,
                )
                for topo in grid.topologies
            ]
    ratios = {
        (a.topology, str(v["variant"])): (v["poa_reduction"], v["low"], v["high"])
        for a in adaptive or ()
        for v in a.variants.to_dict("records")
    }
    names = [v for v in VARIANTS if f"poa_hat[{v}]" in table.columns]
    if not names:
        raise GameError("the sweep table has no poa_hat[<variant>] columns")
    study = (
        regime_study(table=table.assign(poa_hat=table[f"poa_hat[{names[0]}]"]))
        if regimes is None
        else regimes
    )
    kv = table[table["policy_name"] == "kv"]
    parts = list(kv.groupby("topology", sort=False))
    labels = {
        str(topo): dict(zip(reg["concurrency"], reg["regime"], strict=True))
        for topo, reg in study.regimes.groupby("topology", sort=False)
    }
    rows = []
    for name in names:
        for topo, part in parts:
            knee = study.knees[str(topo)].knee
            got = poa_summary(part, labels[str(topo)], knee, f"poa_hat[{name}]")
            level, cv, growth = (float(got[k]) for k in ("plateau_median", "plateau_cv", "growth"))
            ratio, low, high = ratios.get((str(topo), name), (math.nan,) * 3)
            rows.append(
                {"topology": topo, "variant": name, "knee": knee}
                | got
                | {"adaptive_ratio": ratio, "adaptive_low": low, "adaptive_high": high}
                | {
                    "plateau_ok": PAPER_SHAPE["plateau_low"]
                    <= level
                    <= PAPER_SHAPE["plateau_high"],
                    "cv_ok": cv < PAPER_SHAPE["cv_max"],
                    "growth_ok": growth >= PAPER_SHAPE["growth_min"],
                }
            )
    summary = pd.DataFrame(rows)
    summary["paper_shape"] = summary["plateau_ok"] & summary["cv_ok"] & summary["growth_ok"]
    return EstimatorStudyResult(
        table=table,
        summary=summary,
        knees=study.knees,
        converged=study.converged,
        iterations=len(table),
        method="every PoA-hat variant on one KV-router sweep; knee from TTFT P99",
    )
