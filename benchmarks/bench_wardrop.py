"""Benchmark: Wardrop equilibria on the TNTP networks, against AequilibraE's ``bfw``.

Run ``python benchmarks/bench_wardrop.py`` from the project root (shared data beside it).
For Chicago-Sketch (generalized cost: toll factor 0.02, distance factor 0.04, read from
its README) it solves the equilibrium with ``bfw`` to relative gap 1e-4 and prints the
time, iterations, time per iteration, the SciPy Dijkstra floor of one all-or-nothing
step, and the Beckmann objective against the best-known 17,313,018.7387. When
AequilibraE is importable it runs AequilibraE's ``bfw`` on the same network, demand and
gap in the same process (one core), alternating the two and keeping each one's best of
``--repeats`` runs (the machine may be shared), and prints the time ratio; otherwise it
says why.
Then Sioux Falls and Anaheim (bfw to 1e-5) against their best-known flows.

Notes on the AequilibraE run: it refuses zero free-flow times, so the connectors' zero
times become 1e-8 min there (a change of at most 387 * 1e-8 min per trip); its reported
gap at iteration k uses the costs of iterate k-1, so the script also evaluates our
relative gap (current costs) on AequilibraE's final flows.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import itertools
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sps
from scipy.sparse.csgraph import dijkstra

from gametheory.costs import BPR, SumCost
from gametheory.games.network.routing import RoutingGame
from gametheory.games.network.tntp import read_generalized_cost_weights, read_tntp, read_tntp_flows
from gametheory.solvers.common.compiled import Kernel, numba_available
from gametheory.solvers.network.shortest_paths import AllOrNothing
from gametheory.solvers.network.wardrop import wardrop_equilibrium

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "networks"
CHICAGO_BEST = 17_313_018.7387477
NETWORKS = {
    "SiouxFalls": ("SiouxFalls", "SiouxFalls"),
    "Anaheim": ("Anaheim", "Anaheim"),
    "Chicago-Sketch": ("Chicago-Sketch", "ChicagoSketch"),
    "Berlin-Center": ("Berlin-Center", "berlin-center"),
}


def read_game(name: str) -> tuple[RoutingGame, float]:
    """The network's game (generalized cost from its README) and its read time."""
    folder, prefix = NETWORKS[name]
    base = DATA / folder
    toll, distance = read_generalized_cost_weights(base / "README.md")
    start = time.perf_counter()
    game = read_tntp(base / f"{prefix}_net.tntp", base / f"{prefix}_trips.tntp", toll, distance)
    return game, time.perf_counter() - start


def load(name: str) -> tuple[RoutingGame, np.ndarray, float]:
    """The network's game, its best-known flows and the read time."""
    folder, prefix = NETWORKS[name]
    game, elapsed = read_game(name)
    return game, read_tntp_flows(DATA / folder / f"{prefix}_flow.tntp", game), elapsed


def relative_gap(game: RoutingGame, flows: np.ndarray) -> float:
    """Relative gap of ``flows`` with the current costs (THEORY.md definition)."""
    t = game.link_costs(flows)
    y = AllOrNothing(game.network)(t).link_flows
    return float((t @ flows - t @ y) / (t @ flows))


def dijkstra_floor(game: RoutingGame, repeats: int = 5) -> float:
    """Best time of the one-call SciPy Dijkstra from every origin (free-flow costs)."""
    net = game.network
    costs = game.link_costs(np.zeros(game.n_edges))
    graph = sps.csr_matrix((costs, (net.tail, net.head)), shape=(net.n_nodes, net.n_nodes))
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        dijkstra(graph, directed=True, indices=net.origins, return_predecessors=True)
        best = min(best, time.perf_counter() - start)
    return best


def ours(
    game: RoutingGame, rgap: float, workers: int = 1, kernel: Kernel = "auto"
) -> tuple[Any, float]:
    start = time.perf_counter()
    res = wardrop_equilibrium(
        game,
        method="bfw",
        rgap=rgap,
        max_iter=5000,
        track_paths=False,
        workers=workers,
        kernel=kernel,
    )
    return res, time.perf_counter() - start


