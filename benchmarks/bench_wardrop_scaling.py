"""Benchmark: time per bfw iteration against network size, on every TNTP network.

Run ``python benchmarks/bench_wardrop_scaling.py`` from the project root (shared data
beside it). For each network in ``../shared/data/networks`` it runs ``bfw`` for a fixed
number of iterations (``--iterations``, the gap target set out of reach) and prints
links, nodes, zones (origins), OD pairs, seconds per iteration and the share of one
all-or-nothing step in it (Dijkstra from every origin plus loading the trees), so how
the cost grows with links and origins can be read off.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from gametheory.games.network.tntp import read_tntp
from gametheory.solvers.network.shortest_paths import AllOrNothing
from gametheory.solvers.network.wardrop import wardrop_equilibrium

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "networks"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=6)
    args = parser.parse_args()
    if not DATA.is_dir():
        raise SystemExit(f"shared data not found at {DATA}")
    head = ("network", "links", "nodes", "origins", "OD pairs", "s/iter", "AoN s")
    print(f"{head[0]:15s} {head[1]:>7s} {head[2]:>7s} {head[3]:>8s} {head[4]:>9s} "
          f"{head[5]:>8s} {head[6]:>7s}")  # fmt: skip
    for folder in sorted(p for p in DATA.iterdir() if p.is_dir()):
        nets, trips = sorted(folder.glob("*_net.tntp")), sorted(folder.glob("*_trips.tntp"))
        if not nets or not trips:
            continue
        game = read_tntp(nets[0], trips[0])
        net = game.network
        aon = AllOrNothing(net)
        costs = game.link_costs(np.zeros(game.n_edges))
        start = time.perf_counter()
        aon(costs)
        t_aon = time.perf_counter() - start
        start = time.perf_counter()
        res = wardrop_equilibrium(game, "bfw", rgap=1e-15, max_iter=args.iterations)
        per_iter = (time.perf_counter() - start) / max(res.iterations, 1)
        print(
            f"{folder.name:15s} {game.n_edges:7d} {net.n_nodes:7d} {net.origins.size:8d} "
            f"{len(game.od_pairs):9d} {per_iter:8.3f} {t_aon:7.3f}"
        )


if __name__ == "__main__":
    main()
