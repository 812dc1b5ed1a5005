"""Price of Anarchy and Price of Stability of a game, for the chosen equilibrium concept.

PoA = worst equilibrium cost / optimal cost and PoS = best equilibrium cost / optimal
cost (Koutsoupias and Papadimitriou, STACS 1999; Anshelevich et al., SICOMP 38(4) 2008).
For small finite games both are exact: every profile is evaluated. Larger congestion
games use best-response dynamics from several starts, which bound the PoA from below
and the PoS from above.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np

from gametheory.errors import GameError
from gametheory.games.base import FiniteGame
from gametheory.games.network.routing import RoutingGame
from gametheory.games.normal_form import NormalFormGame
from gametheory.results import OptimumResult, PoAResult, ratio
from gametheory.solvers.common.best_response import best_response_dynamics
from gametheory.solvers.common.enumeration import MAX_PROFILES, cost_tensor, equilibrium_mask
from gametheory.solvers.common.optimum import social_optimum
from gametheory.solvers.finite.correlated import correlated_price_of_anarchy
from gametheory.solvers.finite.mixed import mixed_price_of_anarchy
from gametheory.solvers.network.wardrop import routing_price_of_anarchy

__all__ = ["price_of_anarchy"]

Method = Literal["auto", "enumeration", "dynamics"]
Concept = Literal["pure", "mixed", "correlated", "coarse_correlated"]


def price_of_anarchy(
    game: FiniteGame | RoutingGame,
    concept: Concept = "pure",
    method: Method = "auto",
    starts: int = 20,
    seed: int | np.random.Generator | None = None,
    tol: float = 1e-9,
    **solver_kw: Any,
) -> PoAResult:
    """Price of Anarchy and Price of Stability of a game.

    Parameters
    ----------
    game
        A finite game, or a nonatomic :class:`~gametheory.games.network.routing.RoutingGame`
        (then the Wardrop equilibrium against the system optimum, by
        :func:`~gametheory.solvers.network.wardrop.routing_price_of_anarchy` with ``solver_kw``).
    concept
        Equilibrium concept for finite games: ``"pure"`` Nash equilibria, ``"mixed"``
        (two players, all extreme equilibria), ``"correlated"`` or
        ``"coarse_correlated"`` (linear programs; Roughgarden's smoothness bounds
        control the latter).
    method
        ``"enumeration"`` (exact: all profiles), ``"dynamics"`` (best-response dynamics
        from ``starts`` random profiles, against the exact optimum when one is available)
        or ``"auto"`` (enumeration when the game has at most
        :data:`~gametheory.solvers.common.enumeration.MAX_PROFILES` profiles).
    starts
        Number of random starting profiles for ``"dynamics"``.
    seed
        Seed of the random starts.
    tol
        Tolerance of the equilibrium test: a deviation is profitable when it saves more
        than ``tol * max(1, |cost|)``. Costs far below ``tol`` therefore count as ties;
        against an optimum of exactly 0 they give an infinite PoA (``c / 0 = inf``), so
        rescale such games before comparing.

    Returns
    -------
    PoAResult
        ``exact`` is True for enumeration. With dynamics the PoA is a lower bound and the
        PoS an upper bound on the true values.

    Raises
    ------
    GameError
        When the game has no pure Nash equilibrium.
    """
    if isinstance(game, RoutingGame):
        return routing_price_of_anarchy(game, **solver_kw)
    if solver_kw:
        raise GameError(f"unexpected arguments for a finite game: {sorted(solver_kw)}")
    if concept == "mixed":
        if not isinstance(game, NormalFormGame):
            game = NormalFormGame(cost_tensor(game))
        return mixed_price_of_anarchy(game)
    if concept in ("correlated", "coarse_correlated"):
        return correlated_price_of_anarchy(game, coarse=concept == "coarse_correlated")
    if concept != "pure":
        raise GameError(
            f"concept must be 'pure', 'mixed', 'correlated' or 'coarse_correlated', got {concept!r}"
        )
    if method not in ("auto", "enumeration", "dynamics"):
        raise GameError(f"method must be 'auto', 'enumeration' or 'dynamics', got {method!r}")
    small = math.prod(game.n_strategies) <= MAX_PROFILES
    if method == "enumeration" or (method == "auto" and small):
        return _by_enumeration(game, tol)
    return _by_dynamics(game, starts, seed, tol)


def _by_enumeration(game: FiniteGame, tol: float) -> PoAResult:
    tensor = cost_tensor(game)
    social = tensor.sum(axis=0)
    mask = equilibrium_mask(tensor, tol)
    if not mask.any():
        raise GameError("the game has no pure Nash equilibrium; use a mixed or correlated concept")
    eq_costs = np.where(mask, social, np.nan)
    worst_flat = int(np.nanargmax(eq_costs))
    best_flat = int(np.nanargmin(eq_costs))
    opt_flat = int(np.argmin(social))

    def unravel(k: int) -> np.ndarray:
        return np.asarray(np.unravel_index(k, social.shape), dtype=np.int64)

    worst, best, opt = (float(social.flat[k]) for k in (worst_flat, best_flat, opt_flat))
    optimum = OptimumResult(
        social_cost=opt,
        profile=unravel(opt_flat),
        exact=True,
        lower_bound=opt,
        method="exhaustive",
    )
    return PoAResult(
        poa=ratio(worst, opt),
        pos=ratio(best, opt),
        worst_cost=worst,
        best_cost=best,
        optimum_cost=opt,
        worst_equilibrium=unravel(worst_flat),
        best_equilibrium=unravel(best_flat),
        optimum=optimum,
        exact=True,
        method="enumeration",
        n_equilibria=int(mask.sum()),
    )


def _by_dynamics(
    game: FiniteGame, starts: int, seed: int | np.random.Generator | None, tol: float
) -> PoAResult:
    if starts < 1:
        raise GameError(f"starts must be >= 1, got {starts}")
    rng = np.random.default_rng(seed)
    sizes = np.asarray(game.n_strategies)
    results = []
    for _ in range(starts):
        initial = (rng.random(sizes.size) * sizes).astype(np.int64)
        res = best_response_dynamics(game, initial, order="round-robin", seed=rng, tol=tol)
        if res.converged:
            results.append(res)
    if not results:
        raise GameError("best-response dynamics reached no equilibrium from any start")
    optimum = social_optimum(game)
    worst = max(results, key=lambda r: r.social_cost)
    best = min(results, key=lambda r: r.social_cost)
    return PoAResult(
        poa=ratio(worst.social_cost, optimum.social_cost),
        pos=ratio(best.social_cost, optimum.social_cost),
        worst_cost=worst.social_cost,
        best_cost=best.social_cost,
        optimum_cost=optimum.social_cost,
        worst_equilibrium=worst.profile,
        best_equilibrium=best.profile,
        optimum=optimum,
        exact=False,
        method=f"best-response dynamics from {starts} random starts; optimum by {optimum.method}",
        n_equilibria=len({r.profile.tobytes() for r in results}),
    )
