"""Figures of the simulation study (matplotlib's object API on the Agg canvas, no pyplot state).

* :func:`poa_heatmaps`: PoA-hat over the (omega, tau) grid of Dynamo's KV router, one
  panel per concurrency (the paper's router-setting sensitivity).
* :func:`policy_curves_figure`: PoA-hat and TTFT P99 versus concurrency, one line per
  routing policy.

References
----------
Hunter, J. D., "Matplotlib: A 2D graphics environment", Computing in Science &
Engineering 9(3), 2007.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from gametheory._lazy import lazy_module
from gametheory.errors import GameError

if TYPE_CHECKING:
    from matplotlib import figure as mpl_figure
    from matplotlib.backends import backend_agg
else:
    mpl_figure = lazy_module("matplotlib.figure")
    backend_agg = lazy_module("matplotlib.backends.backend_agg")

__all__ = ["poa_heatmaps", "policy_curves_figure"]


def poa_heatmaps(
    table: pd.DataFrame, topology: str, path: str | Path | None = None, *, dpi: int = 80
) -> mpl_figure.Figure:
    """PoA-hat heatmaps over (omega, tau), one panel per concurrency.

    The figure is returned (Jupyter displays it) and, when ``path`` is given, saved there.

    Parameters
    ----------
    table
        A sweep table (:func:`gametheory.sim.sweep.sweep`) with ``"kv"`` rows.
    topology
        Which topology, e.g. ``"1P/5D"``.
    path
        PNG file to write, or None to only return the figure.
    dpi
        Resolution of the saved file.
    """
    part = table[(table["topology"] == topology) & (table["policy_name"] == "kv")]
    if part.empty:
        raise GameError(f"no 'kv' rows for topology {topology!r} in the sweep table")
    mean = part.groupby(["concurrency", "omega", "tau"])["poa_hat"].mean()
    cs = sorted(part["concurrency"].unique())
    omegas = sorted(part["omega"].unique())
    taus = sorted(part["tau"].unique())
    cols = min(4, len(cs))
    rows = math.ceil(len(cs) / cols)
    vmin, vmax = float(mean.min()), float(mean.max())
    fig = mpl_figure.Figure(figsize=(2.6 * cols, 2.3 * rows))
    backend_agg.FigureCanvasAgg(fig)
    axes = fig.subplots(rows, cols, squeeze=False)
    image = None
    for k, ax in enumerate(axes.ravel()):
        if k >= len(cs):
            ax.axis("off")
            continue
        c = cs[k]
        grid = np.array([[mean.loc[(c, o, t)] for t in taus] for o in omegas])
        image = ax.imshow(grid, origin="lower", cmap="viridis", vmin=vmin, vmax=vmax)
        for i in range(len(omegas)):
            for j in range(len(taus)):
                ax.text(j, i, f"{grid[i, j]:.2f}", ha="center", va="center", fontsize=6, color="w")
        ax.set_title(f"C = {c:g}", fontsize=9)
        ax.set_xticks(range(len(taus)), [f"{t:g}" for t in taus], fontsize=7)
        ax.set_yticks(range(len(omegas)), [f"{o:g}" for o in omegas], fontsize=7)
        ax.set_xlabel("tau", fontsize=8)
        ax.set_ylabel("omega", fontsize=8)
    fig.subplots_adjust(hspace=0.7, wspace=0.45, right=0.85)
    if image is not None:
        fig.colorbar(image, ax=axes.ravel().tolist(), shrink=0.8, label="PoA-hat")
    fig.suptitle(f"PoA-hat over (omega, tau), {topology}", fontsize=10)
    if path is not None:
        fig.savefig(Path(path), dpi=dpi)
    return fig


def policy_curves_figure(
    curves: pd.DataFrame, topology: str, path: str | Path | None = None, *, dpi: int = 80
) -> mpl_figure.Figure:
    """PoA-hat and TTFT P99 versus concurrency per policy.

    The figure is returned (Jupyter displays it) and, when ``path`` is given, saved there.

    Parameters
    ----------
    curves
        :func:`gametheory.sim.studies.experiments.policy_curves` output.
    topology
        Which topology.
    path
        PNG file to write, or None to only return the figure.
    dpi
        Resolution of the saved file.
    """
    part = curves[curves["topology"] == topology]
    if part.empty:
        raise GameError(f"no rows for topology {topology!r} in the curves table")
    fig = mpl_figure.Figure(figsize=(9, 3.4))
    backend_agg.FigureCanvasAgg(fig)
    left, right = fig.subplots(1, 2)
    for name, sub in part.groupby("policy_name", sort=False):
        sub = sub.sort_values("concurrency")
        left.plot(sub["concurrency"], sub["poa_hat"], marker="o", ms=3, label=str(name))
        right.plot(sub["concurrency"], sub["ttft_ms_p99"], marker="o", ms=3, label=str(name))
    for ax, label in ((left, "PoA-hat"), (right, "TTFT P99 (ms)")):
        ax.set_xscale("log", base=2)
        ax.set_xlabel("concurrency")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    right.set_yscale("log")
    left.legend(fontsize=7)
    fig.suptitle(f"Routing policies versus load, {topology}", fontsize=10)
    fig.tight_layout()
    if path is not None:
        fig.savefig(Path(path), dpi=dpi)
    return fig
