"""Benchmark: time per bfw iteration against network size, on every TNTP network.

Run ``python benchmarks/bench_wardrop_scaling.py`` from the project root (shared data
beside it). For each network in ``../shared/data/networks`` it runs ``bfw`` for a fixed
number of iterations (``--iterations``, the gap target set out of reach) and prints
links, nodes, zones (origins), OD pairs, seconds per iteration and the share of one
all-or-nothing step in it (Dijkstra from every origin plus loading the trees), for the
compiled kernel (when Numba is installed) and the NumPy one, so how the cost grows with
links and origins can be read off.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from gametheory.games.network.routing import RoutingGame
from gametheory.games.network.tntp import read_tntp
from gametheory.solvers.common.compiled import Kernel, numba_available
from gametheory.solvers.network.shortest_paths import AllOrNothing
from gametheory.solvers.network.wardrop import wardrop_equilibrium

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "networks"


def _time(game: RoutingGame, kernel: Kernel, iterations: int) -> tuple[float, float]:
    """Seconds per bfw iteration and of one all-or-nothing step with ``kernel``."""
    aon = AllOrNothing(game.network, kernel=kernel)
    costs = game.link_costs(np.zeros(game.n_edges))
    aon(costs)  # compile (or load the cached compilation) before timing
    start = time.perf_counter()
    aon(costs)
    t_aon = time.perf_counter() - start
    start = time.perf_counter()
    res = wardrop_equilibrium(game, "bfw", rgap=1e-15, max_iter=iterations, kernel=kernel)
    return (time.perf_counter() - start) / max(res.iterations, 1), t_aon


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=6)
    args = parser.parse_args()
    if not DATA.is_dir():
        raise SystemExit(f"shared data not found at {DATA}")
    kernels: list[Kernel] = ["numba", "numpy"] if numba_available() else ["numpy"]
    head = f"{'network':15s} {'links':>7s} {'nodes':>7s} {'origins':>8s} {'OD pairs':>9s}"
    for kernel in kernels:
        head += f" {kernel + ' s/iter':>13s} {kernel + ' AoN s':>12s}"
    print(head)
    for folder in sorted(p for p in DATA.iterdir() if p.is_dir()):
        nets, trips = sorted(folder.glob("*_net.tntp")), sorted(folder.glob("*_trips.tntp"))
        if not nets or not trips:
            continue
        game = read_tntp(nets[0], trips[0])
        net = game.network
        line = (
            f"{folder.name:15s} {game.n_edges:7d} {net.n_nodes:7d} {net.origins.size:8d} "
            f"{len(game.od_pairs):9d}"
        )
        for kernel in kernels:
            per_iter, t_aon = _time(game, kernel, args.iterations)
            line += f" {per_iter:13.3f} {t_aon:12.3f}"
        print(line)


if __name__ == "__main__":
    main()
