"""Best responses, equilibrium dynamics and the social optimum of the KV caching game.

A worker's best response in :class:`~gametheory.games.caching.kv.HierarchicalKVCachingGame`
is a multiple-choice multiple knapsack: item ``b`` (a block it requests, weight =
its slots) placed in tier ``t`` is worth ``rate_b (outside_b - self_t size_b)^+``, where
``outside_b`` is its cost from peers or recompute; each tier holds at most its capacity
and each block sits in at most one tier.

* ``"exact-dp"``: dynamic programming over the vector of used capacities (Kellerer,
  Pferschy and Pisinger 2004, Section 9.2: the DP for knapsacks with several capacity
  constraints), ``O(items x tiers x prod_t (C_t + 1))``, used when that product is at most
  ``exact_limit`` (capacities are first capped at the total weight of the items); also
  exact without a DP when every valuable item fits in the cheapest tier.
* ``"greedy-density"``: tiers in increasing access cost, each filled with the remaining
  items of highest value per slot (Dantzig's greedy for the knapsack, applied tier by
  tier). Not exact in general; results say which oracle was used.

The social optimum is a mixed-integer program (HiGHS through cvxpy): binary ``x[u, b, t]``
(worker ``u`` keeps ``b`` in ``t``) and a fractional choice of source for every demanded
``(u, b)``: own tier, any copy on the same server (NVLink), any copy anywhere
(InfiniBand) or recompute. Because the access table is nondecreasing self <= node <=
cluster, letting "node" and "cluster" sources include the worker itself never lowers the
cost, which keeps the program small.

References
----------
Chun, B.-G. et al. (2004). Selfish caching in distributed systems. PODC 2004.
Kellerer, H., Pferschy, U., Pisinger, D. (2004). Knapsack Problems. Springer (Ch. 9, 11).
Dantzig, G. B. (1957). Discrete-variable extremum problems. Operations Research 5(2).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import scipy.sparse as sps
from numpy.typing import NDArray

from gametheory._lazy import lazy_module
from gametheory.errors import GameError, SolverError
from gametheory.games.caching.kv import HierarchicalKVCachingGame
from gametheory.solvers.caching.results import KVPlacementResult
from gametheory.solvers.common.highs import mip_lower_bound, mip_options, objective_scale

__all__ = [
    "KnapsackChoice",
    "kv_best_response",
    "kv_best_response_dynamics",
    "kv_regrets",
    "kv_social_optimum",
    "solve_tier_knapsack",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
TierArray = NDArray[np.int8]
#: cvxpy, typed loosely (its partial annotations do not cover sparse-matrix expressions).
cp: Any = lazy_module("cvxpy")

DEFAULT_EXACT_LIMIT = 2_000_000

KnapsackChoice = tuple[IntArray, float, str]


def solve_tier_knapsack(
    values: FloatArray,
    weights: IntArray,
    capacities: IntArray,
    *,
    exact_limit: int = DEFAULT_EXACT_LIMIT,
) -> KnapsackChoice:
    """Assign items to tiers (or none) to maximise the total value within capacities.

    Parameters
    ----------
    values
        ``(items, tiers)`` value of each item in each tier (values <= 0 are never taken).
    weights
        Positive integer weight (slots) of each item.
    capacities
        Nonnegative integer capacity of each tier.
    exact_limit
        Largest ``items x tiers x states`` for the exact DP; above it the greedy is used.

    Returns
    -------
    tuple
        The tier of each item (``-1``: none), the total value and the method
        (``"exact-dp"`` or ``"greedy-density"``).
    """
    n, n_tiers = values.shape
    choice = np.full(n, -1, dtype=np.int64)
    useful = (values > 0).any(axis=1)
    if not useful.any():
        return choice, 0.0, "exact-dp"
    items = np.flatnonzero(useful)
    v = values[items]
    w = weights[items]
    caps = np.minimum(capacities, int(w.sum())).astype(np.int64)
    # the cheapest tier has the largest value for every item: if all fit there, done
    top = int(np.argmax(v.sum(axis=0)))
    if np.all(v[:, top] >= v.max(axis=1)) and w.sum() <= caps[top] and np.all(v[:, top] > 0):
        choice[items] = top
        return choice, float(v[:, top].sum()), "exact-dp"
    states = int(np.prod(caps + 1))
    if len(items) * n_tiers * states <= exact_limit:
        sub, total = _knapsack_dp(v, w, caps)
        method = "exact-dp"
    else:
        sub, total = _knapsack_greedy(v, w, caps)
        method = "greedy-density"
    choice[items] = sub
    return choice, total, method


def _knapsack_dp(v: FloatArray, w: IntArray, caps: IntArray) -> tuple[IntArray, float]:
    """Exact DP over used capacities (``dp[k]``: best value within capacities ``k``)."""
    n, n_tiers = v.shape
    shape = tuple(int(c) + 1 for c in caps)
    dp = np.zeros(shape)
    taken = np.full((n, *shape), -1, dtype=np.int8)
    for i in range(n):
        best = dp.copy()
        pick = np.full(shape, -1, dtype=np.int8)
        for t in range(n_tiers):
            wi = int(w[i])
            if v[i, t] <= 0 or wi > caps[t]:
                continue
            src: list[slice] = [slice(None)] * n_tiers
            dst: list[slice] = [slice(None)] * n_tiers
            src[t] = slice(0, shape[t] - wi)
            dst[t] = slice(wi, shape[t])
            cand = dp[tuple(src)] + v[i, t]
            region = best[tuple(dst)]
            better = cand > region
            region[better] = cand[better]
            pick[tuple(dst)][better] = t
        dp = best
        taken[i] = pick
    state = [int(c) for c in caps]
    out = np.full(n, -1, dtype=np.int64)
    for i in range(n - 1, -1, -1):
        t = int(taken[(i, *state)])
        if t >= 0:
            out[i] = t
            state[t] -= int(w[i])
    return out, float(dp[tuple(int(c) for c in caps)])


def _knapsack_greedy(v: FloatArray, w: IntArray, caps: IntArray) -> tuple[IntArray, float]:
    """Tier by tier (largest total value first), items by value per slot."""
    out = np.full(v.shape[0], -1, dtype=np.int64)
    total = 0.0
    for t in np.argsort(-v.sum(axis=0), kind="stable"):
        free = np.flatnonzero((out < 0) & (v[:, t] > 0))
        if free.size == 0 or caps[t] == 0:
            continue
        order = free[np.argsort(-v[free, t] / w[free], kind="stable")]
        fits = np.cumsum(w[order]) <= caps[t]
        chosen = order[fits] if fits.all() else order[: int(np.argmin(fits))]
        left = int(caps[t] - w[chosen].sum())
        if not fits.all() and left > 0:
            rest = order[len(chosen) :]
            extra = []
            for j in rest[w[rest] <= left]:
                if w[j] <= left:
                    extra.append(j)
                    left -= int(w[j])
            chosen = np.concatenate([chosen, np.asarray(extra, dtype=np.int64)])
        out[chosen] = t
        total += float(v[chosen, t].sum())
    return out, total


def kv_best_response(
    game: HierarchicalKVCachingGame,
    tiers: TierArray,
    worker: int,
    *,
    exact_limit: int = DEFAULT_EXACT_LIMIT,
    _counts: tuple[NDArray[np.int32], NDArray[np.int32]] | None = None,
) -> tuple[TierArray, float, float, str]:
    """A best response of ``worker``: its new row of tiers, current and new cost, method.

    Only blocks the worker requests are kept (others are worth nothing to it).
    """
    if not 0 <= worker < game.n_workers:
        raise GameError(f"worker must be in [0, {game.n_workers}), got {worker}")
    counts, totals = _counts if _counts is not None else _holder_counts(game, tiers)
    blocks, rates = game.demand_of(worker)
    row = np.full(game.n_blocks, -1, dtype=np.int8)
    if blocks.size == 0:
        return row, 0.0, 0.0, "exact-dp"
    own = tiers[worker, blocks]
    workers = np.full(blocks.size, worker, dtype=np.int64)
    outside = game.outside_costs(workers, blocks, own, counts, totals)
    self_cost = game.access_table[0][None, :] * game.block_sizes[blocks][:, None]
    held = np.where(own >= 0, self_cost[np.arange(blocks.size), np.maximum(own, 0)], np.inf)
    current = float(rates @ np.minimum(outside, held))
    values = rates[:, None] * np.maximum(outside[:, None] - self_cost, 0.0)
    choice, value, method = solve_tier_knapsack(
        values, game.block_slots[blocks], game.capacities[worker], exact_limit=exact_limit
    )
    row[blocks] = choice
    return row, current, float(rates @ outside) - value, method


def _holder_counts(
    game: HierarchicalKVCachingGame, tiers: TierArray
) -> tuple[NDArray[np.int32], NDArray[np.int32]]:
    counts = game.holder_counts(tiers)
    return counts, counts.sum(axis=0, dtype=np.int32)


def _oracle_name(methods: set[str]) -> str:
    return methods.pop() if len(methods) == 1 else "mixed"


def kv_regrets(
    game: HierarchicalKVCachingGame,
    tiers: TierArray,
    *,
    exact_limit: int = DEFAULT_EXACT_LIMIT,
) -> tuple[FloatArray, bool]:
    """Each worker's saving from its best response, and whether all were exact."""
    x = game.as_placement(tiers)
    counts = _holder_counts(game, x)
    regrets = np.zeros(game.n_workers)
    exact = True
    for u in range(game.n_workers):
        _, current, new, method = kv_best_response(
            game, x, u, exact_limit=exact_limit, _counts=counts
        )
        regrets[u] = max(current - new, 0.0)
        exact &= method == "exact-dp"
    return regrets, exact


