"""Marginal-cost tolls on a nonatomic routing network.

Charging each edge the toll ``tau_e = x*_e c_e'(x*_e)`` at the system optimum ``x*``
makes ``x*`` a Wardrop equilibrium: the tolled costs ``c_e(x) + tau_e`` agree with the
marginal costs ``c_e(x) + x c_e'(x)`` at ``x*``, whose equilibria are the optima
(Beckmann, McGuire and Winsten 1956; Roughgarden and Tardos, JACM 49(2) 2002, Cor. 2.6;
Cole, Dodis and Roughgarden, STOC 2003, for tolls in heterogeneous games).
:func:`marginal_cost_tolls` computes the tolls with
:mod:`gametheory.solvers.network.wardrop`, solves the tolled game and checks that its
equilibrium costs what the optimum costs.
"""

from __future__ import annotations

import numpy as np

from gametheory.costs import Constant, CostVector
from gametheory.errors import GameError
from gametheory.games.network.routing import RoutingGame
from gametheory.solvers.network.results import TollResult
from gametheory.solvers.network.wardrop import Method, system_optimum, wardrop_equilibrium

__all__ = ["marginal_cost_tolls"]


def marginal_cost_tolls(
    game: RoutingGame,
    *,
    method: Method = "bfw",
    rgap: float = 1e-9,
    max_iter: int = 5000,
    tolerance: float = 1e-6,
) -> TollResult:
    """Marginal-cost tolls at the system optimum and the check that they restore it.

    Parameters
    ----------
    game
        A nonatomic routing game (for an affinity game, pass
        :func:`~gametheory.solvers.affinity.tolls.nonatomic_version`).
    method, rgap, max_iter
        Passed to :func:`~gametheory.solvers.network.wardrop.wardrop_equilibrium` and
        :func:`~gametheory.solvers.network.wardrop.system_optimum`.
    tolerance
        Relative tolerance on total latency for ``restores_optimum``.
    """
    if not isinstance(game, RoutingGame):
        raise GameError(f"game must be a RoutingGame, got {type(game).__name__}")
    if not 0 < tolerance < 1:
        raise GameError(f"tolerance must be in (0, 1), got {tolerance!r}")
    selfish = wardrop_equilibrium(game, method, rgap, max_iter)
    optimum = system_optimum(game, method, rgap, max_iter)
    x_opt = optimum.link_flows
    tolls = np.where(x_opt > 0, x_opt * CostVector(game.costs).derivative(x_opt), 0.0)
    graph = game.graph.copy()
    for edge, cost, toll in zip(game.edges, game.costs, tolls):
        graph.edges[edge]["cost"] = cost + Constant(float(toll))
    tolled_game = RoutingGame(graph, game.demands, zones=game.zones)
    tolled = wardrop_equilibrium(tolled_game, method, rgap, max_iter)
    tolled_cost = game.social_cost(tolled.link_flows)
    scale = max(abs(optimum.total_cost), 1e-300)
    return TollResult(
        tolls=np.asarray(tolls, dtype=np.float64),
        equilibrium_flows=selfish.link_flows,
        tolled_flows=tolled.link_flows,
        optimum_flows=x_opt,
        equilibrium_cost=selfish.total_cost,
        tolled_cost=tolled_cost,
        optimum_cost=optimum.total_cost,
        restores_optimum=bool(abs(tolled_cost - optimum.total_cost) <= tolerance * scale),
        max_flow_error=float(np.max(np.abs(tolled.link_flows - x_opt), initial=0.0)),
        tolerance=tolerance,
        converged=selfish.converged and optimum.converged and tolled.converged,
        iterations=selfish.iterations + optimum.iterations + tolled.iterations,
        method=f"marginal-cost tolls; flows by {method}",
    )
