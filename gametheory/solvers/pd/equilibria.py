"""Optimum and equilibria of the prefill/decode GPU-budget game.

* :func:`pd_social_optimum`: the social optimum, first on the continuous relaxation by
  Kelley's cutting-plane method (Kelley, J. SIAM 8(4) 1960) as a sequence of linear
  programs in cvxpy solved by HiGHS (the social cost is a sum of convex functions of one
  variable each, so tangent cuts give a certified lower bound), then exactly by evaluating
  every integer allocation.
* :func:`generalized_equilibria`: the whole set of generalized Nash equilibria of the
  integer game, with its worst and best social cost (PoA and PoS of uncoordinated
  claiming). A profile is a generalized equilibrium when each pool's claim is a best
  response within what the other leaves (Facchinei and Kanzow, 4OR 5(3) 2007, definition
  1.1). Each pool's cost decreases in its own instances, so every split of the whole budget
  is one: the set is the budget line, a discrete continuum whose extremes starve one pool.
* :func:`pd_variational_equilibrium`: the variational equilibrium (Rosen's normalized
  equilibrium with ``r = 1``) from :mod:`gametheory.solvers.pd.continuous`, with its shared
  multiplier and the marginal social-cost gain per GPU of each pool, rounded to the better
  neighbouring integer split.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from gametheory._lazy import lazy_module
from gametheory.errors import SolverError
from gametheory.games.pd.resource import PDResourceGame
from gametheory.solvers.pd.continuous import variational_equilibrium
from gametheory.solvers.pd.results import (
    AllocationResult,
    GeneralizedEquilibriumSetResult,
    ResourceOptimumResult,
)

if TYPE_CHECKING:
    import cvxpy as cp
else:
    cp = lazy_module("cvxpy")

__all__ = [
    "allocation_result",
    "generalized_equilibria",
    "pd_social_optimum",
    "pd_variational_equilibrium",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


def _pool_costs(game: PDResourceGame, x: FloatArray, pool: int) -> tuple[FloatArray, FloatArray]:
    """Values and derivatives of one pool's share of the social cost at instance counts x."""
    alloc = np.zeros((x.size, 2))
    alloc[:, pool] = x
    alloc[:, 1 - pool] = float(game.n_instances)
    values = game.player_costs(alloc)[:, pool]
    grads = np.array([game.pseudo_gradient(a)[pool] for a in alloc])
    return values, grads