def kv_best_response_dynamics(
    game: HierarchicalKVCachingGame,
    initial: TierArray | None = None,
    *,
    order: Literal["round-robin", "random"] = "round-robin",
    max_rounds: int = 50,
    exact_limit: int = DEFAULT_EXACT_LIMIT,
    seed: int | np.random.Generator | None = None,
    tol: float = 1e-9,
) -> KVPlacementResult:
    """Best-response dynamics: workers in turn replace their placement by a best response.

    A worker moves only if its cost falls by more than ``tol`` (relative), so each move
    strictly helps the mover even with the greedy oracle. Holder counts per server are
    updated incrementally. Stops after a round without a move (converged), when a
    placement repeats at the start of a round (cycle), or after ``max_rounds``.

    Parameters
    ----------
    game
        The KV caching game.
    initial
        Starting placement (default: nothing cached).
    order
        ``"round-robin"`` or ``"random"`` (a new permutation per round, from ``seed``).
    max_rounds
        Limit on the rounds.
    exact_limit
        Size limit of the exact knapsack DP (see :func:`solve_tier_knapsack`).
    seed
        Seed or generator for the random order.
    tol
        Relative improvement a move needs.
    """
    if order not in ("round-robin", "random"):
        raise GameError(f"order must be 'round-robin' or 'random', got {order!r}")
    if isinstance(max_rounds, bool) or not isinstance(max_rounds, int) or max_rounds < 1:
        raise GameError(f"max_rounds must be a positive integer, got {max_rounds!r}")
    rng = np.random.default_rng(seed)
    x = game.empty_placement() if initial is None else game.as_placement(initial).copy()
    counts, totals = _holder_counts(game, x)
    moves = rounds = 0
    methods: set[str] = set()
    seen: set[int] = set()
    converged = cycle = False
    while rounds < max_rounds:
        key = hash(x.tobytes())
        if key in seen:
            cycle = True
            break
        seen.add(key)
        rounds += 1
        moved = False
        workers = rng.permutation(game.n_workers) if order == "random" else range(game.n_workers)
        for u in workers:
            row, current, new, method = kv_best_response(
                game, x, int(u), exact_limit=exact_limit, _counts=(counts, totals)
            )
            methods.add(method)
            if current - new <= tol * max(1.0, abs(current)):
                continue
            node = int(game.node_of_worker[u])
            old = x[u]
            changed = np.flatnonzero(old != row)
            for sign, tier_row in ((-1, old), (1, row)):
                b = changed[tier_row[changed] >= 0]
                t = tier_row[b].astype(np.int64)
                np.add.at(counts, (np.full(b.size, node), b, t), sign)
                np.add.at(totals, (b, t), sign)
            x[u] = row
            moves += 1
            moved = True
        if not moved:
            converged = True
            break
    regrets, exact = kv_regrets(game, x, exact_limit=exact_limit)
    costs = game.worker_costs(x)
    x.setflags(write=False)
    return KVPlacementResult(
        tiers=x,
        social_cost=float(costs.sum()),
        worker_costs=costs,
        objective="equilibrium",
        method=f"best-response ({order})",
        best_response=_oracle_name(methods | {"exact-dp" if exact else "greedy-density"}),
        converged=converged,
        iterations=moves,
        rounds=rounds,
        max_regret=float(regrets.max()),
        regret_exact=exact,
        cycle=cycle,
    )


