"""End-to-end benchmark of the hierarchical KV caching game on the Mooncake trace.

Builds the game for a 3-server x 8-GPU cluster from ``conversation_trace.jsonl``
(12,031 requests, 182,790 distinct blocks), runs best-response dynamics to an
equilibrium, and compares the library's vectorised knapsack best response with the same
best response solved exactly by HiGHS (``scipy.optimize.linprog``; the LP is integral
with one slot per block), the peer, timed in the same run. Then it solves the social
optimum MILP of a reduced game (the most requested blocks, small capacities) and prints
the equilibrium / optimum ratio.

Run: ``python benchmarks/bench_kv_cache.py [path/to/trace.jsonl]``. Target: the whole
run under 60 s on 2 cores.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import csr_array, vstack

from gametheory.games.caching.kv import HierarchicalKVCachingGame
from gametheory.solvers.caching.kv import (
    kv_best_response,
    kv_best_response_dynamics,
    kv_social_optimum,
)

DEFAULT_TRACE = (
    Path(__file__).resolve().parents[2] / "shared" / "data" / "traces" / "conversation_trace.jsonl"
)


def lp_best_response(game: HierarchicalKVCachingGame, worker: int) -> tuple[float, float]:
    """The same best response solved exactly by HiGHS; returns (cost, seconds).

    With one slot per block the constraint matrix (one tier per block, capacity per tier)
    is the incidence matrix of a bipartite graph, hence totally unimodular: the LP
    relaxation has an integral optimum, the exact knapsack best response.
    """
    start = time.perf_counter()
    blocks, rates = game.demand_of(worker)
    x = game.empty_placement()
    counts = game.holder_counts(x)
    totals = counts.sum(axis=0, dtype=np.int32)
    own = x[worker, blocks]
    outside = game.outside_costs(np.full(blocks.size, worker), blocks, own, counts, totals)
    self_cost = game.access_table[0][None, :] * game.block_sizes[blocks][:, None]
    values = rates[:, None] * np.maximum(outside[:, None] - self_cost, 0.0)
    n, t = values.shape
    idx = np.arange(n * t)
    one_tier = csr_array((np.ones(n * t), (idx // t, idx)), shape=(n, n * t))
    slots = game.block_slots[blocks].astype(float)
    capacity = csr_array((np.repeat(slots, t), (idx % t, idx)), shape=(t, n * t))
    scale = float(values.max())  # HiGHS's tolerances are absolute: solve at O(1)
    res = linprog(  # type: ignore[call-overload]
        -values.ravel() / scale,
        A_ub=vstack([one_tier, capacity]),
        b_ub=np.concatenate([np.ones(n), game.capacities[worker].astype(float)]),
        bounds=(0, 1),
        method="highs",
    )
    if not res.success:
        raise RuntimeError(f"peer LP failed: {res.message}")
    if not np.allclose(res.x, np.round(res.x), atol=1e-7):
        raise RuntimeError("the LP optimum is fractional: it is not the exact best response")
    return float(rates @ outside + res.fun * scale), time.perf_counter() - start


def main(trace: Path) -> None:
    """Run the benchmark and print the figures."""
    t0 = time.perf_counter()
    game = HierarchicalKVCachingGame.from_trace(trace)
    t_build = time.perf_counter() - t0
    print(
        f"trace: {trace.name}, {game.n_requests:,} requests, {game!r}, {game.rates.nnz:,} "
        "demanded (worker, block) pairs"
    )
    print(f"build game from trace             : {t_build:8.2f} s")

    t1 = time.perf_counter()
    eq = kv_best_response_dynamics(game)
    t_dyn = time.perf_counter() - t1
    no_cache = game.social_cost(game.empty_placement())
    print(
        f"best-response dynamics            : {t_dyn:8.2f} s  (rounds {eq.rounds}, moves "
        f"{eq.iterations}, converged {eq.converged}, oracle {eq.best_response})"
    )
    print(
        f"equilibrium cost                  : {eq.social_cost:.6f} s/s   "
        f"(recompute everything: {no_cache:.6f} s/s, ratio {eq.social_cost / no_cache:.4f})"
    )

    # one worker's best response against an empty cache: capacities bind in G1 and G2
    t2 = time.perf_counter()
    _, _, ours, method = kv_best_response(game, game.empty_placement(), 0)
    t_ours = time.perf_counter() - t2
    peer_cost, t_peer = lp_best_response(game, 0)
    print(
        f"best response of worker 0 (ours)  : {t_ours:8.4f} s  cost {ours:.6f} ({method})\n"
        f"best response of worker 0 (HiGHS) : {t_peer:8.4f} s  cost {peer_cost:.6f} "
        "(exact, integral LP)\n"
        f"speed ratio peer / ours           : {t_peer / t_ours:8.1f} x;  greedy excess cost "
        f"{(ours - peer_cost) / peer_cost:.2e} (relative)"
    )

    t3 = time.perf_counter()
    small = HierarchicalKVCachingGame.from_trace(trace, top_blocks=24, capacities=(1, 2, 2, 4))
    small_eq = kv_best_response_dynamics(small)
    opt = kv_social_optimum(small, time_limit=60)
    t_small = time.perf_counter() - t3
    print(
        f"reduced game (top 24 blocks, {small.coverage:.1%} of block requests, capacities "
        f"1/2/2/4): equilibrium {small_eq.social_cost:.6e}, optimum {opt.social_cost:.6e} "
        f"({opt.status}), ratio {small_eq.social_cost / opt.social_cost:.4f}, {t_small:.2f} s"
    )
    total = time.perf_counter() - t0
    print(f"total                             : {total:8.2f} s  (target < 60 s)")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_TRACE)