def pd_social_optimum(
    game: PDResourceGame, *, tol: float = 1e-7, max_rounds: int = 40, n_initial: int = 16
) -> ResourceOptimumResult:
    """Social optimum of the P/D game: cutting planes on the relaxation, then integers.

    The relaxation minimises ``g_p(x_p) + g_d(x_d)`` over ``x_p + x_d <= N`` and the
    stability bounds, where ``g`` are the pools' (convex, decreasing) shares of the social
    cost. Each round solves the linear program ``min t_p + t_d`` subject to the tangent
    cuts ``t_i >= g_i(c) + g_i'(c) (x_i - c)`` collected so far (a lower bound, by
    convexity), then cuts at its solution, until the relative gap between the true cost
    there and the LP value is below ``tol`` (Kelley 1960). The integer optimum is then
    found exactly by evaluating every allocation ``k_p + k_d <= N``.

    Returns
    -------
    ResourceOptimumResult
        ``profile`` is the optimal integer allocation and ``social_cost`` its cost;
        ``lower_bound`` the LP bound, ``relaxed_allocation`` / ``relaxed_cost`` the
        continuous optimum.

    Raises
    ------
    SolverError
        If a linear program does not solve to optimality.
    """
    lo, hi = game.lower, game.upper
    n = float(game.n_instances)
    margin = 1e-6 * (hi - lo)
    grid = [np.linspace(lo[i] + margin[i], hi[i], n_initial) for i in range(2)]
    points: list[FloatArray] = [grid[0], grid[1]]
    values, grads = [], []
    for pool in range(2):
        v, g = _pool_costs(game, points[pool], pool)
        values.append(v)
        grads.append(g)
    z = cp.Variable(4)  # (x_p, x_d, t_p, t_d)
    best_x = lo + margin
    upper, lower = math.inf, -math.inf
    rounds = 0
    for rounds in range(1, max_rounds + 1):  # noqa: B007 - reported
        rows, rhs = [], []
        for pool in range(2):
            finite = np.isfinite(values[pool]) & np.isfinite(grads[pool])
            c, v, g = points[pool][finite], values[pool][finite], grads[pool][finite]
            block = np.zeros((c.size, 4))
            block[:, pool] = -g
            block[:, 2 + pool] = 1.0
            rows.append(block)
            rhs.append(v - g * c)
        cons = [
            z[:2] @ np.ones(2) <= n,
            z[:2] >= lo + margin,
            z[:2] <= hi,
            z @ np.vstack(rows).T >= np.concatenate(rhs),
        ]
        prob: Any = cp.Problem(cp.Minimize(z @ np.array([0.0, 0.0, 1.0, 1.0])), cons)
        prob.solve(solver=cp.HIGHS)
        if prob.status != cp.OPTIMAL:
            raise SolverError(f"cutting-plane LP ended with status {prob.status!r}")
        lower = float(prob.value)
        trial = np.clip(np.asarray(z.value, dtype=np.float64)[:2], lo + margin, hi)
        cost = game.social_cost(trial)
        if cost < upper:
            upper, best_x = cost, trial
        if upper - lower <= tol * max(1.0, abs(upper)):
            break
        for pool in range(2):
            v, g = _pool_costs(game, trial[pool : pool + 1], pool)
            points[pool] = np.append(points[pool], trial[pool])
            values[pool] = np.append(values[pool], v)
            grads[pool] = np.append(grads[pool], g)
    profiles = game.profiles()
    costs = game.social_costs(profiles)
    best = int(np.argmin(costs))
    return ResourceOptimumResult(
        social_cost=float(costs[best]),
        profile=profiles[best],
        exact=True,
        lower_bound=min(lower, float(costs[best])),
        status="optimal",
        method="kelley-cutting-planes(cvxpy/HiGHS) + integer enumeration",
        relaxed_allocation=best_x,
        relaxed_cost=upper,
        cuts=int(points[0].size + points[1].size),
        iterations=rounds,
        converged=bool(upper - lower <= tol * max(1.0, abs(upper))),
    )


def allocation_result(
    game: PDResourceGame,
    concept: str,
    allocation: IntArray,
    relaxed: FloatArray,
    optimum: ResourceOptimumResult,
    *,
    converged: bool = True,
    iterations: int = 0,
    method: str = "",
    details: dict[str, float] | None = None,
) -> AllocationResult:
    """Evaluate an integer allocation: latencies, costs and ratio to the optimum."""
    alloc = np.asarray(allocation, dtype=np.int64)
    ttft, itl = game.latencies(alloc.astype(np.float64))
    players = game.player_costs(alloc.astype(np.float64))
    social = float(players.sum())
    return AllocationResult(
        concept=concept,
        allocation=alloc,
        relaxed=np.asarray(relaxed, dtype=np.float64),
        ttft=float(ttft),
        itl=float(itl),
        player_costs=players,
        social_cost=social,
        optimum_cost=optimum.social_cost,
        ratio=social / optimum.social_cost if math.isfinite(social) else math.inf,
        converged=converged,
        iterations=iterations,
        method=method,
        details=dict(details or {}),
    )


