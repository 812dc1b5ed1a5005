"""The Beckmann and total-latency convex programs of a routing game, solved by cvxpy.

Node-link formulation with one commodity per origin (Beckmann, McGuire and Winsten 1956;
Sheffi, *Urban Transportation Networks*, 1985): variables ``f[e, o] >= 0``,
conservation ``A f[:, o] = b_o`` at every node of the split network (so paths never pass
through zones), link flows ``x = sum_o f[:, o]``, and the objective

* equilibrium: ``sum_e int_0^{x_e} c_e`` (Beckmann potential);
* optimum: ``sum_e x_e c_e(x_e)`` (total latency).

Both are written with cvxpy atoms (powers for polynomial and BPR terms, ``-log(u - x)``
and ``u / (u - x)`` for M/M/1) and solved by Clarabel. One variable per edge and origin:
meant for small networks, as a cross-check of the Frank-Wolfe family.
"""

from __future__ import annotations

import warnings
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from gametheory._lazy import lazy_module
from gametheory.costs import BPR, MM1, CostFunction, Polynomial, SumCost
from gametheory.errors import GameError, SolverError
from gametheory.games.network.routing import RoutingGame

__all__ = ["beckmann_program"]

FloatArray = NDArray[np.float64]
# cvxpy's atoms are not typed; treat the module as dynamic.
cp: Any = lazy_module("cvxpy")

#: Clarabel tolerances, tighter than its defaults (1e-8); interior points approach a
#: degenerate boundary solution (Pigou) only to about the square root of these. When
#: they cannot be met (status "optimal_inaccurate") the defaults are used instead.
_CLARABEL_TOLERANCES = {"tol_gap_abs": 1e-10, "tol_gap_rel": 1e-10, "tol_feas": 1e-10}
#: Clarabel's default tolerances, passed explicitly: cvxpy keeps a re-solved problem's
#: previous solver settings otherwise.
_CLARABEL_DEFAULTS = {"tol_gap_abs": 1e-8, "tol_gap_rel": 1e-8, "tol_feas": 1e-8}


def _term(edge: Any, cost: CostFunction, xe: Any, equilibrium: bool) -> Any:
    """Integral (equilibrium) or ``x c(x)`` (optimum) of one cost, as a cvxpy expression."""
    if isinstance(cost, Polynomial):
        out: Any = 0.0
        for j, a in enumerate(cost.coefficients.tolist()):
            if a != 0:
                w = a / (j + 1) if equilibrium else a
                out = out + w * (xe if j == 0 else cp.power(xe, j + 1))
        return out
    if isinstance(cost, BPR):
        t0, cap, alpha, beta = (float(v) for v in (cost.t0, cost.capacity, cost.alpha, cost.beta))
        scale = t0 * alpha * cap / (beta + 1) if equilibrium else t0 * alpha * cap
        return t0 * xe + scale * cp.power(xe / cap, beta + 1)
    if isinstance(cost, MM1):
        u = float(cost.capacity)
        return -cp.log(u - xe) + np.log(u) if equilibrium else u * cp.inv_pos(u - xe) - 1.0
    raise GameError(
        "method='convex' handles Polynomial, BPR and MM1 costs (and their sums); edge "
        f"{edge!r} has {cost!r}"
    )


def beckmann_program(
    game: RoutingGame, objective: Literal["equilibrium", "optimum"] = "equilibrium"
) -> FloatArray:
    """Link flows minimising the Beckmann potential (or the total latency), by cvxpy.

    Parameters
    ----------
    game
        The routing game.
    objective
        ``"equilibrium"`` (Beckmann potential) or ``"optimum"`` (total latency).

    Raises
    ------
    GameError
        If an edge cost is not a Polynomial, BPR, MM1 or a sum of these.
    SolverError
        If the solver fails or reports a status other than optimal.
    """
    net = game.network
    if net.origins.size == 0:
        return np.zeros(game.n_edges)
    flow = cp.Variable((game.n_edges, net.origins.size), nonneg=True)
    x = cp.sum(flow, axis=1)
    equilibrium = objective == "equilibrium"
    terms = [
        _term(game.edges[e], part, x[e], equilibrium)
        for e, cost in enumerate(game.costs)
        for part in (cost.parts if isinstance(cost, SumCost) else [cost])
    ]
    problem = cp.Problem(
        cp.Minimize(cp.sum(cp.hstack(terms))),
        [net.incidence() @ flow == net.supply().T],
    )
    # Tight tolerances first; Clarabel's defaults when those end "optimal_inaccurate" or
    # fail numerically. cvxpy's "Solution may be inaccurate" warning is replaced by the
    # retry or the error.
    status = "not solved"
    for options in (_CLARABEL_TOLERANCES, _CLARABEL_DEFAULTS):
        try:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message="Solution may be inaccurate")
                problem.solve(solver=cp.CLARABEL, **options)
        except cp.error.SolverError as exc:
            status = f"failed ({exc})"
            continue
        status = str(problem.status)
        if status == cp.OPTIMAL:
            break
    if status != cp.OPTIMAL:
        raise SolverError(f"cvxpy/Clarabel on the {objective} program: {status}")
    flows = np.asarray(flow.value, dtype=np.float64).sum(axis=1)
    return np.asarray(np.maximum(flows, 0.0), dtype=np.float64)