def aequilibrae_bfw(
    game: RoutingGame, rgap: float, cores: int = 1
) -> tuple[np.ndarray, float, int, float]:
    """AequilibraE's bfw on ``game``: link flows (game order), time, iterations, its gap."""
    os.environ.setdefault("TQDM_DISABLE", "1")
    import pandas as pd
    from aequilibrae.matrix import AequilibraeMatrix
    from aequilibrae.paths import Graph, TrafficAssignment, TrafficClass

    rows = []
    for i, (u, v, _k) in enumerate(game.edges):
        cost = game.costs[i]
        parts = cost.parts if isinstance(cost, SumCost) else [cost]
        bpr = next(p for p in parts if isinstance(p, BPR))
        fixed = sum(float(p(0.0)) for p in parts if p is not bpr)
        rows.append((i + 1, u, v, float(bpr.capacity), float(bpr.t0), bpr.alpha, bpr.beta, fixed))
    net = pd.DataFrame(
        rows, columns=["link_id", "a_node", "b_node", "capacity", "fft", "b", "power", "fixed"]
    )
    net["direction"] = 1
    net["free_flow_time"] = np.maximum(net["fft"].to_numpy(), 1e-8)
    zones = int(max(max(o, d) for o, d in game.demands))
    graph = Graph()
    graph.network = net
    graph.network_ok = True
    graph.status = "OK"
    graph.mode = "c"
    graph.prepare_graph(np.arange(1, zones + 1))
    graph.set_graph("free_flow_time")
    graph.set_skimming(["free_flow_time"])
    graph.set_blocked_centroid_flows(bool(game.zones))
    demand = np.zeros((zones, zones))
    for (o, d), r in game.demands.items():
        demand[o - 1, d - 1] += r
    matrix = AequilibraeMatrix()
    matrix.create_empty(zones=zones, matrix_names=["demand"], memory_only=True)
    matrix.index = np.arange(1, zones + 1)
    matrix.matrices[:, :, 0] = demand
    matrix.computational_view(["demand"])
    cls = TrafficClass("car", graph, matrix)
    cls.set_fixed_cost("fixed", 1.0)
    cls.set_vot(1.0)
    assign = TrafficAssignment()
    assign.set_classes([cls])
    assign.set_vdf("BPR")
    assign.set_vdf_parameters({"alpha": "b", "beta": "power"})
    assign.set_capacity_field("capacity")
    assign.set_time_field("free_flow_time")
    assign.set_cores(cores)
    assign.set_algorithm("bfw")
    assign.max_iter = 5000
    assign.rgap_target = rgap
    with contextlib.redirect_stderr(io.StringIO()):
        start = time.perf_counter()
        assign.execute()
        elapsed = time.perf_counter() - start
    report = assign.report()
    flows = assign.results()["demand_tot"].reindex(net["link_id"]).to_numpy()
    return flows, elapsed, len(report), float(report["rgap"].iloc[-1])


def chicago(rgap: float, peer: bool, repeats: int) -> None:
    game, best, read_s = load("Chicago-Sketch")
    print(f"Chicago-Sketch: {game}  (read in {read_s:.2f} s)")
    floor = dijkstra_floor(game)
    peer_error = None
    if peer:
        try:
            import aequilibrae  # noqa: F401
        except ImportError as exc:
            peer_error = f"not importable here ({exc}); no peer comparison"
    else:
        peer_error = "skipped (--no-aequilibrae)"
    # Alternate the two solvers and keep each one's best time: the machine is shared.
    times: list[float] = []
    peer_times: list[float] = []
    peer_out: tuple[np.ndarray, float, int, float] | None = None
    for _ in range(repeats):
        res, elapsed = ours(game, rgap)
        times.append(elapsed)
        if peer_error is None:
            try:
                peer_out = aequilibrae_bfw(game, rgap)
            except Exception as exc:  # report any failure of the peer and carry on
                peer_error = f"failed to run ({type(exc).__name__}: {exc})"
            else:
                peer_times.append(peer_out[1])
    elapsed = min(times)
    steps = res.iterations + 2  # the start and the final gap check are all-or-nothing too
    rel = res.beckmann / CHICAGO_BEST - 1.0
    l1 = np.abs(res.link_flows - best).sum() / best.sum()
    med = float(np.median(times))
    print(f"  gametheory bfw : {elapsed:.3f} s (best of {repeats}, median {med:.3f} s)")
    print(
        f"    {res.iterations} iterations, {steps} all-or-nothing at {elapsed / steps * 1e3:.1f} ms"
    )
    print(f"    (SciPy Dijkstra floor {floor * 1e3:.1f} ms per all-or-nothing)")
    print(f"    relative gap {res.relative_gap:.3e}, converged {res.converged}")
    print(f"    Beckmann {res.beckmann:,.4f} vs best-known {CHICAGO_BEST:,.4f} ({rel:+.2e})")
    print(f"    link flows {l1:.3%} (relative L1) from the best-known flows")
    if peer_error is not None or peer_out is None:
        print(f"  AequilibraE    : {peer_error}")
        return
    flows, _, peer_it, peer_gap = peer_out
    peer_s = min(peer_times)
    peer_med = float(np.median(peer_times))
    print(f"  AequilibraE bfw: {peer_s:.3f} s (best of {len(peer_times)}, median {peer_med:.3f} s)")
    per_it = peer_s / peer_it * 1e3
    print(f"    {peer_it} iterations at {per_it:.1f} ms (1 core), its gap {peer_gap:.3e}")
    print(
        f"    our gap on its flows {relative_gap(game, flows):.3e}, "
        f"Beckmann {game.beckmann(flows):,.4f}"
    )
    print(f"  ratio gametheory / AequilibraE (best times): {elapsed / peer_s:.2f} (target <= 1)")


