"""Price of Anarchy of equilibria and routers on the affinity routing game, and over load.

For one game, :func:`outcome_poa` divides the social cost of each outcome -- the
equilibrium best-response dynamics reach, each router's assignment, and for small games
the worst and best pure equilibria (Koutsoupias and Papadimitriou, STACS 1999, for the
ratio; the worst one gives the pure Price of Anarchy) -- by the social optimum of
:mod:`gametheory.solvers.affinity.optimum`. :func:`affinity_poa_curve` repeats this as the load
grows (the first ``n`` requests of an arrival sequence) and shows the regime change the
paper measures: with flat latency below saturation, following cache affinity costs almost
nothing; past the knee of the latency curve, piling a popular prefix group onto one
worker costs a large factor, while load balancing, wasteful of prefills at low load,
becomes near-optimal.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from gametheory.errors import GameError
from gametheory.games.affinity.game import AffinityRoutingGame
from gametheory.results import EquilibriumResult, OptimumResult
from gametheory.solvers.affinity.optimum import affinity_optimum
from gametheory.solvers.affinity.results import OutcomePoAResult, PoACurveResult, RouterOutcome
from gametheory.solvers.affinity.routers import (
    cache_aware_router,
    kv_router,
    least_loaded_router,
    round_robin_router,
)
from gametheory.solvers.common.best_response import best_response_dynamics
from gametheory.solvers.common.enumeration import pure_equilibria

__all__ = ["affinity_poa_curve", "outcome_poa", "plot_affinity_poa_curve", "standard_outcomes"]

Outcome = RouterOutcome | EquilibriumResult | OptimumResult | ArrayLike


def standard_outcomes(
    game: AffinityRoutingGame,
    *,
    omega: float = 1.0,
    temperature: float = 0.0,
    seed: int | np.random.Generator | None = None,
) -> dict[str, RouterOutcome | EquilibriumResult]:
    """The outcomes compared by default: best-response dynamics (round robin order,
    started from the least-loaded assignment), Dynamo's KV router with ``(omega,
    temperature)``, SGLang's cache-aware rule, round robin and least loaded."""
    rng = np.random.default_rng(seed)
    balanced = least_loaded_router(game, omega=omega)
    return {
        "best-response dynamics": best_response_dynamics(game, initial=balanced.assignment),
        "kv router": kv_router(game, omega, temperature, seed=rng),
        "cache-aware router": cache_aware_router(game, omega=omega),
        "round robin": round_robin_router(game, omega=omega),
        "least loaded": balanced,
    }


def _profile(outcome: Outcome) -> Any:
    if isinstance(outcome, RouterOutcome):
        return outcome.assignment
    if isinstance(outcome, (EquilibriumResult, OptimumResult)):
        return outcome.profile
    return outcome


def outcome_poa(
    game: AffinityRoutingGame,
    outcomes: Mapping[str, Outcome] | None = None,
    *,
    optimum: OptimumResult | None = None,
    worst_equilibrium: bool = False,
    time_limit: float = 30.0,
    seed: int | np.random.Generator | None = None,
) -> OutcomePoAResult:
    """One Price-of-Anarchy figure per outcome: its social cost over the optimum.

    Parameters
    ----------
    game
        The affinity routing game.
    outcomes
        Named outcomes (router outcomes, equilibrium results or profiles); default
        :func:`standard_outcomes`.
    optimum
        A precomputed optimum; default :func:`affinity_optimum` of the game.
    worst_equilibrium
        Also enumerate all pure equilibria (small games only) and add the ``"worst
        equilibrium"`` (the pure PoA) and ``"best equilibrium"`` (the pure PoS).
    time_limit
        Seconds for the MILP optimum.
    seed
        Seed for randomised routers in the default outcomes.

    Raises
    ------
    GameError
        If ``worst_equilibrium`` is requested and the game has no pure equilibrium.
    """
    named = dict(standard_outcomes(game, seed=seed) if outcomes is None else outcomes)
    costs = {name: game.social_cost(_profile(out)) for name, out in named.items()}
    method = "social cost / optimum"
    if worst_equilibrium:
        equilibria = pure_equilibria(game)
        if not equilibria:
            raise GameError("the game has no pure Nash equilibrium: there is no worst one")
        eq_costs = [game.social_cost(p) for p in equilibria]
        costs["worst equilibrium"] = float(max(eq_costs))
        costs["best equilibrium"] = float(min(eq_costs))
        method += f"; {len(equilibria)} pure equilibria enumerated"
    opt = optimum if optimum is not None else affinity_optimum(game, time_limit=time_limit)
    best = opt.social_cost
    ratios = {k: (v / best if best > 0 else float("inf")) for k, v in costs.items()}
    return OutcomePoAResult(
        ratios=ratios,
        costs=costs,
        optimum_cost=best,
        lower_bound=opt.lower_bound,
        exact=opt.exact,
        method=f"{method}; optimum by {opt.method}",
    )


