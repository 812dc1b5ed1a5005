"""Benchmark: reading the TNTP networks (network and trip files) into a RoutingGame.

Run ``python benchmarks/bench_tntp_read.py`` from the project root (shared data beside
it). For each network in ``../shared/data/networks`` it prints links, zones, OD pairs
and the best of ``--repeats`` read times (``read_tntp``: parsing, one BPR cost per link,
the demand checks and the reachability check of every OD pair).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from gametheory.games.network.tntp import read_tntp

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "networks"


def _files(folder: Path) -> tuple[Path, Path] | None:
    nets = sorted(folder.glob("*_net.tntp"))
    trips = sorted(folder.glob("*_trips.tntp"))
    return (nets[0], trips[0]) if nets and trips else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if not DATA.is_dir():
        raise SystemExit(f"shared data not found at {DATA}")
    print(f"{'network':16s} {'links':>7s} {'zones':>6s} {'OD pairs':>9s} {'read s':>8s}")
    for folder in sorted(p for p in DATA.iterdir() if p.is_dir()):
        files = _files(folder)
        if files is None:
            continue
        best = float("inf")
        for _ in range(args.repeats):
            start = time.perf_counter()
            game = read_tntp(*files)
            best = min(best, time.perf_counter() - start)
        links, zones, ods = len(game.edges), len(game.zones or ()), len(game.od_pairs)
        print(f"{folder.name:16s} {links:7d} {zones:6d} {ods:9d} {best:8.3f}")


if __name__ == "__main__":
    main()
