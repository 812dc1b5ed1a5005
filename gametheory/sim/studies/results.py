"""Results of the simulation studies: the regime sweep, adaptive against static routing,
the optimum check and the whole study.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from gametheory.control.results import DetectorStudyResult, SwitchTransientResult
from gametheory.results import Result
from gametheory.telemetry.results import KneeResult

__all__ = [
    "AdaptiveComparisonResult",
    "EstimatorStudyResult",
    "OptimumCheckResult",
    "RegimeStudyResult",
    "ScorecardResult",
    "SimulationStudyResult",
]


@dataclass(frozen=True, repr=False)
class RegimeStudyResult(Result):
    """PoA-hat across load and router settings: the three-regime shape of a sweep.

    Attributes
    ----------
    table
        The sweep table (:func:`gametheory.sim.sweep.sweep`), one row per cell.
    summary
        One row per topology: knee, low-load / plateau / saturated PoA-hat and the
        spread across router settings in the plateau.
    regimes
        :func:`gametheory.telemetry.classify_regimes` of each topology's curve.
    knees
        :class:`KneeResult` per topology (``"1P/5D"``, ...).
    converged
        Whether every topology has a knee or is flat (no knee in its grid).
    iterations
        Simulations run.
    method
        What was computed.
    """

    table: Any
    summary: Any
    regimes: Any
    knees: dict[str, KneeResult]
    converged: bool
    iterations: int
    method: str


@dataclass(frozen=True, repr=False)
class EstimatorStudyResult(Result):
    """Every PoA-hat variant on one sweep, against the paper's shape.

    Attributes
    ----------
    table
        The sweep table, with ``poa_hat[<variant>]`` columns.
    summary
        One row per topology x variant: knee, plateau, its CV across router settings,
        growth past the knee and whether each matches :data:`PAPER_SHAPE
        <gametheory.sim.studies.estimators.PAPER_SHAPE>`.
    knees
        :class:`KneeResult` per topology.
    converged
        Whether a knee was found for every topology.
    iterations
        Simulations run.
    method
        What was computed.
    """

    table: Any
    summary: Any
    knees: dict[str, KneeResult]
    converged: bool
    iterations: int
    method: str


@dataclass(frozen=True, repr=False)
class AdaptiveComparisonResult(Result):
    """The adaptive router against the static default, paired over seeds.

    Attributes
    ----------
    topology
        Deployment shape, e.g. ``"1P/5D"``.
    concurrency
        Closed-loop concurrency of the comparison.
    poa_reduction
        Mean over seeds of PoA-hat(static) / PoA-hat(adaptive) (> 1: adaptive is better).
    poa_reduction_ci
        Student-t interval of that mean.
    throughput_cost
        Mean over seeds of ``1 - throughput(adaptive) / throughput(static)``.
    throughput_cost_ci
        Student-t interval of that mean.
    ttft_p99_change
        Mean over seeds of ``TTFT P99(adaptive) / TTFT P99(static) - 1``.
    per_seed
        One row per seed with both policies' PoA-hat, throughput and TTFT P99.
    variants
        The reduction under every PoA-hat variant the grid computes (``variant``,
        ``poa_reduction``, ``low``, ``high``); the first is ``poa_reduction``.
    confidence
        Level of the intervals.
    n_seeds
        Seeds paired.
    converged
        Whether every simulation completed all its requests.
    iterations
        Simulations run.
    method
        What was compared.
    """

    topology: str
    concurrency: int
    poa_reduction: float
    poa_reduction_ci: tuple[float, float]
    throughput_cost: float
    throughput_cost_ci: tuple[float, float]
    ttft_p99_change: float
    per_seed: Any
    variants: Any
    confidence: float
    n_seeds: int
    converged: bool
    iterations: int
    method: str


@dataclass(frozen=True, repr=False)
class OptimumCheckResult(Result):
    """PoA-hat against the true PoA of the same arrivals (affinity-game MILP optimum).

    Attributes
    ----------
    topology
        Deployment shape.
    concurrency
        Closed-loop concurrency of the simulated run.
    true_poa
        Ratio of sums over windows: the router's social cost in the affinity game
        built from the window over the game's optimum.
    poa_hat
        The estimator on the same decisions (ratio of sums over the same windows).
    correlation
        Pearson correlation of the per-window true PoA and PoA-hat.
    windows
        One row per window: first decision, requests, router cost, optimum, lower
        bound, exactness, true PoA and PoA-hat.
    all_exact
        Whether every MILP was solved to optimality.
    converged
        Same as ``all_exact``.
    iterations
        MILPs solved.
    method
        Game construction and solver.
    """

    topology: str
    concurrency: int
    true_poa: float
    poa_hat: float
    correlation: float
    windows: Any
    all_exact: bool
    converged: bool
    iterations: int
    method: str


@dataclass(frozen=True, repr=False)
class SimulationStudyResult(Result):
    """The simulation study of the paper: regimes, adaptive router, referee checks.

    Attributes
    ----------
    regimes
        PoA-hat sweep and its three-regime summary.
    adaptive
        Adaptive versus static default at saturation, per topology.
    optimum
        PoA-hat against the affinity-game optimum, per topology.
    detector
        Detector false / missed switch rates.
    transient
        Latency around the adaptive router's switches; with the detector study, on the
        topology whose throughput stops scaling first.
    curves
        PoA-hat and TTFT P99 versus concurrency per policy (one row per topology x
        policy x concurrency, means over seeds).
    files
        Paths of the tables and figures written (empty when none).
    saturating
        The adaptive comparison on a deployment that saturates inside the grid
        (empty when not run).
    scorecard
        The paper's figures against this study's (:func:`gametheory.sim.studies.
        scorecard.scorecard`).
    wall_s
        Wall time of the study.
    converged
        Whether every part converged.
    iterations
        Simulations run.
    method
        Grid description.
    """

    regimes: RegimeStudyResult
    scorecard: ScorecardResult
    adaptive: tuple[AdaptiveComparisonResult, ...]
    saturating: tuple[AdaptiveComparisonResult, ...]
    optimum: tuple[OptimumCheckResult, ...]
    detector: DetectorStudyResult
    transient: SwitchTransientResult
    curves: Any
    files: tuple[str, ...]
    wall_s: float
    converged: bool
    iterations: int
    method: str


@dataclass(frozen=True, repr=False)
class ScorecardResult(Result):
    """The paper's figures next to a simulation study's.

    Attributes
    ----------
    table
        One row per claim and topology: ``claim``, ``topology``, ``source`` (what
        produced the estimate: ``"simulator"``, or ``"Dynamo mocker"`` for rows of a real
        deployment added by :meth:`with_rows`), ``paper`` (the paper's
        figure, as text), ``ours`` (the study's estimate), ``low`` and ``high`` (its
        interval, NaN where none), ``variant`` (the PoA-hat variant, or ``"-"``),
        ``tolerance`` (what counts as holding), ``holds`` and ``reason`` (for a miss,
        the measured reason).
    n_holds
        Rows that hold.
    converged
        Always True: a scorecard is a comparison, not an iteration.
    iterations
        Rows.
    method
        Where the figures come from.
    """

    table: Any
    n_holds: int
    converged: bool
    iterations: int
    method: str

    def estimates(self) -> list[str]:
        """Each row's estimate as text: ``value [low, high]`` with four significant
        digits, ``value`` without an interval, ``none`` for NaN."""
        out = []
        for value, low, high in zip(self.table["ours"], self.table["low"], self.table["high"]):
            if value != value:
                out.append("none")
            elif low != low:
                out.append(f"{value:.4g}")
            else:
                out.append(f"{value:.4g} [{low:.4g}, {high:.4g}]")
        return out

    def with_rows(self, rows: list[dict[str, Any]], method: str) -> ScorecardResult:
        """This scorecard with ``rows`` appended (rows of
        :func:`~gametheory.sim.studies.scorecard.scorecard_row`, e.g. from a real
        deployment), ``method`` added to the description."""
        table = pd.concat([self.table, pd.DataFrame(rows)], ignore_index=True)
        return ScorecardResult(
            table=table,
            n_holds=int(table["holds"].sum()),
            converged=True,
            iterations=len(table),
            method=f"{self.method}; {method}",
        )

    def to_markdown(self) -> str:
        """The table as a Markdown table (for the docs and notebooks)."""
        cols = ["claim", "topology", "source", "paper", "ours", "variant", "holds", "reason"]
        lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        for row, ours in zip(self.table.to_dict("records"), self.estimates(), strict=True):
            cells = [row["claim"], row["topology"], row.get("source", "simulator")]
            cells += [row["paper"], ours, row["variant"]]
            cells += ["yes" if row["holds"] else "no", row["reason"] or ""]
            lines.append("| " + " | ".join(str(c) for c in cells) + " |")
        return "\n".join(lines)
