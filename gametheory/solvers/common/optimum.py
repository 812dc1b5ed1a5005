"""Social optima of finite games: exhaustive search and a MILP for load balancing.

For an unweighted singleton congestion game the social cost ``sum_e f_e(l_e)`` with
``f_e(k) = k c_e(k)`` depends only on how many players of each type (set of allowed
resources) use each resource. The MILP chooses those counts and writes ``f_e`` as a sum
of unit increments ``f_e(k) - f_e(k-1)`` switched on in order; when every ``f_e`` is
convex the increments are nondecreasing, the ordering comes for free and the
relaxation of the increment variables is exact (a min-cost flow, Ahuja, Magnanti and
Orlin 1993, ch. 14).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Literal

import numpy as np
from numpy.typing import NDArray

from gametheory._lazy import lazy_module
from gametheory.errors import GameError, SolverError
from gametheory.games.base import FiniteGame
from gametheory.games.congestion import AtomicCongestionGame
from gametheory.results import OptimumResult
from gametheory.solvers.common.enumeration import MAX_PROFILES, cost_tensor
from gametheory.solvers.common.highs import mip_lower_bound, mip_options, objective_scale

if TYPE_CHECKING:
    import cvxpy as cp
else:
    cp = lazy_module("cvxpy")

__all__ = ["social_optimum"]

IntArray = NDArray[np.int64]
Method = Literal["auto", "exhaustive", "milp"]


def social_optimum(
    game: FiniteGame, method: Method = "auto", time_limit: float | None = None
) -> OptimumResult:
    """A profile of minimum social cost.

    Parameters
    ----------
    game
        A finite game.
    method
        ``"exhaustive"`` evaluates every profile; ``"milp"`` solves the load-balancing
        MILP (unweighted singleton congestion games only); ``"auto"`` picks exhaustive
        search when the game is small and the MILP otherwise.
    time_limit
        Seconds allowed to the MILP solver; when it stops early the result carries the
        best bound and ``exact=False``.

    Returns
    -------
    OptimumResult
    """
    if method not in ("auto", "exhaustive", "milp"):
        raise GameError(f"method must be 'auto', 'exhaustive' or 'milp', got {method!r}")
    small = math.prod(game.n_strategies) <= MAX_PROFILES
    if method == "exhaustive" or (method == "auto" and small):
        return _exhaustive(game)
    if isinstance(game, AtomicCongestionGame) and game.is_singleton and game.weights is None:
        if method == "auto" and len(game._sets) == 1:
            greedy = _symmetric_convex_greedy(game)
            if greedy is not None:
                return greedy
        return _load_balancing_milp(game, time_limit)
    raise GameError(
        "no exact optimum method for this game: it is too large to enumerate and the MILP "
        "covers unweighted singleton congestion games"
    )


def _exhaustive(game: FiniteGame) -> OptimumResult:
    social = cost_tensor(game).sum(axis=0)
    flat = int(np.argmin(social))
    profile = np.asarray(np.unravel_index(flat, social.shape), dtype=np.int64)
    value = float(social.flat[flat])
    return OptimumResult(
        social_cost=value,
        profile=profile,
        exact=True,
        lower_bound=value,
        status="optimal",
        method="exhaustive",
    )


def _increments(cost_values: NDArray[np.float64], ks: NDArray[np.float64]) -> NDArray[np.float64]:
    """Unit increments ``f(k) - f(k-1)`` of the resource's total cost ``f(k) = k c(k)``."""
    with np.errstate(invalid="ignore"):
        f = ks * cost_values
        f[0] = 0.0
        return np.diff(f)