def affinity_poa_curve(
    game: AffinityRoutingGame | Callable[[float], AffinityRoutingGame],
    loads: Sequence[float],
    *,
    outcomes: Callable[[AffinityRoutingGame], Mapping[str, Outcome]] | None = None,
    time_limit: float = 10.0,
    seed: int | None = None,
) -> PoACurveResult:
    """Price-of-Anarchy ratios of each outcome as the load grows.

    Parameters
    ----------
    game
        Either the affinity routing game with the full arrival sequence -- then each load
        ``n`` is a number of requests and the first ``n`` are routed -- or a function
        building the game at a load level (e.g. an arrival rate: the requests present in
        a window, worker latency curves at that rate).
    loads
        The load levels.
    outcomes
        Maps a game to its named outcomes; default :func:`standard_outcomes`.
    time_limit
        Seconds for each MILP optimum.
    seed
        Seed for randomised routers.
    """
    levels = np.asarray(loads, dtype=np.float64)
    if levels.ndim != 1 or levels.size == 0 or not np.all(np.isfinite(levels)):
        raise GameError("loads must be a nonempty sequence of finite load levels")
    if isinstance(game, AffinityRoutingGame):
        fixed = game
        if np.any(levels != np.round(levels)) or levels.min() < 1 or levels.max() > fixed.n_players:
            raise GameError(f"loads must be request counts in 1..{fixed.n_players}, got {loads!r}")

        def prefix(level: float) -> AffinityRoutingGame:
            return fixed.first(int(level))

        build: Callable[[float], AffinityRoutingGame] = prefix
        how = "first n requests of the arrival sequence"
    elif callable(game):
        build, how = game, "a game built at each load level"
    else:
        raise GameError(f"game must be an AffinityRoutingGame or a callable, got {game!r}")
    ratios: dict[str, list[float]] = {}
    optima, gaps = [], []
    for level in levels:
        sub = build(float(level))
        if not isinstance(sub, AffinityRoutingGame):
            raise GameError(f"the game builder returned {type(sub).__name__} at load {level:g}")
        outs = outcomes(sub) if outcomes is not None else standard_outcomes(sub, seed=seed)
        res = outcome_poa(sub, outs, time_limit=time_limit)
        for name, r in res.ratios.items():
            ratios.setdefault(name, []).append(r)
        optima.append(res.optimum_cost)
        gaps.append((res.optimum_cost - res.lower_bound) / max(abs(res.optimum_cost), 1e-300))
    if any(len(v) != levels.size for v in ratios.values()):
        raise GameError("the outcomes callable must return the same names at every load")
    return PoACurveResult(
        loads=levels,
        ratios={k: np.asarray(v, dtype=np.float64) for k, v in ratios.items()},
        optimum_costs=np.asarray(optima, dtype=np.float64),
        gaps=np.asarray(gaps, dtype=np.float64),
        method=f"{how}; optimum by affinity_optimum",
    )


def plot_affinity_poa_curve(
    result: PoACurveResult, ax: Any = None, xlabel: str = "requests routed"
) -> Any:
    """Plot each outcome's ``cost / optimum`` against the load; return the Axes.

    Parameters
    ----------
    result
        The output of :func:`affinity_poa_curve`.
    ax
        A matplotlib Axes to draw on; default a new figure's.
    xlabel
        Label of the load axis (e.g. ``"arrival rate (requests/s)"``).
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    for name, values in result.ratios.items():
        ax.plot(result.loads, values, marker="o", label=name)
    ax.axhline(1.0, color="0.5", linewidth=0.8, linestyle="--")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("social cost / optimum")
    ax.set_title("Price of Anarchy of routers and equilibria versus load")
    ax.legend()
    return ax
