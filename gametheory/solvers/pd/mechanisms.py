"""Allocation mechanisms for the prefill/decode GPU budget, compared with the optimum.

* :func:`proportional_share`: Kelly's proportional allocation (Kelly, Eur. Trans.
  Telecommun. 8(1) 1997). Each pool bids ``w_i >= 0`` (in the social cost's units) and
  receives ``N w_i / sum w`` instances, paying its bid. Price-taking pools reach Kelly's
  competitive equilibrium, where every pool's marginal cost equals the price: the
  variational equilibrium, efficient here. Price-anticipating pools (Johari and Tsitsiklis,
  Math. Oper. Res. 29(3) 2004, section 3) shade their bids: at the Nash equilibrium of the
  bidding game ``-g_i'(x_i) (1 - x_i / N) = p`` for every pool, ``p = sum w / N``. Their
  efficiency bound (aggregate utility at least 3/4 of the optimum) is about utilities, so it
  does not bound the latency ratio reported here.
* :func:`sla_planner`: the rule of Dynamo's SLA planner (NVIDIA Dynamo documentation,
  "SLA-based planner"): each pool gets ``ceil(demand / per-instance throughput at the
  target)`` instances, the throughput read from the pool's latency model at the TTFT or ITL
  target; a request beyond the budget is scaled back proportionally, and unrequested
  instances stay idle.
* :func:`claim_game`, :func:`claim_game_poa`: the discretised game in which each pool claims
  ``1..N-1`` instances and an over-claim (``k_p + k_d > N``) is scaled back proportionally,
  ``x_i = N k_i / (k_p + k_d)`` (time-shared instances, evaluated on the continuous
  relaxation). It is a bimatrix game; all its mixed equilibria and their PoA come from
  :func:`gametheory.solvers.finite.mixed.mixed_price_of_anarchy` (vertex enumeration).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import brentq

from gametheory.errors import GameError
from gametheory.games.normal_form import NormalFormGame
from gametheory.games.pd.resource import PDResourceGame
from gametheory.results import PoAResult
from gametheory.solvers.finite.mixed import mixed_price_of_anarchy
from gametheory.solvers.pd.equilibria import allocation_result, pd_social_optimum
from gametheory.solvers.pd.results import AllocationResult, ResourceOptimumResult

__all__ = ["claim_game", "claim_game_poa", "proportional_share", "sla_planner"]

FloatArray = NDArray[np.float64]


def _nearest_split(game: PDResourceGame, x_prefill: float) -> NDArray[np.int64]:
    """The budget-line split whose prefill count is nearest ``x_prefill`` (at least 1 each)."""
    n = game.n_instances
    k = int(min(max(round(x_prefill), 1), n - 1))
    return np.array([k, n - k], dtype=np.int64)


def proportional_share(
    game: PDResourceGame,
    *,
    price_anticipating: bool = True,
    optimum: ResourceOptimumResult | None = None,
) -> AllocationResult:
    """Equilibrium of Kelly's proportional-share mechanism for the GPU budget.

    Pool ``i`` with cost share ``g_i`` and ``x_i = N w_i / W`` instances has marginal
    allocation ``dx_i / dw_i = (N - x_i) / W``. Interior first-order conditions of the
    bidding game: ``-g_i'(x_i) (1 - x_i / N) = W / N`` (price-anticipating) or
    ``-g_i'(x_i) = W / N`` (price-taking); with ``x_p + x_d = N`` this is one monotone
    equation in ``x_p``, solved by Brent's method. A pool whose condition cannot hold
    inside its stability bounds stays at the bound. The continuous shares are rounded to
    the nearest integer split.

    Returns
    -------
    AllocationResult
        ``details`` holds the price ``W / N`` and the bids ``w_i = price x_i``.
    """
    opt = pd_social_optimum(game) if optimum is None else optimum
    n = float(game.n_instances)
    lo = game.lower

    def excess(xp: float) -> float:
        x = np.array([xp, n - xp])
        value = -game.pseudo_gradient(x)
        if price_anticipating:
            value = value * (1.0 - x / n)
        return float(value[0] - value[1])

    span = 1e-9 * n
    left, right = lo[0] + span, n - lo[1] - span
    iterations = 0
    if excess(left) <= 0:
        xp = lo[0]
    elif excess(right) >= 0:
        xp = n - lo[1]
    else:
        xp, info = brentq(excess, left, right, xtol=1e-12, full_output=True)
        iterations = int(info.iterations)
    x = np.array([xp, n - xp])
    marginal = -game.pseudo_gradient(np.clip(x, lo + span, None))
    shading = 1.0 - x / n if price_anticipating else np.ones(2)
    price = float(np.min(marginal * shading))
    kind = "price-anticipating" if price_anticipating else "price-taking"
    return allocation_result(
        game,
        f"proportional share ({kind})",
        _nearest_split(game, xp),
        x,
        opt,
        converged=True,
        iterations=iterations,
        method="Kelly bidding equilibrium by Brent's method",
        details={"price": price, "bid_prefill": price * x[0], "bid_decode": price * x[1]},
    )


def sla_planner(
    game: PDResourceGame,
    ttft_target: float = 0.2,
    itl_target: float = 0.02,
    *,
    optimum: ResourceOptimumResult | None = None,
) -> AllocationResult:
    """Allocation of the SLA-planner rule: size each pool from its throughput at a target.

    ``k_p = ceil(lambda / r_p(TTFT target))`` and ``k_d = ceil(lambda / r_d(ITL target))``,
    with ``r`` the per-instance rate meeting the target (M/M/1 for prefill, the batch at the
    ITL target for decode); at least one instance each. If ``k_p + k_d > N`` the request
    is scaled back proportionally to the budget; otherwise the remaining instances stay
    idle (``details["spare_instances"]``). A target below the zero-load latency makes the
    pool ask for the whole budget. Default targets 200 ms TTFT and 20 ms ITL.
    """
    opt = pd_social_optimum(game) if optimum is None else optimum
    n = game.n_instances
    rates = np.array(
        [game.prefill.rate_at_target(ttft_target), game.decode.rate_at_target(itl_target)]
    )
    need = np.array(
        [max(1, math.ceil(game.load / r)) if r > 0 else n if game.load > 0 else 1 for r in rates],
        dtype=np.int64,
    )
    fits = int(need.sum()) <= n
    alloc = need if fits else _nearest_split(game, n * need[0] / need.sum())
    return allocation_result(
        game,
        "SLA planner",
        alloc,
        alloc.astype(np.float64),
        opt,
        method="ceil(demand / per-instance rate at target), scaled back to the budget",
        details={
            "ttft_target": float(ttft_target),
            "itl_target": float(itl_target),
            "rate_prefill": float(rates[0]),
            "rate_decode": float(rates[1]),
            "requested_prefill": float(need[0]),
            "requested_decode": float(need[1]),
            "spare_instances": float(n - int(alloc.sum())),
            "fits_budget": float(fits),
        },
    )


def claim_allocations(game: PDResourceGame) -> FloatArray:
    """Allocation at every claim profile, shape ``(N-1, N-1, 2)``.

    Claims ``k_p, k_d`` in ``1..N-1``; an over-claim is scaled back proportionally.
    """
    n = game.n_instances
    k = np.arange(1, n, dtype=np.float64)
    kp, kd = np.meshgrid(k, k, indexing="ij")
    total = kp + kd
    scale = np.where(total > n, n / total, 1.0)
    return np.stack([kp * scale, kd * scale], axis=-1)


def claim_game(game: PDResourceGame) -> NormalFormGame:
    """The discretised claiming game as a two-player normal-form game (costs minimised).

    Strategy ``j`` of each pool claims ``j + 1`` instances. The costs are the pools' shares
    of the social cost at the (scaled-back) allocation, so the bimatrix game's social cost
    is the P/D social cost.

    Raises
    ------
    GameError
        If some claim profile leaves a pool unstable (infinite cost): the bimatrix game is
        then undefined. This happens once the load reaches the capacity of a single
        instance of either pool.
    """
    alloc = claim_allocations(game)
    costs = game.player_costs(alloc)
    if not np.all(np.isfinite(costs)):
        single = float(game.split_capacity(np.array([1.0, 1.0])))
        raise GameError(
            f"the claim game at load {game.load:g} req/s has unstable claim profiles (a "
            f"pool scaled back to one instance cannot serve it); it is defined only below "
            f"{single:g} req/s"
        )
    n = game.n_instances
    labels = [[f"claim {k}" for k in range(1, n)] for _ in range(2)]
    return NormalFormGame(np.moveaxis(costs, -1, 0), labels=labels)


def claim_game_poa(game: PDResourceGame) -> PoAResult:
    """PoA and PoS over all mixed equilibria of the claim game.

    From :func:`gametheory.solvers.finite.mixed.mixed_price_of_anarchy`: all extreme equilibria
    by vertex enumeration (the worst and best expected social costs are attained at extreme
    ones), against the least social cost over pure claim profiles. That optimum covers every
    integer split of the budget (claims adding up to ``N`` are not scaled), so it is at most
    the P/D game's integer optimum, and below it when a scaled-back time-share is better.
    """
    return mixed_price_of_anarchy(claim_game(game))
