"""Benchmark: the affinity routing game with 5 workers and 1,000 requests.

Targets (issue 6): best-response dynamics under 1 s; the MILP optimum with a reported gap
under 30 s. Peers measured in the same run:

* dynamics: the same best-response dynamics driven through the plain FiniteGame protocol
  (no incremental state: every deviation re-evaluates the game), on the same instance;
* optimum: the textbook per-request assignment MILP (binary ``x[i, w]`` and
  ``y[w, g]``, same load pricing, same cvxpy + HiGHS) against the library's formulation
  over group counts.

A last section repeats dynamics and optimum on the first 2,000 prompts of Mooncake's
conversation trace (8 workers) when ``../shared/data`` is present.

Run: ``python benchmarks/bench_affinity.py [n_requests]``.
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from pathlib import Path
from typing import Any, cast

import cvxpy as cp
import numpy as np
from numpy.typing import ArrayLike, NDArray

from gametheory.costs import BPR
from gametheory.games.affinity.game import AffinityRoutingGame
from gametheory.solvers.affinity.optimum import milp_optimum
from gametheory.solvers.affinity.poa import outcome_poa
from gametheory.solvers.affinity.routers import (
    cache_aware_router,
    kv_router,
    least_loaded_router,
    round_robin_router,
)
from gametheory.solvers.common.best_response import best_response_dynamics


class ProtocolOnly:
    """The game seen only through the FiniteGame protocol (no ``state``)."""

    def __init__(self, game: AffinityRoutingGame) -> None:
        self.game = game
        self.n_players = game.n_players
        self.n_strategies = game.n_strategies
        self.has_potential = game.has_potential

    def costs(self, profile: ArrayLike) -> NDArray[np.float64]:
        return self.game.costs(profile)

    def social_cost(self, profile: ArrayLike) -> float:
        return self.game.social_cost(profile)

    def deviation_costs(self, profile: ArrayLike, player: int) -> NDArray[np.float64]:
        prof = np.array(profile, dtype=np.int64)
        out = np.empty(self.game.m)
        for w in range(self.game.m):
            prof[player] = w
            out[w] = self.game.costs(prof)[player]
        return out

    def potential(self, profile: ArrayLike) -> float:
        return self.game.potential(profile)


def per_request_milp(game: AffinityRoutingGame, time_limit: float) -> tuple[float, float, str]:
    """The per-request MILP: returns (objective, dual bound, status)."""
    from cvxpy.atoms.affine.binary_operators import multiply
    from cvxpy.atoms.affine.sum import sum as csum

    n, m, n_groups = game.n_players, game.m, game.n_groups
    x = cp.Variable((n, m), boolean=True)
    y = cp.Variable((m, n_groups), boolean=True)
    ks = np.arange(n + 1, dtype=np.float64)
    table = np.stack([ks * np.asarray(c(ks)) for c in game.worker_costs.costs])
    delta = np.diff(table, axis=1)
    u = cp.Variable((m, n), nonneg=True)
    cons = [csum(x, axis=1) == 1, u <= 1, csum(u, axis=1) == csum(x, axis=0)]
    cons += [x[:, w] <= y[w, game.group] for w in range(m)]
    prefix = game.block_time * np.broadcast_to(game.prefix, (m, n_groups))
    objective = csum(multiply(delta, u)) + csum(multiply(prefix, y))
    problem = cp.Problem(cp.Minimize(objective), cons)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Solution may be inaccurate")
        cast(Any, problem).solve(solver=cp.HIGHS, time_limit=time_limit)
    info = problem.solver_stats.extra_stats
    bound = float(problem.value) - (info.objective_function_value - info.mip_dual_bound)
    constant = game.block_time * float(game.suffix.sum())
    return float(problem.value) + constant, bound + constant, str(problem.status)


def timed(fn: Any, *args: Any, **kwargs: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


def main(n: int = 1000) -> None:
    workers = [BPR(1.0, n / 5 * 0.8, alpha=1.0, beta=4.0)] * 5
    game = AffinityRoutingGame.synthetic(
        workers, n, n_groups=5, prefix_blocks=16, suffix_blocks=2, block_time=0.05, seed=0
    )
    print(f"instance: {game!r}")
    # Start from the cache-aware router's assignment (affinity-heavy, far from equilibrium).
    start = cache_aware_router(game).assignment

    eq, t_brd = timed(best_response_dynamics, game, initial=start)
    peer, t_peer = timed(best_response_dynamics, ProtocolOnly(game), initial=start)
    print(
        f"best-response dynamics: {t_brd:.3f} s ({eq.iterations} moves, converged="
        f"{eq.converged}, cost {eq.social_cost:.2f})  target < 1 s"
    )
    print(
        f"  peer (protocol only, no incremental state): {t_peer:.3f} s, same cost: "
        f"{np.isclose(peer.social_cost, eq.social_cost)}; speed-up x{t_peer / t_brd:.1f}"
    )
    zero, t_zero = timed(best_response_dynamics, game, initial=np.zeros(n, dtype=np.int64))
    print(f"  from all-on-worker-0: {t_zero:.3f} s ({zero.iterations} moves)")

    # The overlap model at the same scale: each request saves prefix / (|g| - 1) blocks per
    # co-located member of its group (symmetric overlaps, so a potential exists).
    same = game.group[:, None] == game.group[None, :]
    np.fill_diagonal(same, False)
    mates = np.maximum(same.sum(axis=1), 1)
    overlap = same * (game.prefix[game.group] / mates)[:, None]
    overlap = np.minimum(overlap, overlap.T)
    pairwise = AffinityRoutingGame(
        workers,
        game.prefix,
        np.column_stack([game.group, game.suffix]),
        block_time=game.block_time,
        model="overlap",
        overlap=overlap,
    )
    eq2, t_eq2 = timed(best_response_dynamics, pairwise, initial=start)
    print(
        f"best-response dynamics, overlap model: {t_eq2:.3f} s ({eq2.iterations} moves, "
        f"converged={eq2.converged})"
    )

    opt, t_opt = timed(milp_optimum, game, time_limit=30.0)
    print(
        f"MILP optimum (group counts): {t_opt:.3f} s, cost {opt.social_cost:.2f}, "
        f"gap {opt.gap:.2e}, exact={opt.exact}  target < 30 s"
    )
    (obj, bound, status), t_naive = timed(per_request_milp, game, 30.0)
    gap = (obj - bound) / obj
    print(
        f"  peer (per-request MILP, same solver): {t_naive:.3f} s, cost {obj:.2f}, gap "
        f"{gap:.2e}, status {status}; speed-up x{t_naive / t_opt:.1f}"
    )

    for name, fn in [
        ("kv router", lambda: kv_router(game, seed=0)),
        ("cache-aware router", lambda: cache_aware_router(game)),
        ("round robin", lambda: round_robin_router(game)),
        ("least loaded", lambda: least_loaded_router(game)),
    ]:
        out, t = timed(fn)
        print(f"{name}: {t:.3f} s, cost {out.social_cost:.2f}")
    res = outcome_poa(game, {"dynamics": eq}, optimum=opt)
    print(f"PoA of the equilibrium reached: {res.ratios['dynamics']:.4f}")
    trace_section()


def trace_section(n: int = 2000) -> None:
    """Dynamics and optimum on the first ``n`` prompts of the Mooncake conversation trace."""
    path = Path(__file__).resolve().parents[2] / "shared" / "data" / "traces"
    path = path / "conversation_trace.jsonl"
    if not path.is_file():
        print(f"(no Mooncake trace at {path}: trace section skipped)")
        return
    with path.open() as f:
        hashes = [json.loads(line)["hash_ids"] for line, _ in zip(f, range(n))]
    workers = [BPR(1.0, n / 20, alpha=1.0, beta=4.0)] * 8
    game = AffinityRoutingGame.from_hash_ids(workers, hashes, depth=2, block_time=0.01)
    print(f"Mooncake conversation trace: {game!r}")
    start = kv_router(game, seed=0).assignment
    eq, t_eq = timed(best_response_dynamics, game, initial=start)
    opt, t_opt = timed(milp_optimum, game, time_limit=30.0)
    print(
        f"  dynamics from the KV router: {t_eq:.3f} s ({eq.iterations} moves); MILP "
        f"{t_opt:.3f} s, gap {opt.gap:.1e}; equilibrium / optimum "
        f"{eq.social_cost / opt.social_cost:.4f}"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
