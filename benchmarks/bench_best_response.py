"""Best-response dynamics on a 10,000-player x 64-resource singleton congestion game.

Target (issue 2): reach a pure Nash equilibrium in under 2 s. Prints the time per order,
the number of moves, the final maximum regret and the PoA against the exact optimum.

    python benchmarks/bench_best_response.py [--players 10000] [--resources 64]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import gametheory as gt


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--players", type=int, default=10_000)
    parser.add_argument("--resources", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    costs = [gt.Affine(rng.uniform(0, 1), rng.uniform(0.5, 2)) for _ in range(args.resources)]
    game = gt.AtomicCongestionGame.singleton(costs, args.players)
    initial = rng.integers(0, args.resources, args.players)
    t0 = time.perf_counter()
    opt = gt.social_optimum(game)
    t_opt = time.perf_counter() - t0
    print(f"{args.players} players x {args.resources} affine resources, random start")
    print(f"optimum ({opt.method}): {opt.social_cost:.6g} in {t_opt:.3f} s")
    for order in ("round-robin", "random", "max-gain"):
        t0 = time.perf_counter()
        res = gt.best_response_dynamics(game, initial, order=order, seed=args.seed)
        dt = time.perf_counter() - t0
        print(
            f"{order:12s} {dt:7.3f} s  (target 2 s: {dt / 2.0:.2f}x of budget)  "
            f"moves={res.iterations}  converged={res.converged}  "
            f"max_regret={res.max_regret:.2e}  PoA={res.social_cost / opt.social_cost:.6f}"
        )


if __name__ == "__main__":
    main()