def kv_social_optimum(
    game: HierarchicalKVCachingGame,
    *,
    time_limit: float | None = None,
    mip_rel_gap: float = 1e-6,
) -> KVPlacementResult:
    """The placement minimising the total access cost, as a MILP (HiGHS via cvxpy).

    Variables: binary ``x[u, b, t]`` for the blocks someone requests, and for every
    demanded ``(u, b)`` a split of its demand over ``3 T + 1`` sources (own tier,
    same-server copy, any copy, recompute) bounded by the copies that exist. Capacities
    (in slots) per worker and tier, at most one tier per (worker, block).

    Parameters
    ----------
    game
        The KV caching game (keep it small: ``workers x blocks x tiers`` binaries).
    time_limit
        Seconds for HiGHS; on timeout the best placement found is returned with
        ``exact=False``.
    mip_rel_gap
        Relative MIP gap at which HiGHS stops.

    Raises
    ------
    SolverError
        If HiGHS finds no feasible placement or fails.
    """
    if time_limit is not None and (not np.isfinite(time_limit) or time_limit <= 0):
        raise GameError(f"time_limit must be positive seconds, got {time_limit!r}")
    n_u, n_t = game.n_workers, game.n_tiers
    rows = game.rates.tocoo()
    pu, pb = rows.row.astype(np.int64), rows.col.astype(np.int64)
    rate = rows.data.astype(np.float64)
    blocks = np.unique(pb)
    n_b = blocks.size
    pos = np.full(game.n_blocks, -1, dtype=np.int64)
    pos[blocks] = np.arange(n_b)
    pbl = pos[pb]
    n_p = pu.size
    n_x = n_u * n_b * n_t
    if n_p == 0:
        return _optimum_result(
            game, game.empty_placement(), "trivial (no demand)", "optimal", lower_bound=0.0
        )

    def xi(u: IntArray, b: IntArray, t: IntArray) -> IntArray:
        return (u * n_b + b) * n_t + t

    x = cp.Variable(n_x, boolean=True)
    n_s = 3 * n_t + 1
    s = cp.Variable(n_p * n_s, nonneg=True)
    size = game.block_sizes[pb]
    coef = (
        np.concatenate(
            [(game.access_table[r][None, :] * size[:, None]) for r in range(3)]
            + [game.miss_costs[pb][:, None]],
            axis=1,
        )
        * rate[:, None]
    )
    cons: list[Any] = []
    one = sps.csr_array(
        (np.ones(n_p * n_s), (np.repeat(np.arange(n_p), n_s), np.arange(n_p * n_s))),
        shape=(n_p, n_p * n_s),
    )
    cons.append(one @ s == 1)
    # availability of each source: own copy, copies on the server, copies anywhere
    same_node = game.node_of_worker[:, None] == game.node_of_worker[None, :]
    link_rows: list[IntArray] = []
    link_cols: list[IntArray] = []
    server = [np.flatnonzero(same_node[u]) for u in range(n_u)]
    members = [server[u] for u in pu]
    node_p = np.repeat(np.arange(n_p), [len(m) for m in members])
    node_v = np.concatenate(members)
    sources = (
        (np.arange(n_p), pu),  # own copy
        (node_p, node_v),  # any copy on the same server
        (np.repeat(np.arange(n_p), n_u), np.tile(np.arange(n_u), n_p)),  # any copy
    )
    for r, (pairs_p, pairs_v) in enumerate(sources):
        for t in range(n_t):
            link_rows.append(pairs_p + (r * n_t + t) * n_p)
            link_cols.append(xi(pairs_v, pbl[pairs_p], np.full(pairs_p.size, t)))
    avail = sps.csr_array(
        (
            np.ones(sum(len(a) for a in link_rows)),
            (np.concatenate(link_rows), np.concatenate(link_cols)),
        ),
        shape=(3 * n_t * n_p, n_x),
    )
    src_idx = (np.arange(n_p)[None, :] * n_s + np.arange(3 * n_t)[:, None]).ravel()
    pick = sps.csr_array(
        (np.ones(src_idx.size), (np.arange(src_idx.size), src_idx)), shape=(src_idx.size, n_p * n_s)
    )
    cons.append(pick @ s <= avail @ x)
    # capacities (slots) per worker and tier; one tier per (worker, block)
    uu, bb, tt = np.meshgrid(np.arange(n_u), np.arange(n_b), np.arange(n_t), indexing="ij")
    slots = game.block_slots[blocks][bb.ravel()].astype(np.float64)
    cap_rows = (uu * n_t + tt).ravel()
    capacity = sps.csr_array((slots, (cap_rows, xi(uu, bb, tt).ravel())), shape=(n_u * n_t, n_x))
    cons.append(capacity @ x <= game.capacities.ravel().astype(np.float64))
    per_block = sps.csr_array(
        (np.ones(n_x), ((uu * n_b + bb).ravel(), xi(uu, bb, tt).ravel())), shape=(n_u * n_b, n_x)
    )
    cons.append(per_block @ x <= 1)
    scale = objective_scale(coef)
    problem = cp.Problem(cp.Minimize((coef.ravel() / scale) @ s), cons)
    try:
        problem.solve(solver=cp.HIGHS, **mip_options(mip_rel_gap, time_limit))
    except cp.error.SolverError as exc:
        raise SolverError(f"HiGHS failed on the KV optimum MILP: {exc}") from exc
    status = str(problem.status)
    if x.value is None or status not in ("optimal", "optimal_inaccurate", "user_limit"):
        raise SolverError(f"the KV optimum MILP ended with status {status!r}")
    chosen = np.asarray(x.value, dtype=np.float64).reshape(n_u, n_b, n_t) > 0.5
    tiers = game.empty_placement()
    u_i, b_i, t_i = np.nonzero(chosen)
    tiers[u_i, blocks[b_i]] = t_i
    tiers = game.as_placement(tiers)
    value = game.social_cost(tiers)
    bound = mip_lower_bound(problem, value / scale, value / scale) * scale
    return _optimum_result(game, tiers, "milp (HiGHS)", status, lower_bound=bound)


def _optimum_result(
    game: HierarchicalKVCachingGame,
    tiers: TierArray,
    method: str,
    status: str,
    *,
    lower_bound: float,
) -> KVPlacementResult:
    """The result of :func:`kv_social_optimum` (``exact`` iff the status is optimal)."""
    costs = game.worker_costs(tiers)
    exact = status == "optimal"
    tiers.setflags(write=False)
    return KVPlacementResult(
        tiers=tiers,
        social_cost=float(costs.sum()),
        worker_costs=costs,
        objective="optimum",
        method=method,
        best_response="",
        converged=exact,
        iterations=int(method.startswith("milp")),
        rounds=0,
        max_regret=float("nan"),
        regret_exact=False,
        exact=exact,
        lower_bound=lower_bound,
        status=status,
    )