def generalized_equilibria(
    game: PDResourceGame, optimum: ResourceOptimumResult | None = None
) -> GeneralizedEquilibriumSetResult:
    """Every generalized Nash equilibrium of the integer game, and its PoA and PoS.

    A profile ``(k_p, k_d)`` (``k >= 1``, ``k_p + k_d <= N``) is an equilibrium when
    neither pool can lower its cost by another claim that fits next to the other's:
    ``cost_p(k_p) <= min_{1 <= k <= N - k_d} cost_p(k)`` and likewise for decode (no gain
    among infinite costs). The test runs on every profile from the vectorised cost table.
    The Price of Anarchy is the worst equilibrium's social cost over the optimum (``inf``
    when some equilibrium leaves a pool unstable), the Price of Stability the best one's.
    """
    opt = pd_social_optimum(game) if optimum is None else optimum
    n = game.n_instances
    profiles = game.profiles()
    ks = np.arange(1, n, dtype=np.float64)
    single = np.column_stack([ks, ks])
    pool_cost = game.player_costs(single)
    prefix = np.minimum.accumulate(pool_cost, axis=0)
    own = pool_cost[profiles - 1, [0, 1]]
    room = n - profiles[:, ::-1]
    best = prefix[room - 1, [0, 1]]
    gain = own > best * (1.0 + 1e-12) + 1e-15  # inf vs inf is no gain
    is_eq = ~gain.any(axis=1)
    eq = profiles[is_eq]
    social = game.social_costs(eq.astype(np.float64))
    worst_i, best_i = int(np.argmax(social)), int(np.argmin(social))
    on_line = bool(np.all(eq.sum(axis=1) == n))
    text = (
        f"all {eq.shape[0]} splits (k, {n} - k), k = 1..{n - 1}, of the whole budget: each "
        "pool's cost falls with its own instances, so each claims all the other leaves"
        if on_line and eq.shape[0] == n - 1
        else f"{eq.shape[0]} profiles ({int(np.sum(eq.sum(axis=1) == n))} on the budget "
        "line); off-line ones leave spare instances that would not lower the cost"
    )
    worst_cost, best_cost = float(social[worst_i]), float(social[best_i])
    return GeneralizedEquilibriumSetResult(
        allocations=eq,
        social_costs=social,
        worst=eq[worst_i],
        best=eq[best_i],
        worst_cost=worst_cost,
        best_cost=best_cost,
        optimum_cost=opt.social_cost,
        poa=worst_cost / opt.social_cost if math.isfinite(worst_cost) else math.inf,
        pos=best_cost / opt.social_cost,
        on_budget_line=on_line,
        characterisation=text,
        method="best-response test on every integer profile",
    )


def pd_variational_equilibrium(
    game: PDResourceGame,
    method: str = "extragradient",
    optimum: ResourceOptimumResult | None = None,
) -> AllocationResult:
    """The variational equilibrium of the P/D game and its integer rounding.

    Solves ``VI(X, F)`` with :func:`~gametheory.solvers.pd.continuous.variational_equilibrium`
    (``method`` ``"extragradient"``, the default, or ``"kkt"``). Both pools then face the same price
    ``lambda`` per instance, so their marginal social-cost gains per GPU,
    ``-F_i / unit``, are equal (``details``). The integer allocation is the better (lower
    social cost) of the two budget-line splits next to the continuous one; since the social
    cost restricted to the budget line is convex, that is the integer optimum whenever the
    budget binds.
    """
    opt = pd_social_optimum(game) if optimum is None else optimum
    ve = variational_equilibrium(game, method)
    n = game.n_instances
    base = math.floor(ve.x[0])
    cands = np.array([[k, n - k] for k in (base, base + 1) if 1 <= k <= n - 1], dtype=np.int64)
    chosen = cands[int(np.argmin(game.social_costs(cands.astype(np.float64))))]
    grad = game.pseudo_gradient(ve.x)
    details = {
        "multiplier": float(ve.shared_multipliers[0]),
        "gain_per_gpu_prefill": float(-grad[0] / game.unit),
        "gain_per_gpu_decode": float(-grad[1] / game.unit),
        "residual": ve.residual,
    }
    return allocation_result(
        game,
        "variational equilibrium",
        chosen,
        ve.x,
        opt,
        converged=ve.converged,
        iterations=ve.iterations,
        method=ve.method,
        details=details,
    )
