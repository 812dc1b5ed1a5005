"""The whole simulation study of the paper in one call, written to a folder.

:func:`simulation_study` runs, for a :class:`StudyConfig`, the experiments of
:mod:`gametheory.sim.studies.experiments` (regimes, adaptive against static routing,
policy curves) and the referee checks of :mod:`gametheory.sim.studies.referee` (the
PoA-hat estimator against the affinity-game optimum, the detector's switch rates, the
latency transient around a switch), then writes CSV tables and the figures of
:mod:`gametheory.sim.studies.plots`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from gametheory.control.results import DetectorStudyResult, SwitchTransientResult
from gametheory.sim.serving.cluster import topology_name
from gametheory.sim.studies.experiments import adaptive_comparison, policy_curves, regime_study
from gametheory.sim.studies.referee import detector_study, optimum_check, switch_transient
from gametheory.sim.studies.results import (
    AdaptiveComparisonResult,
    OptimumCheckResult,
    RegimeStudyResult,
    ScorecardResult,
    SimulationStudyResult,
)
from gametheory.sim.studies.scorecard import scorecard
from gametheory.sim.sweep import Cell, SweepGrid, baseline_ttft
from gametheory.telemetry.poa_variants import VARIANTS

__all__ = ["SATURATING", "StudyConfig", "simulation_study"]

#: A deployment that does saturate inside the paper's grid, for the adaptive
#: comparison: the simulator's historical TP1 instances with 48-request decode batches
#: (1P/2D's 96 decode slots fill from C = 96), with the paper's measurement and
#: controller rows. Not the paper's deployment (TP4, 1024 slots), on which nothing
#: saturates up to C = 256.
SATURATING = replace(
    SweepGrid.paper(tp_prefill=1, tp_decode=1, decode_batch_limit=48),
    omegas=(1.0,),
    taus=(0.0,),
)

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class StudyConfig:
    """Size of a :func:`simulation_study`.

    Attributes
    ----------
    grid
        The regime sweep (topologies, concurrencies, (omega, tau) grid, workload);
        default the paper's deployment (:meth:`SweepGrid.paper()
        <gametheory.sim.sweep.SweepGrid.paper>`) with every PoA-hat variant.
    curve_concurrency
        Concurrencies of the per-policy curves.
    policies
        Policies of the curves.
    adaptive_seeds
        Seeds of the adaptive comparison.
    saturating
        Deployment of the second adaptive comparison, one that saturates (default
        :data:`SATURATING`); None skips it.
    saturation
        Concurrency of the adaptive comparison, the optimum check and the transient.
    optimum_windows
        Windows of the optimum check.
    detector_runs
        Monte Carlo runs per detector scenario.
    """

    grid: SweepGrid = field(default_factory=lambda: SweepGrid.paper(variants=tuple(VARIANTS)))
    curve_concurrency: tuple[int, ...] = (1, 4, 16, 32, 64, 128, 192, 256)
    policies: tuple[str, ...] = ("kv", "adaptive", "cache_aware", "round_robin", "least_loaded")
    adaptive_seeds: tuple[int, ...] = tuple(range(8))
    saturating: SweepGrid | None = SATURATING
    saturation: int = 256
    optimum_windows: int = 10
    detector_runs: int = 300

    @classmethod
    def reduced(cls) -> StudyConfig:
        """The study ``gametheory demo`` runs: the paper's concurrency grid, a 2 x 2
        (omega, tau) grid, four seeds, fewer Monte Carlo runs (about a minute)."""
        grid = SweepGrid.paper(
            omegas=(0.0, 1.0), taus=(0.0, 0.5), n_bootstrap=100, variants=tuple(VARIANTS)
        )
        return cls(
            grid=grid,
            curve_concurrency=(1, 4, 16, 64, 128, 192, 256),
            optimum_windows=4,
            detector_runs=150,
        )

    @classmethod
    def quick(cls) -> StudyConfig:
        """A tiny study for smoke tests and a first look (1P/2D only, six concurrencies,
        two router settings, three seeds; a few seconds)."""
        grid = SweepGrid.paper(
            topologies=((1, 2),),
            concurrency=(1, 4, 16, 64, 128, 256),
            omegas=(0.0, 1.0),
            taus=(0.0,),
            n_bootstrap=50,
            variants=tuple(VARIANTS),
        )
        return cls(
            grid=grid,
            curve_concurrency=(1, 16, 128, 256),
            policies=("kv", "adaptive", "round_robin"),
            adaptive_seeds=(0, 1, 2),
            saturating=None,
            optimum_windows=3,
            detector_runs=60,
        )


def simulation_study(
    config: StudyConfig | None = None,
    executor: Executor | None = None,
    *,
    out_dir: str | Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> SimulationStudyResult:
    """Run the whole study; with ``out_dir``, write its tables (CSV) and figures (PNG).

    Parameters
    ----------
    config
        Study size; default :class:`StudyConfig()` (the full grid of the paper).
    executor
        Runs the sweeps' cells.
    out_dir
        Folder for ``regimes.csv``, ``summary.csv``, ``adaptive.csv``,
        ``optimum.csv``, ``detector.csv``, ``transient.csv``, ``curves.csv`` and the
        figures of :mod:`gametheory.sim.studies.plots`.
    progress
        Called with a short message before each part.
    """
    cfg = StudyConfig() if config is None else config
    say = progress if progress is not None else (lambda _msg: None)
    t0 = time.perf_counter()
    grid = cfg.grid
    say("regime sweep")
    regimes = regime_study(grid, executor)
    say("per-policy curves")
    curves = policy_curves(
        replace(grid, concurrency=cfg.curve_concurrency), executor, policies=cfg.policies
    )
    adaptive, optimum = [], []
    for n_p, n_d in grid.topologies:
        say(f"adaptive vs static, {topology_name(n_p, n_d)}")
        adaptive.append(
            adaptive_comparison(
                grid,
                executor,
                topology=(n_p, n_d),
                concurrency=cfg.saturation,
                seeds=cfg.adaptive_seeds,
            )
        )
        say(f"optimum check, {topology_name(n_p, n_d)}")
        optimum.append(
            optimum_check(
                grid,
                topology=(n_p, n_d),
                concurrency=cfg.saturation,
                n_windows=cfg.optimum_windows,
            )
        )
    saturating = []
    if cfg.saturating is not None:
        for n_p, n_d in grid.topologies:
            say(f"adaptive vs static on the saturating deployment, {topology_name(n_p, n_d)}")
            saturating.append(
                adaptive_comparison(
                    cfg.saturating,
                    executor,
                    topology=(n_p, n_d),
                    concurrency=cfg.saturation,
                    seeds=cfg.adaptive_seeds,
                )
            )
    card = scorecard(regimes, adaptive, grid, saturating=saturating, saturating_grid=cfg.saturating)
    say("detector and transient")

    # The deployment whose throughput stops scaling first is the most saturated.
    def stops_scaling(t: tuple[int, int]) -> float:
        knee = regimes.knees.get(topology_name(*t))
        return math.inf if knee is None or math.isnan(knee.plateau) else knee.plateau

    topo = min(grid.topologies, key=lambda t: (stops_scaling(t), t))
    first = regimes.table[regimes.table["topology"] == topology_name(*topo)]
    reg = regimes.regimes[regimes.regimes["topology"] == topology_name(*topo)]
    label = dict(zip(reg["concurrency"], reg["regime"], strict=True))
    p99 = first.groupby("concurrency")["ttft_ms_p99"].mean() / 1e3
    plateau = [c for c in p99.index if label.get(c) == "below saturation"]
    plateau_s = float(p99.loc[plateau].median()) if plateau else float(p99.iloc[0])
    saturated_s = max(float(p99.iloc[-1]), plateau_s * 1.01)
    knee = regimes.knees[topology_name(*topo)].knee
    knee_s = float(p99.loc[knee]) if knee in p99.index else math.nan
    cell = Cell(*topo, cfg.saturation, "kv", 1.0, 0.0, 0, grid)
    unloaded = baseline_ttft(cell.cluster(), cell.workload())
    detector = detector_study(
        plateau_s,
        saturated_s,
        knee_s=knee_s if plateau_s <= knee_s < saturated_s else None,
        unloaded_s=unloaded,
        n_runs=cfg.detector_runs,
        low=grid.adaptive_low,
        high=grid.adaptive_high,
    )
    transient = switch_transient(grid, topology=topo, concurrency=cfg.saturation)
    files: tuple[str, ...] = ()
    if out_dir is not None:
        say("writing tables and figures")
        files = _write(
            Path(out_dir), regimes, curves, adaptive, saturating, optimum, detector, transient, card
        )
    n_sims = (
        regimes.iterations
        + len(curves) * len(grid.seeds)
        + sum(a.iterations for a in adaptive + saturating)
        + len(optimum)
        + 1
    )
    return SimulationStudyResult(
        regimes=regimes,
        scorecard=card,
        adaptive=tuple(adaptive),
        saturating=tuple(saturating),
        optimum=tuple(optimum),
        detector=detector,
        transient=transient,
        curves=curves,
        files=files,
        wall_s=time.perf_counter() - t0,
        converged=regimes.converged and all(a.converged for a in adaptive + saturating),
        iterations=n_sims,
        method=(
            f"{grid.model} on {grid.gpu}, topologies {grid.topologies}, "
            f"{len(grid.concurrency)} concurrencies, {len(grid.omegas)}x{len(grid.taus)} "
            "(omega, tau)"
        ),
    )


def _write(
    out: Path,
    regimes: RegimeStudyResult,
    curves: pd.DataFrame,
    adaptive: list[AdaptiveComparisonResult],
    saturating: list[AdaptiveComparisonResult],
    optimum: list[OptimumCheckResult],
    detector: DetectorStudyResult,
    transient: SwitchTransientResult,
    card: ScorecardResult,
) -> tuple[str, ...]:
    from gametheory.sim.studies import plots

    out.mkdir(parents=True, exist_ok=True)
    ad = pd.DataFrame(
        [
            {
                "deployment": deployment,
                "topology": a.topology,
                "concurrency": a.concurrency,
                "poa_reduction": a.poa_reduction,
                "poa_reduction_low": a.poa_reduction_ci[0],
                "poa_reduction_high": a.poa_reduction_ci[1],
                "throughput_cost": a.throughput_cost,
                "throughput_cost_low": a.throughput_cost_ci[0],
                "throughput_cost_high": a.throughput_cost_ci[1],
                "ttft_p99_change": a.ttft_p99_change,
                "seeds": a.n_seeds,
            }
            for deployment, group in (("paper", adaptive), ("saturating", saturating))
            for a in group
        ]
    )
    opt = pd.concat(
        [o.windows.assign(topology=o.topology, concurrency=o.concurrency) for o in optimum],
        ignore_index=True,
    )
    tables = {
        "regimes.csv": regimes.table,
        "summary.csv": regimes.summary,
        "curves.csv": curves,
        "adaptive.csv": ad,
        "optimum.csv": opt,
        "detector.csv": detector.table,
        "transient.csv": transient.table,
        "scorecard.csv": card.table,
    }
    files = []
    for name, frame in tables.items():
        path = out / name
        frame.to_csv(path, index=False)
        files.append(str(path))
    for topo in regimes.summary["topology"]:
        safe = str(topo).replace("/", "")
        heatmap, curve_plot = out / f"heatmap_{safe}.png", out / f"curves_{safe}.png"
        plots.poa_heatmaps(regimes.table, topo, heatmap)
        plots.policy_curves_figure(curves, topo, curve_plot)
        files += [str(heatmap), str(curve_plot)]
    return tuple(files)
