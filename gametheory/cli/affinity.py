"""The ``gametheory affinity`` command: PoA of routers and equilibria over load.

Builds an :class:`~gametheory.games.affinity.game.AffinityRoutingGame` -- a synthetic cluster of
identical workers with BPR-shaped latency ``1 + (n / knee)^4`` and Zipf-popular prefix
groups, or the prompts of a Mooncake trace (``--trace``, JSON lines with ``hash_ids``) --
and prints each outcome's social cost over the optimum at each load (the first ``n``
arrivals), as :func:`~gametheory.solvers.affinity.poa.affinity_poa_curve` computes it.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from gametheory.cli._checks import (
    flag,
    int_at_least,
    nonnegative_float,
    positive_float,
    positive_int,
)
from gametheory.costs import BPR
from gametheory.errors import GameError, TelemetryError
from gametheory.games.affinity.game import AffinityRoutingGame
from gametheory.results import EquilibriumResult
from gametheory.solvers.affinity.poa import (
    affinity_poa_curve,
    plot_affinity_poa_curve,
    standard_outcomes,
)
from gametheory.solvers.affinity.results import PoACurveResult, RouterOutcome

__all__ = ["read_hash_ids", "register", "run"]


def read_hash_ids(path: Path, limit: int) -> list[list[int]]:
    """The ``hash_ids`` of the first ``limit`` records of a Mooncake trace.

    Raises
    ------
    TelemetryError
        On a missing file, invalid JSON or a record without a list of integer hashes.
    """
    out: list[list[int]] = []
    try:
        with path.open(encoding="utf-8") as f:
            for number, line in enumerate(f, start=1):
                if len(out) >= limit:
                    break
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise TelemetryError(
                        f"invalid JSON: {exc.msg}", file=str(path), line=number
                    ) from exc
                ids = record.get("hash_ids") if isinstance(record, dict) else None
                if not isinstance(ids, list) or not all(
                    isinstance(v, int) and not isinstance(v, bool) for v in ids
                ):
                    raise TelemetryError(
                        "expected a list of integer block hashes",
                        file=str(path),
                        line=number,
                        field="hash_ids",
                    )
                out.append(ids)
    except OSError as exc:
        raise TelemetryError(f"cannot read the trace: {exc.strerror}", file=str(path)) from exc
    if not out:
        raise TelemetryError("the trace has no records", file=str(path))
    return out


def _loads(text: str, n: int) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError as exc:
        raise GameError(f"--loads must be comma-separated integers, got {text!r}") from exc
    if not values or any(v < 1 or v > n for v in values):
        raise GameError(f"--loads must be request counts in 1..{n}, got {text!r}")
    return values


def build_game(args: argparse.Namespace) -> AffinityRoutingGame:
    """The game the command analyses."""
    if args.workers < 1 or args.requests < 1 or args.knee <= 0:
        raise GameError("--workers, --requests and --knee must be positive")
    workers = [BPR(1.0, args.knee, alpha=1.0, beta=4.0)] * args.workers
    if args.trace is not None:
        hashes = read_hash_ids(Path(args.trace), args.requests)
        return AffinityRoutingGame.from_hash_ids(
            workers, hashes, depth=args.depth, block_time=args.block_time
        )
    return AffinityRoutingGame.synthetic(
        workers,
        args.requests,
        n_groups=args.groups,
        prefix_blocks=args.prefix_blocks,
        suffix_blocks=args.suffix_blocks,
        zipf=args.zipf,
        block_time=args.block_time,
        seed=args.seed,
    )


def format_curve(curve: PoACurveResult) -> str:
    """The PoA curve as a text table (one row per load)."""
    names = list(curve.ratios)
    head = "requests  " + "  ".join(f"{n:>22}" for n in names) + "  optimum gap"
    rows = [head]
    for i, load in enumerate(curve.loads):
        cells = "  ".join(f"{curve.ratios[n][i]:22.4f}" for n in names)
        rows.append(f"{int(load):8d}  {cells}  {curve.gaps[i]:11.2e}")
    return "\n".join(rows)


def run(args: argparse.Namespace) -> int:
    """Run the command; return the exit code."""
    game = build_game(args)
    loads = _loads(args.loads, game.n_players) if args.loads else [game.n_players]

    def outcomes(g: AffinityRoutingGame) -> dict[str, RouterOutcome | EquilibriumResult]:
        return standard_outcomes(g, omega=args.omega, temperature=args.temperature, seed=0)

    curve = affinity_poa_curve(game, loads, outcomes=outcomes, time_limit=args.time_limit)
    print(game)
    print(format_curve(curve))
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        ax = plot_affinity_poa_curve(curve)
        ax.figure.savefig(args.plot, bbox_inches="tight")
        print(f"plot written to {args.plot}")
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``affinity`` subcommand."""
    p = subparsers.add_parser(
        "affinity",
        description=__doc__,
    )
    p.add_argument(
        "--workers", type=flag(positive_int), default=5, help="number of workers (default 5)"
    )
    p.add_argument(
        "--knee", type=flag(positive_float), default=10.0, help="requests per worker at the knee"
    )
    p.add_argument(
        "--requests", type=flag(positive_int), default=100, help="arrivals (trace records) used"
    )
    p.add_argument("--groups", type=flag(positive_int), default=5, help="prefix groups (synthetic)")
    p.add_argument(
        "--prefix-blocks",
        type=flag(nonnegative_float),
        default=8.0,
        help="prefix length (synthetic)",
    )
    p.add_argument(
        "--suffix-blocks", type=flag(nonnegative_float), default=1.0, help="mean suffix (synthetic)"
    )
    p.add_argument(
        "--zipf", type=flag(nonnegative_float), default=1.0, help="group popularity exponent"
    )
    p.add_argument(
        "--block-time", type=flag(positive_float), default=0.1, help="prefill time per block"
    )
    p.add_argument(
        "--seed", type=flag(int_at_least(0)), default=0, help="seed of the synthetic instance"
    )
    p.add_argument("--trace", help="Mooncake trace (JSON lines with hash_ids) instead")
    p.add_argument(
        "--depth", type=flag(positive_int), default=2, help="leading blocks defining a group"
    )
    p.add_argument("--loads", default="", help="comma-separated request counts")
    p.add_argument(
        "--omega", type=flag(nonnegative_float), default=1.0, help="KV router overlap weight"
    )
    p.add_argument(
        "--temperature", type=flag(nonnegative_float), default=0.0, help="KV router temperature"
    )
    p.add_argument(
        "--time-limit", type=flag(positive_float), default=30.0, help="MILP seconds per load"
    )
    p.add_argument("--plot", help="write the PoA curve to this image file")
    p.set_defaults(func=run)
