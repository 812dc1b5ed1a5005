"""Social optimum of the affinity routing game: a MILP (cvxpy + HiGHS) and exact enumeration.

The social cost of an assignment is ``sum_w F_w(n_w) + block_time * (prefill blocks paid)``
with ``F_w(k) = k c_w(k)`` the total latency of worker ``w`` serving ``k`` requests.

MILP formulations
-----------------
* Load term. When ``F_w`` is convex on ``0..n`` (any nondecreasing convex ``c_w``), the
  load ``L_w`` is split into unit increments ``u_{w,k} in [0, 1]`` priced
  ``F_w(k) - F_w(k-1)``; the increments are increasing, so the LP fills them in order
  and prices every integer load exactly (separable convex programming by piecewise-linear
  increments, Charnes and Lemke, NRLQ 1(4) 1954). Otherwise a one-hot binary
  ``lambda_{w,k}`` selects the load. Loads at which ``c_w`` is infinite (an M/M/1 worker
  at capacity) are forbidden.
* Anonymous model. Requests of one group are interchangeable (their suffix cost does not
  depend on the worker), so the program is over the integer counts ``N_{w,g}`` of group
  ``g`` on worker ``w`` and binaries ``y_{w,g}`` (group ``g``'s prefix computed on ``w``):
  ``sum_w N_{w,g} = |g|``, ``N_{w,g} <= |g| y_{w,g}``, prefix cost
  ``block_time sum P_g y_{w,g}`` -- a capacitated facility-location structure (the fair
  shares of a prefix sum to its cost). Its size does not grow with the number of requests.
* Overlap model. Binaries ``x_{i,w}`` and, per pair with a positive overlap, a
  co-location variable ``z_ij <= 1 + x_{i,w} - x_{j,w}`` for every ``w`` (it can be 1 only
  when ``i`` and ``j`` share a worker), earning ``block_time (overlap_ij + overlap_ji)``.
  Maximising pairwise co-location is the welfare problem de Keijzer and Schaefer (ESA
  2012) show NP-hard already for affine costs.

* Exchange bounds. With convex load costs, moving one request from a worker with load
  ``L`` to the least loaded other worker (load at most ``floor((n - L)/(m - 1))``)
  improves the social cost once the increment ``F_w(L) - F_w(L - 1)`` exceeds the
  other worker's increment plus the largest possible change of the prefill term, so no
  optimum has such a load: the loads are capped there, which also tightens the big-M of
  the prefix variables (``N_{w,g} <= min(|g|, cap_w) y_{w,g}``) and shrinks the
  branch-and-bound tree by an order of magnitude.

HiGHS stops at ``time_limit``; the result then carries the incumbent, the dual bound as
``lower_bound`` and ``exact=False``.
"""

from __future__ import annotations

import math
import warnings
from typing import TYPE_CHECKING, Any, Literal, cast

import numpy as np
from numpy.typing import NDArray

from gametheory._lazy import lazy_module
from gametheory.errors import GameError, SolverError
from gametheory.games.affinity.game import AffinityRoutingGame
from gametheory.results import OptimumResult
from gametheory.solvers.common.highs import mip_lower_bound, mip_options

if TYPE_CHECKING:
    import cvxpy as cp
else:
    cp = lazy_module("cvxpy")