def city(name: str, rgap: float, peer: bool) -> None:
    """A city network to ``rgap``: ours with each kernel on 1 and 2 workers (threads for the
    compiled kernel, processes for NumPy), AequilibraE on 1 and 2 cores."""
    game, read_s = read_game(name)
    print(f"{name}: {game}  (read in {read_s:.2f} s)")
    kernels: list[Kernel] = ["numba", "numpy"] if numba_available() else ["numpy"]
    for kernel, workers in itertools.product(kernels, (1, 2)):
        res, elapsed = ours(game, rgap, workers, kernel)
        unit = "thread(s)" if kernel == "numba" else "process(es)"
        print(
            f"  gametheory bfw, {kernel} kernel, {workers} {unit}: {elapsed:.2f} s, "
            f"{res.iterations} iterations, {elapsed / res.iterations:.3f} s per iteration, gap "
            f"{res.relative_gap:.2e}, Beckmann {res.beckmann:,.1f}"
        )
    if not peer:
        return
    try:
        import aequilibrae  # noqa: F401
    except ImportError as exc:
        print(f"  AequilibraE: not importable here ({exc})")
        return
    for cores in (1, 2):
        flows, elapsed, iters, gap = aequilibrae_bfw(game, rgap, cores)
        print(
            f"  AequilibraE bfw, {cores} core(s): {elapsed:.2f} s, {iters} iterations, "
            f"{elapsed / iters:.3f} s per iteration, its gap {gap:.2e}, our gap on its flows "
            f"{relative_gap(game, flows):.2e}, Beckmann {game.beckmann(flows):,.1f}"
        )


def small(name: str, rgap: float) -> None:
    game, best, _ = load(name)
    res, elapsed = ours(game, rgap)
    l1 = np.abs(res.link_flows - best).sum() / best.sum()
    rel = res.beckmann / game.beckmann(best) - 1.0
    print(
        f"{name}: bfw to {rgap:g} in {elapsed:.3f} s, {res.iterations} iterations, gap "
        f"{res.relative_gap:.2e}; Beckmann {res.beckmann:,.3f} ({rel:+.2e} vs best-known), "
        f"flows L1 {l1:.3%}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rgap", type=float, default=1e-4, help="Chicago target gap")
    parser.add_argument("--no-aequilibrae", action="store_true", help="skip the peer run")
    parser.add_argument("--repeats", type=int, default=3, help="Chicago runs of each solver")
    parser.add_argument(
        "--city", default="", help="also run this city network (e.g. Berlin-Center) to 1e-4"
    )
    args = parser.parse_args(argv)
    if not DATA.is_dir():
        print(f"shared data not found at {DATA}: nothing to benchmark")
        return 0
    chicago(args.rgap, not args.no_aequilibrae, max(args.repeats, 1))
    for name in ("SiouxFalls", "Anaheim"):
        small(name, 1e-5)
    if args.city:
        city(args.city, 1e-4, not args.no_aequilibrae)
    return 0


if __name__ == "__main__":
    sys.exit(main())
