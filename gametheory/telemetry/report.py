"""Per-deployment telemetry reports: tables, CSV files and PNG plots.

:func:`build_report` runs the analyses of this package on a :class:`TelemetryData`
(knee and regimes per deployment, PoA-hat when routing decisions are present) and
:func:`write_report` writes the tables as CSV and the curves as PNG (matplotlib figures
rendered by the Agg canvas, without pyplot or a display).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from gametheory.errors import TelemetryError
from gametheory.telemetry.knee import classify_regimes, detect_knees
from gametheory.telemetry.poa_hat import poa_hat
from gametheory.telemetry.readers.loader import TelemetryData
from gametheory.telemetry.results import KneeResult, PoAHatResult

__all__ = ["Report", "build_report", "format_report", "write_report"]

_TABLE_COLUMNS = {
    "concurrency": "conc",
    "ttft_ms_p50": "ttft_p50_ms",
    "ttft_ms_p99": "ttft_p99_ms",
    "ttft_ms_avg": "ttft_avg_ms",
    "itl_ms_p50": "itl_p50_ms",
    "itl_ms_p99": "itl_p99_ms",
    "itl_ms_avg": "itl_avg_ms",
    "request_throughput": "req_per_s",
    "output_token_throughput": "tok_per_s",
    "regime": "regime",
}


@dataclass(frozen=True)
class Report:
    """The analyses behind a report.

    Attributes
    ----------
    data
        What was read.
    sweep
        The sweep with ``regime``, ``knee``, ``knee_low`` and ``knee_high`` columns.
    knees
        Knee per deployment with enough concurrency levels.
    poa
        PoA-hat per decisions source (router log), when it fills a window.
    poa_notes
        Per source, why PoA-hat is missing (decisions that fill no window).
    """

    data: TelemetryData
    sweep: pd.DataFrame
    knees: dict[str, KneeResult]
    poa: dict[str, PoAHatResult]
    poa_notes: dict[str, str]


def build_report(
    data: TelemetryData,
    *,
    metric: str = "ttft_ms_p99",
    deployment: str | None = None,
    window: int | None = None,
    seed: int | None = 0,
    progress: Callable[[int, int, str], None] | None = None,
) -> Report:
    """Knees, regimes and PoA-hat for ``data``.

    Parameters
    ----------
    data
        Output of :func:`~gametheory.telemetry.load`.
    metric
        Latency column for the knee (TTFT P99 by default, with the usual fallbacks).
    deployment
        Keep only deployments whose name matches this regular expression.
    window
        PoA-hat window (default: the number of candidate workers).
    seed
        Seed of the PoA-hat bootstrap.
    progress
        Called as ``progress(i, n, deployment)`` while knees are detected.
    """
    sweep = data.sweep
    if deployment is not None:
        try:
            pattern = re.compile(deployment)
        except re.error as exc:
            raise TelemetryError(f"bad pattern: {exc}", field="deployment") from None
        sweep = sweep[sweep["deployment"].map(lambda d: bool(pattern.search(str(d))))]
    knees: dict[str, KneeResult] = {}
    if len(sweep):
        knees = detect_knees(sweep, metric, progress=progress)
        regimes = classify_regimes(sweep, metric, knees=knees)
        sweep = sweep.merge(regimes, on=["deployment", "policy", "concurrency"], how="left")
    poa: dict[str, PoAHatResult] = {}
    notes: dict[str, str] = {}
    for source, part in data.decisions.groupby("source", sort=True):
        try:
            poa[str(source)] = poa_hat(part, window=window, seed=seed)
        except TelemetryError as exc:
            notes[str(source)] = str(exc)
    return Report(data=data, sweep=sweep, knees=knees, poa=poa, poa_notes=notes)


def _fmt(value: float) -> str:
    return (
        "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:g}"
    )


def format_report(report: Report, *, max_deployments: int = 20) -> str:
    """A plain-text report: one table per deployment, then PoA-hat and read reports."""
    lines: list[str] = []
    names = list(dict.fromkeys(report.sweep["deployment"].astype(str))) if len(report.sweep) else []
    for name in names[:max_deployments]:
        part = report.sweep[report.sweep["deployment"] == name]
        cols = [c for c in _TABLE_COLUMNS if c in part.columns and part[c].notna().any()]
        table = part[cols].rename(columns=_TABLE_COLUMNS)
        knee = report.knees.get(name)
        lines.append(f"== {name}")
        lines.append(table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
        if knee is not None and knee.converged:
            lines.append(
                f"knee ({knee.metric}): {_fmt(knee.knee)}  interval "
                f"[{_fmt(knee.interval[0])}, {_fmt(knee.interval[1])}]  first post-knee "
                f"{_fmt(knee.first_post_knee)}"
            )
        else:
            lines.append("knee: none found (too few levels or no saturation)")
        lines.append("")
    if len(names) > max_deployments:
        lines.append(f"... {len(names) - max_deployments} more deployments (see sweep.csv)")
    for source, p in report.poa.items():
        lines.append(
            f"PoA-hat {source}: {p.poa_hat:.4f}  [{p.ci_low:.4f}, {p.ci_high:.4f}] "
            f"({p.confidence:.0%} bootstrap)  {p.n_windows} windows of {p.window} decisions, "
            f"{p.n_unused} decisions unused"
        )
    for source, note in report.poa_notes.items():
        lines.append(f"PoA-hat {source}: not computed ({note})")
    lines.append("")
    for rep in report.data.reports:
        lines.append(str(rep))
    lines += [f"note: {n}" for n in report.data.notes]
    return "\n".join(lines)


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_")[:120] or "deployment"


def _plot_knee(knee: KneeResult, path: Path) -> None:
    from matplotlib.figure import Figure  # imported on use: plotting is optional

    fig = Figure(figsize=(9, 3.4))
    ax, ax2 = fig.subplots(1, 2)
    ax.plot(knee.concurrency, knee.latency, "o-")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("concurrency")
    ax.set_ylabel(f"{knee.metric}")
    if knee.converged:
        ax.axvspan(knee.interval[0], knee.interval[1], alpha=0.2, color="tab:orange")
        ax.axvline(knee.knee, color="tab:red", ls="--", label=f"knee {knee.knee:g}")
        ax.legend()
    ax2.plot(knee.concurrency, knee.throughput, "o-", color="tab:green")
    ax2.set_xscale("log", base=2)
    ax2.set_xlabel("concurrency")
    ax2.set_ylabel("requests/s")
    fig.suptitle(knee.deployment, fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=80)


def write_report(
    report: Report,
    out: str | Path,
    *,
    max_plots: int = 24,
    progress: Callable[[int, int, str], None] | None = None,
) -> list[Path]:
    """Write ``sweep.csv``, ``knees.csv``, ``reads.csv``, PoA-hat files and PNG plots.

    At most ``max_plots`` knee plots are drawn (deployments in name order); the CSV
    files always hold every deployment. Returns the paths written.
    """
    folder = Path(out)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise TelemetryError(
            f"cannot create output folder: {exc.strerror}", file=str(folder)
        ) from None
    written: list[Path] = []

    def save(frame: pd.DataFrame, name: str) -> None:
        path = folder / name
        frame.to_csv(path, index=False)
        written.append(path)

    save(report.sweep, "sweep.csv")
    save(
        pd.DataFrame(
            [
                {
                    "deployment": k.deployment,
                    "metric": k.metric,
                    "knee": k.knee,
                    "knee_low": k.interval[0],
                    "knee_high": k.interval[1],
                    "first_post_knee": k.first_post_knee,
                    "kneedle": k.kneedle,
                    "plateau": k.plateau,
                    "curvature": k.curvature,
                    "found": k.converged,
                }
                for k in report.knees.values()
            ]
        ),
        "knees.csv",
    )
    save(
        pd.DataFrame(
            [
                {
                    "source": r.source,
                    "format": r.format,
                    "rows": r.rows,
                    "skipped": r.skipped,
                    "reasons": "; ".join(f"{k}: {v}" for k, v in sorted(r.reasons.items())),
                    "notes": "; ".join(r.notes),
                }
                for r in report.data.reports
            ]
        ),
        "reads.csv",
    )
    if len(report.data.decisions):
        save(report.data.decisions, "decisions.csv")
    from matplotlib.figure import Figure  # imported on use: plotting is optional

    for i, (source, p) in enumerate(sorted(report.poa.items())):
        stem = f"poa_hat_{i}_{_slug(Path(source).stem)}"
        save(
            pd.DataFrame({"window": np.arange(p.per_window.size), "ratio": p.per_window}),
            f"{stem}.csv",
        )
        fig = Figure(figsize=(5, 3.4))
        ax = fig.subplots()
        finite = p.per_window[np.isfinite(p.per_window)]
        ax.hist(finite, bins=min(50, max(5, finite.size // 20)))
        ax.axvline(p.poa_hat, color="tab:red", label=f"PoA-hat {p.poa_hat:.3f}")
        ax.set_xlabel("per-window actual / optimal cost")
        ax.set_title(Path(source).name, fontsize=8)
        ax.legend()
        fig.tight_layout()
        path = folder / f"{stem}.png"
        fig.savefig(path, dpi=80)
        written.append(path)
    knees = [k for _, k in sorted(report.knees.items())][:max_plots]
    for i, knee in enumerate(knees):
        if progress is not None:
            progress(i, len(knees), knee.deployment)
        path = folder / f"knee_{_slug(knee.deployment)}.png"
        _plot_knee(knee, path)
        written.append(path)
    return written