__all__ = ["affinity_optimum", "enumerate_optimum", "milp_optimum"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: Largest number of profiles :func:`enumerate_optimum` visits.
MAX_ENUMERATION = 2_000_000
_CHUNK = 50_000
#: Largest number of co-location constraints (pairs with an overlap x workers) the
#: overlap-model MILP builds.
MAX_PAIR_ROWS = 2_000_000


def affinity_optimum(
    game: AffinityRoutingGame,
    method: Literal["auto", "milp", "enumerate"] = "auto",
    *,
    time_limit: float = 30.0,
    mip_rel_gap: float = 1e-9,
) -> OptimumResult:
    """Social optimum of an affinity routing game.

    Parameters
    ----------
    game
        The game.
    method
        ``"enumerate"`` (all ``m^n`` assignments), ``"milp"``, or ``"auto"``: enumeration
        when there are at most 4,096 assignments, else the MILP.
    time_limit
        Seconds HiGHS may spend on the MILP.
    mip_rel_gap
        Relative gap at which HiGHS stops.
    """
    if method not in ("auto", "milp", "enumerate"):
        raise GameError(f"method must be 'auto', 'milp' or 'enumerate', got {method!r}")
    if method == "enumerate" or (method == "auto" and game.m**game.n_players <= 4096):
        return enumerate_optimum(game)
    return milp_optimum(game, time_limit=time_limit, mip_rel_gap=mip_rel_gap)


def enumerate_optimum(game: AffinityRoutingGame) -> OptimumResult:
    """Exact optimum by evaluating every assignment (vectorised in chunks).

    Raises
    ------
    GameError
        When there are more than :data:`MAX_ENUMERATION` assignments.
    """
    m, n = game.m, game.n_players
    total = m**n
    if total > MAX_ENUMERATION:
        raise GameError(
            f"{total:,} assignments exceed the {MAX_ENUMERATION:,} that enumeration visits; "
            "use milp_optimum"
        )
    best_cost, best_profile = math.inf, np.zeros(n, dtype=np.int64)
    shape = (m,) * n
    for start in range(0, total, _CHUNK):
        idx = np.arange(start, min(start + _CHUNK, total))
        profiles = np.stack(np.unravel_index(idx, shape), axis=1).astype(np.int64)
        social = game.costs_many(profiles).sum(axis=1)
        k = int(np.argmin(social))
        if social[k] < best_cost:
            best_cost, best_profile = float(social[k]), profiles[k].copy()
    if not math.isfinite(best_cost):
        raise SolverError("every assignment has an infinite cost (some worker is overloaded)")
    return OptimumResult(
        social_cost=best_cost,
        profile=best_profile,
        exact=True,
        lower_bound=best_cost,
        status="optimal",
        method=f"enumeration of {total:,} assignments",
    )


def _load_tables(game: AffinityRoutingGame) -> tuple[FloatArray, IntArray]:
    """Increments ``F_w(k) - F_w(k-1)`` (k = 1..n, +inf where forbidden) and the largest
    finite load of each worker."""
    n = game.n_players
    ks = np.arange(n + 1, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        table = np.stack(
            [ks * np.asarray(c(ks), dtype=np.float64) for c in game.worker_costs.costs]
        )
        table[:, 0] = 0.0
        finite = np.isfinite(table)
        cap = np.where(finite.all(axis=1), n, np.argmin(finite, axis=1) - 1).astype(np.int64)
        delta = np.where(finite[:, 1:], np.diff(np.where(finite, table, 0.0), axis=1), np.inf)
    if int(cap.sum()) < n:
        raise SolverError(
            f"every assignment overloads a worker: finite capacities {cap.tolist()} hold fewer "
            f"than the {n} requests"
        )
    return delta, cap


def _exchange_bounds(delta: FloatArray, cap: IntArray, slack: float) -> IntArray:
    """Largest load each worker can carry in an optimum, by an exchange argument.

    With convex ``F_w`` (nondecreasing increments ``delta``), a worker ``w`` with load
    ``L`` leaves ``n - L`` requests to the others, so one of them carries at most
    ``q = floor((n - L) / (m - 1))``. Moving one request from ``w`` there changes the
    social cost by at most ``delta_{w'}(q) - delta_w(L - 1) + slack`` (``slack`` bounds
    the change of the prefill term); when that is negative for every ``w'`` the move
    improves, so no optimum has load ``L`` on ``w``.
    """
    m, n = delta.shape
    if m == 1:
        return cap.copy()
    loads = np.arange(1, n + 1)
    q = (n - loads) // (m - 1)
    take = np.where(q[None, :] < cap[:, None], delta[:, np.minimum(q, n - 1)], np.inf)
    bounds = cap.copy()
    for w in range(m):
        others = np.delete(take, w, axis=0).max(axis=0)
        gain = delta[w] - others - slack
        excluded = (gain > 1e-9 * (1.0 + np.abs(delta[w]))) & (loads <= cap[w])
        if excluded.any():
            bounds[w] = min(int(cap[w]), int(np.argmax(excluded)))
    return bounds


def _load_cost(
    game: AffinityRoutingGame, load: cp.Expression, slack: float
) -> tuple[cp.Expression, list[cp.Constraint], str, IntArray]:
    """Objective term and constraints pricing the worker loads exactly at integers, and
    an upper bound on each worker's load in an optimum."""
    delta, cap = _load_tables(game)
    m, n = delta.shape
    allowed = np.arange(1, n + 1)[None, :] <= cap[:, None]
    safe = np.where(allowed, delta, 0.0)
    convex = all(
        bool(np.all(np.diff(safe[w, : cap[w]]) >= -1e-9 * (1.0 + np.abs(safe[w, : cap[w]]).max())))
        for w in range(m)
        if cap[w] > 1
    )
    cons: list[cp.Constraint] = []
    if convex:
        bound = _exchange_bounds(np.where(allowed, delta, np.inf), cap, slack)
        within = np.arange(1, n + 1)[None, :] <= bound[:, None]
        u = cp.Variable((m, n), nonneg=True)
        cons += [u <= within.astype(np.float64), cp.sum(u, axis=1) == load]
        return cp.sum(cp.multiply(safe, u)), cons, "increments", bound
    levels = np.concatenate([np.zeros((m, 1)), np.cumsum(safe, axis=1)], axis=1)
    lam = cp.Variable((m, n + 1), boolean=True)
    ok = np.concatenate([np.ones((m, 1), dtype=bool), allowed], axis=1)
    cons += [
        lam <= ok.astype(np.float64),
        cp.sum(lam, axis=1) == 1,
        lam @ np.arange(n + 1, dtype=np.float64) == load,
    ]
    return cp.sum(cp.multiply(levels, lam)), cons, "one-hot loads", cap


def milp_optimum(
    game: AffinityRoutingGame, *, time_limit: float = 30.0, mip_rel_gap: float = 1e-9
) -> OptimumResult:
    """Social optimum by mixed-integer programming (cvxpy with HiGHS).

    Parameters
    ----------
    game
        The game (either externality model).
    time_limit
        Seconds HiGHS may spend; when it stops early the result holds the incumbent,
        ``lower_bound`` the proven dual bound and ``exact=False``.
    mip_rel_gap
        Relative gap at which HiGHS declares optimality.

    Raises
    ------
    SolverError
        If HiGHS reports a status other than optimal or a time limit with an incumbent.
    """
    if not np.isfinite(time_limit) or time_limit <= 0:
        raise GameError(f"time_limit must be a positive number of seconds, got {time_limit!r}")
    if game.overlap is None:
        return _anonymous_milp(game, time_limit, mip_rel_gap)
    return _overlap_milp(game, time_limit, mip_rel_gap)


def _solve(
    problem: cp.Problem, time_limit: float, mip_rel_gap: float
) -> tuple[float, float, str, bool]:
    """Solve with HiGHS; return (objective, lower bound, status, proven optimal)."""
    try:
        with warnings.catch_warnings():
            # A time limit is reported through exact=False and the dual bound instead.
            warnings.filterwarnings("ignore", message="Solution may be inaccurate")
            cast(Any, problem).solve(solver=cp.HIGHS, **mip_options(mip_rel_gap, time_limit))
    except cp.error.SolverError as exc:
        raise SolverError(f"HiGHS failed on the affinity optimum MILP: {exc}") from exc
    status = str(problem.status)
    if status not in (cp.OPTIMAL, cp.USER_LIMIT) or problem.value is None:
        raise SolverError(f"HiGHS returned status {status!r} for the affinity optimum MILP")
    value = float(problem.value)
    return value, mip_lower_bound(problem, value, value), status, status == cp.OPTIMAL


def _anonymous_milp(game: AffinityRoutingGame, time_limit: float, gap: float) -> OptimumResult:
    m, n_groups = game.m, game.n_groups
    size = np.bincount(game.group, minlength=n_groups).astype(np.float64)
    counts = cp.Variable((m, n_groups), integer=True)
    used = cp.Variable((m, n_groups), boolean=True)
    load = cp.sum(counts, axis=1)
    present = size > 0
    slack = game.block_time * float(game.prefix[present].max()) if present.any() else 0.0
    load_cost, cons, how, most = _load_cost(game, load, slack)
    big_m = np.minimum(size[None, :], most[:, None].astype(np.float64))
    cons += [
        counts >= 0,
        cp.sum(counts, axis=0) == size,
        counts <= cp.multiply(big_m, used),
    ]
    prefix = game.block_time * np.broadcast_to(game.prefix, (m, n_groups))
    problem = cp.Problem(cp.Minimize(load_cost + cp.sum(cp.multiply(prefix, used))), cons)
    _, bound, status, optimal = _solve(problem, time_limit, gap)
    if counts.value is None:
        raise SolverError(f"HiGHS returned no assignment (status {status!r})")
    n_wg = np.rint(counts.value).astype(np.int64)
    profile = np.empty(game.n_players, dtype=np.int64)
    for g in range(n_groups):
        members = np.flatnonzero(game.group == g)
        profile[members] = np.repeat(np.arange(m), n_wg[:, g])[: members.size]
    constant = game.block_time * float(game.suffix.sum())
    social = game.social_cost(profile)
    return OptimumResult(
        social_cost=social,
        profile=profile,
        exact=optimal,
        lower_bound=min(bound + constant, social),
        status=status,
        method=f"MILP over group counts ({how}, exchange load bounds), HiGHS",
    )


def _overlap_milp(game: AffinityRoutingGame, time_limit: float, gap: float) -> OptimumResult:
    assert game.overlap is not None
    n, m = game.n_players, game.m
    pair_value = np.triu(game.overlap + game.overlap.T, k=1)
    i_idx, j_idx = np.nonzero(pair_value > 0)
    if i_idx.size * m > MAX_PAIR_ROWS:
        raise GameError(
            f"the overlap MILP needs {i_idx.size * m:,} co-location rows (more than "
            f"{MAX_PAIR_ROWS:,}): use the anonymous model, or fewer requests"
        )
    x = cp.Variable((n, m), boolean=True)
    slack = game.block_time * float((game.overlap + game.overlap.T).sum(axis=1).max())
    load_cost, cons, how, _ = _load_cost(game, cp.sum(x, axis=0), slack)
    cons.append(cp.sum(x, axis=1) == 1)
    objective = load_cost
    if i_idx.size:
        z = cp.Variable(i_idx.size, nonneg=True)
        cons += [z <= 1, z[:, None] <= 1 + x[i_idx, :] - x[j_idx, :]]
        objective = objective - game.block_time * (pair_value[i_idx, j_idx] @ z)
    problem = cp.Problem(cp.Minimize(objective), cons)
    _, bound, status, optimal = _solve(problem, time_limit, gap)
    if x.value is None:
        raise SolverError(f"HiGHS returned no assignment (status {status!r})")
    profile = np.argmax(x.value, axis=1).astype(np.int64)
    constant = game.block_time * float(game.prompt_blocks.sum())
    social = game.social_cost(profile)
    return OptimumResult(
        social_cost=social,
        profile=profile,
        exact=optimal,
        lower_bound=min(bound + constant, social),
        status=status,
        method=f"MILP over assignments with pairwise co-location ({how}), HiGHS",
    )
