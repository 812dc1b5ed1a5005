"""Marginal-cost routing, and the KV router's ``omega`` switch read as an approximate toll.

Fluid limit. :func:`nonatomic_version` turns an affinity routing game into its fluid
limit: parallel links (the workers) carrying the request rate, on which
:func:`~gametheory.solvers.network.tolls.marginal_cost_tolls` restores the optimum
(Beckmann, McGuire and Winsten 1956; Roughgarden and Tardos, JACM 49(2) 2002). A group
prefix is a fixed charge per (worker, group) and vanishes per request in that limit, so
the fluid game keeps exactly the congestion externality that tolls correct.

Atomic games. A request joining a worker that serves ``n`` requests raises the total
latency by ``F(n + 1) - F(n)``, ``F(k) = k c(k)``; :func:`marginal_cost_router` routes each
request to the worker minimising that plus its prefill time (the sequential router that
internalises the congestion externality).

The ``(omega, tau)`` switch. Dynamo's logit ``omega p + b n`` (``p`` prefill blocks, ``b``
blocks per active request, ``n`` requests) ranks two workers as the tolled cost
``t p + F(n + 1) - F(n)`` does, to first order around a load ``x``, when
``omega = t b / (F(x+1) - 2F(x) + F(x-1))``; as a request's own cost ``t p + c(n + 1)``
does when ``omega = t b / (c(x + 1) - c(x))``. Below saturation the second difference is
near 0 and the toll-equivalent ``omega`` is huge (follow the cache); past the knee it is
small (balance the load). An adaptive router that drops ``omega`` (and raises the
temperature ``tau``, spreading load by randomisation) past the knee is a two-level
approximation of this toll: :func:`omega_as_toll` measures how close, and
:func:`switched_kv_router` plays such a router on the game.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gametheory.errors import GameError
from gametheory.games.affinity.game import AffinityRoutingGame
from gametheory.games.network.routing import RoutingGame
from gametheory.solvers.affinity.results import OmegaTollResult, RouterOutcome
from gametheory.solvers.affinity.routers import RouterView, kv_choice, route

__all__ = [
    "marginal_cost_router",
    "nonatomic_version",
    "omega_as_toll",
    "switched_kv_router",
]

FloatArray = NDArray[np.float64]


def nonatomic_version(game: AffinityRoutingGame, demand: float | None = None) -> RoutingGame:
    """The fluid limit of an affinity routing game: one parallel link per worker.

    Parameters
    ----------
    game
        The affinity routing game (its worker load costs become the link costs).
    demand
        Request rate to route; default the game's number of requests.
    """
    rate = float(game.n_players) if demand is None else float(demand)
    return RoutingGame.parallel_links(list(game.worker_costs.costs), rate)


def marginal_cost_router(
    game: AffinityRoutingGame, *, omega: float = 1.0, order: ArrayLike | None = None
) -> RouterOutcome:
    """Route each request to the worker minimising its prefill time plus the latency it
    adds to everyone there, ``F_w(n_w + 1) - F_w(n_w)`` (an atomic marginal-cost toll).

    Parameters
    ----------
    game
        The affinity routing game.
    omega
        Reference weight for the logged Dynamo logits.
    order
        Arrival order; default index order.
    """
    costs = game.worker_costs

    def rule(
        i: int, view: RouterView, ov: FloatArray, _l: FloatArray, _r: np.random.Generator
    ) -> int:
        n = view.queue
        with np.errstate(invalid="ignore"):
            added = (n + 1.0) * costs.value(n + 1.0) - n * costs.value(n)
        added = np.where(np.isnan(added), np.inf, added)
        total = added + game.block_time * (game.prompt_blocks[i] - ov)
        return int(np.argmin(total))

    return route(game, rule, name="marginal-cost router", omega=omega, order=order)


def omega_as_toll(
    game: AffinityRoutingGame,
    loads: ArrayLike,
    *,
    omega_below: float,
    omega_above: float,
    knee: float,
    worker: int = 0,
) -> OmegaTollResult:
    """Compare an adaptive router's two-level ``omega`` with the toll-equivalent ``omega``.

    Parameters
    ----------
    game
        The affinity routing game (its block time and mean prompt length set the scale).
    loads
        Requests per worker at which to linearise (each >= 1).
    omega_below, omega_above
        The router's ``omega`` below and at or above the knee.
    knee
        Load (requests per worker) at which the router switches.
    worker
        The worker whose load cost is used.
    """
    x = np.asarray(loads, dtype=np.float64)
    if x.ndim != 1 or x.size == 0 or np.any(x < 1) or not np.all(np.isfinite(x)):
        raise GameError("loads must be a nonempty 1-D array of loads >= 1")
    if not 0 <= worker < game.m:
        raise GameError(f"worker must be in 0..{game.m - 1}, got {worker}")
    if min(omega_below, omega_above) < 0 or not np.isfinite(knee):
        raise GameError("omega_below and omega_above must be >= 0 and knee finite")
    cost = game.worker_costs.costs[worker]

    def total(k: FloatArray) -> FloatArray:
        return np.asarray(k * np.asarray(cost(k), dtype=np.float64), dtype=np.float64)

    second = total(x + 1.0) - 2.0 * total(x) + total(x - 1.0)
    first = np.asarray(cost(x + 1.0), dtype=np.float64) - np.asarray(cost(x), dtype=np.float64)
    scale = game.block_time * float(game.prompt_blocks.mean())
    with np.errstate(divide="ignore", invalid="ignore"):
        omega_toll = np.where(second > 0, scale / second, np.inf)
        omega_selfish = np.where(first > 0, scale / first, np.inf)
        switch = np.where(x < knee, float(omega_below), float(omega_above))
        both_inf = np.isinf(omega_toll) & np.isinf(switch)
        error = np.where(both_inf, 0.0, np.abs(np.log(switch / omega_toll)))
    return OmegaTollResult(
        loads=x,
        omega_toll=np.asarray(omega_toll, dtype=np.float64),
        omega_selfish=np.asarray(omega_selfish, dtype=np.float64),
        omega_switch=np.asarray(switch, dtype=np.float64),
        log_error=np.asarray(error, dtype=np.float64),
        knee=float(knee),
        method="first-order match of Dynamo's logit with the marginal-cost toll",
    )


def switched_kv_router(
    game: AffinityRoutingGame,
    *,
    omega_below: float,
    omega_above: float,
    knee: float,
    temperature_below: float = 0.0,
    temperature_above: float = 0.0,
    order: ArrayLike | None = None,
    seed: int | np.random.Generator | None = None,
) -> RouterOutcome:
    """Dynamo's KV router with an adaptive ``(omega, tau)`` switch at the knee.

    Before each decision the router reads its load, the mean number of requests per
    worker placed so far; below ``knee`` it uses ``(omega_below, temperature_below)``,
    from ``knee`` on ``(omega_above, temperature_above)``. Each decision's weight is
    recorded in the log's ``prefill_weight``.

    Parameters
    ----------
    game
        The affinity routing game.
    omega_below, omega_above
        Prefill weights below and past the knee.
    knee
        Requests per worker at which the router switches (positive).
    temperature_below, temperature_above
        Router temperatures below and past the knee.
    order
        Arrival order; default index order.
    seed
        Seed or generator for ties and sampling.
    """
    if not np.isfinite(knee) or knee <= 0:
        raise GameError(f"knee must be positive and finite, got {knee!r}")
    temps = (float(temperature_below), float(temperature_above))
    if not all(np.isfinite(t) and t >= 0 for t in temps):
        raise GameError(f"temperatures must be finite and nonnegative, got {temps!r}")

    def past(view: RouterView) -> bool:
        return float(view.queue.mean()) >= knee

    def weight(view: RouterView) -> float:
        return float(omega_above if past(view) else omega_below)

    def rule(
        _i: int, view: RouterView, _ov: FloatArray, logits: FloatArray, rng: np.random.Generator
    ) -> int:
        return kv_choice(logits, view.tree, temps[1] if past(view) else temps[0], rng)

    name = (
        f"switched kv router (omega {omega_below:g} -> {omega_above:g}, temperature "
        f"{temps[0]:g} -> {temps[1]:g} at {knee:g} requests per worker)"
    )
    return route(game, rule, name=name, omega=weight, order=order, seed=seed)