def _symmetric_convex_greedy(game: AtomicCongestionGame) -> OptimumResult | None:
    """Exact optimum of a symmetric singleton game whose total resource costs are convex:
    players are added one at a time where the cost increment is smallest (separable
    convex resource allocation, Ibaraki and Katoh 1988). None when a cost is not convex."""
    n = game.n_players
    allowed = np.array([int(s[0]) for s in game._sets[0]])
    ks = np.arange(0, n + 1, dtype=np.float64)
    table = np.full((len(allowed), n), np.inf)
    for row, e in enumerate(allowed):
        cost = game.resource_costs[int(e)]
        inc = _increments(np.asarray(cost(ks), dtype=np.float64), ks)
        finite = inc[np.isfinite(inc)]
        if np.any(np.diff(finite) < -1e-12) or not np.all(np.isfinite(inc[: finite.size])):
            return None
        table[row] = inc
    # The n smallest increments over all resources, taken in order per resource.
    order = np.argsort(table, axis=None, kind="stable")[:n]
    rows = order // n
    if not np.all(np.isfinite(table.flat[order])):
        raise GameError("no assignment of the players has finite cost (capacities too small)")
    counts = np.bincount(rows, minlength=len(allowed))
    profile = np.repeat(np.arange(len(allowed)), counts).astype(np.int64)
    value = game.social_cost(profile)
    return OptimumResult(
        social_cost=value,
        profile=profile,
        exact=True,
        lower_bound=value,
        status="optimal",
        method="greedy (separable convex)",
    )


def _load_balancing_milp(game: AtomicCongestionGame, time_limit: float | None) -> OptimumResult:
    m = game.m
    allowed_of_type = [np.array([int(s[0]) for s in strats]) for strats in game._sets]
    types, counts = np.unique(game._set_of_player, return_counts=True)
    can_use = np.zeros((len(types), m), dtype=bool)
    for t, set_id in enumerate(types):
        can_use[t, allowed_of_type[int(set_id)]] = True
    cap = (counts[:, None] * can_use).sum(axis=0)
    x = cp.Variable((len(types), m), integer=True)
    constraints = [x >= 0, cp.sum(x, axis=1) == counts, x[~can_use] == 0]
    increments = {}
    for e, cost in enumerate(game.resource_costs):
        if cap[e] > 0:
            ks = np.arange(0, int(cap[e]) + 1, dtype=np.float64)
            increments[e] = _increments(np.asarray(cost(ks), dtype=np.float64), ks)
    # Scale the objective to O(1) and tighten HiGHS's (absolute) tolerances: with the
    # default dual feasibility tolerance 1e-7, a cost of 1e-7 looks equal to 0.
    scale = objective_scale(*increments.values())
    objective = 0
    for e, inc in increments.items():
        k_max = inc.size
        feasible = np.isfinite(inc)
        convex = bool(np.all(np.diff(inc[feasible]) >= -1e-12)) if feasible.any() else True
        z = cp.Variable(k_max, boolean=not convex)
        constraints += [z >= 0, z <= 1, cp.sum(z) == cp.sum(x[:, e])]
        if not feasible.all():
            constraints.append(z[~feasible] == 0)
        if not convex and k_max > 1:
            constraints.append(z[:-1] >= z[1:])
        objective = objective + np.where(feasible, inc / scale, 0.0) @ z
    problem = cp.Problem(cp.Minimize(objective), constraints)
    try:
        problem.solve(solver=cp.HIGHS, **mip_options(1e-9, time_limit, tolerance=1e-10))
    except cp.error.SolverError as exc:
        raise SolverError(f"the load-balancing MILP failed: {exc}") from exc
    status = str(problem.status)
    if x.value is None or status not in ("optimal", "optimal_inaccurate", "user_limit"):
        raise SolverError(f"the load-balancing MILP ended with status {status!r}")
    counts_te = np.rint(x.value).astype(np.int64)
    profile = np.empty(game.n_players, dtype=np.int64)
    for t, set_id in enumerate(types):
        players = np.nonzero(game._set_of_player == set_id)[0]
        allowed = allowed_of_type[int(set_id)]
        targets = np.repeat(np.arange(m), counts_te[t])
        position = {int(e): k for k, e in enumerate(allowed)}
        profile[players] = [position[int(e)] for e in targets]
    value = game.social_cost(profile)
    exact = status == "optimal"
    bound = value if exact else scale * mip_lower_bound(problem, value / scale, -math.inf)
    return OptimumResult(
        social_cost=value,
        profile=profile,
        exact=exact,
        lower_bound=bound,
        status=status,
        method="milp (HiGHS)",
    )
