"""Regime analysis of the prefill/decode game: Price of Anarchy against the offered load.

:func:`pd_poa_curve` evaluates, at each load, the ratio ``social cost / optimum`` of every
solution concept: the worst generalized Nash equilibrium (the PoA of uncoordinated
claiming), the best one (its PoS), the variational equilibrium, Kelly's proportional share
and the SLA-planner rule. :func:`plot_pd_poa_curve` draws it with matplotlib.

Why the PoA of uncoordinated claiming blows up: every split of the budget is a generalized
equilibrium, including the one that leaves a pool a single instance. That split saturates
at the capacity of one instance, ``min(1 / s_p, r_d)``, while the optimum can give the
bottleneck pool ``N - 1`` instances; between those loads the worst equilibrium has unbounded
latency (Erlang-C waiting ``~ 1 / (c - a)``, or the decode fixed point ``~ 1 / (x - beta)``)
and the optimum does not, so the PoA is infinite, and it climbs steeply just below. Far
below, the social cost is dominated by its load-independent floor (prefill service time
and ``OSL`` weight-read steps), the same for every split, so the ratio stays near 1.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gametheory.errors import GameError
from gametheory.games.pd.resource import PDResourceGame
from gametheory.solvers.pd.equilibria import (
    generalized_equilibria,
    pd_social_optimum,
    pd_variational_equilibrium,
)
from gametheory.solvers.pd.mechanisms import proportional_share, sla_planner
from gametheory.solvers.pd.results import ResourcePoACurveResult

__all__ = ["CONCEPTS", "pd_poa_curve", "plot_pd_poa_curve"]

FloatArray = NDArray[np.float64]

CONCEPTS: dict[str, str] = {
    "gne_worst": "uncoordinated claiming: worst GNE (PoA)",
    "gne_best": "uncoordinated claiming: best GNE (PoS)",
    "variational": "variational equilibrium (Rosen r = 1)",
    "proportional_share": "proportional share (price-anticipating Kelly bids)",
    "sla_planner": "SLA planner (ceil(demand / rate at target))",
}


def pd_poa_curve(
    game: PDResourceGame,
    loads: ArrayLike,
    *,
    ttft_target: float = 0.2,
    itl_target: float = 0.02,
) -> ResourcePoACurveResult:
    """Ratio of each concept's social cost to the optimum, for each offered load.

    Parameters
    ----------
    game
        The game; only its load changes along the curve.
    loads
        Offered loads in requests per second, each in ``[0, game.capacity)``.
    ttft_target, itl_target
        Targets of the SLA-planner rule.

    Returns
    -------
    ResourcePoACurveResult
        ``ratios[concept]`` per load (``inf`` where the concept's allocation is unstable),
        keys as in :data:`CONCEPTS`.

    Raises
    ------
    GameError
        If a load is negative, not finite, or at or beyond the budget's capacity.
    """
    arr = np.asarray(loads, dtype=np.float64).reshape(-1)
    cap = game.capacity
    bad = np.nonzero(~np.isfinite(arr) | (arr < 0) | (arr >= cap))[0]
    if arr.size == 0:
        raise GameError("loads must contain at least one load")
    if bad.size:
        i = int(bad[0])
        raise GameError(
            f"loads[{i}] = {arr[i]:g} req/s is outside [0, {cap:g}), the loads the whole "
            "budget can serve"
        )
    ratios = {key: np.empty(arr.size) for key in CONCEPTS}
    optimum = np.empty(arr.size)
    for j, load in enumerate(arr):
        g = game.with_load(float(load))
        opt = pd_social_optimum(g)
        gne = generalized_equilibria(g, opt)
        optimum[j] = opt.social_cost
        ratios["gne_worst"][j] = gne.poa
        ratios["gne_best"][j] = gne.pos
        ratios["variational"][j] = pd_variational_equilibrium(g, optimum=opt).ratio
        ratios["proportional_share"][j] = proportional_share(g, optimum=opt).ratio
        ratios["sla_planner"][j] = sla_planner(g, ttft_target, itl_target, optimum=opt).ratio
    return ResourcePoACurveResult(
        loads=arr,
        capacity=cap,
        ratios=ratios,
        optimum_cost=optimum,
        social_cost=game.social.name,
        method="GNE set by enumeration; VE by extragradient; optimum by cutting planes "
        "and integer enumeration",
    )


def plot_pd_poa_curve(
    curve: ResourcePoACurveResult,
    ax: Any = None,
    *,
    concepts: list[str] | None = None,
    ymax: float = 3.0,
) -> Any:
    """Plot the ratios of a :func:`pd_poa_curve` against the load (matplotlib).

    Infinite ratios (unstable allocations) are drawn at ``ymax`` with open markers; the
    budget's capacity is a dashed vertical line.

    Parameters
    ----------
    curve
        The curve to draw.
    ax
        A matplotlib Axes; a new figure is made when None.
    concepts
        Keys of :data:`CONCEPTS` to draw (default all in the curve).
    ymax
        Top of the y axis; larger and infinite ratios are clipped to it.

    Returns
    -------
    matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt

    keys = list(curve.ratios) if concepts is None else concepts
    unknown = [k for k in keys if k not in curve.ratios]
    if unknown:
        raise GameError(f"unknown concepts {unknown}; the curve has {sorted(curve.ratios)}")
    if ymax <= 1:
        raise GameError(f"ymax must exceed 1, got {ymax}")
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    for key in keys:
        values = curve.ratios[key]
        clipped = np.minimum(values, ymax)
        (line,) = ax.plot(curve.loads, clipped, marker=".", label=CONCEPTS.get(key, key))
        off = values > ymax
        if off.any():
            ax.plot(curve.loads[off], clipped[off], "o", mfc="none", color=line.get_color())
    ax.axvline(curve.capacity, ls="--", color="grey", lw=1, label="capacity of the budget")
    ax.set_ylim(0.95, ymax * 1.05)
    ax.set_xlabel("offered load (requests/s)")
    ax.set_ylabel("social cost / optimum")
    ax.set_title(f"PoA vs load; social cost: {curve.social_cost}", fontsize=9)
    ax.legend(fontsize=8)
    return ax
