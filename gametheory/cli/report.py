"""The ``gametheory report PATH... [--out DIR]`` command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from gametheory.cli._checks import flag, int_at_least, output_folder, positive_int
from gametheory.telemetry.readers.loader import load
from gametheory.telemetry.report import build_report, format_report, write_report

__all__ = ["register"]


def _progress(label: str, quiet: bool) -> Callable[[int, int, object], None]:
    """A progress display on a terminal's stderr for inputs of ten or more items."""

    def show(i: int, n: int, item: object) -> None:
        if not quiet and n >= 10 and sys.stderr.isatty():
            print(f"\r{label} {i + 1}/{n}", end="", file=sys.stderr, flush=True)
            if i + 1 == n:
                print(file=sys.stderr)

    return show


def _run(args: argparse.Namespace) -> int:
    if args.out is None:
        return _report(args, None)
    with output_folder(args.out, force=args.force) as out:  # checked before reading
        return _report(args, out)


def _report(args: argparse.Namespace, out: Path | None) -> int:
    data = load(
        args.paths,
        progress=_progress("reading", args.quiet),
        max_decompressed=args.max_decompressed_mb << 20,
    )
    report = build_report(
        data,
        metric=args.metric,
        deployment=args.deployment,
        window=args.window,
        seed=args.seed,
        progress=_progress("knees", args.quiet),
    )
    print(format_report(report, max_deployments=args.max_deployments))
    if out is not None:
        written = write_report(
            report,
            out,
            max_plots=args.max_plots,
            progress=_progress("plotting", args.quiet),
        )
        print(f"wrote {len(written)} files to {out}")
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``report`` subcommand."""
    parser = subparsers.add_parser(
        "report",
        description="Detect the format of each telemetry file (aiperf, genai-perf, "
        "Prometheus, Dynamo router logs, aiconfigurator), print a table per deployment "
        "(concurrency, TTFT/ITL, throughput, regime, knee) and PoA-hat when routing "
        "decisions are present; with --out, write CSV tables and PNG plots.",
    )
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="files or folders")
    parser.add_argument("--out", type=Path, default=None, help="folder for CSV and PNG files")
    parser.add_argument(
        "--force", action="store_true", help="replace an earlier report's files in --out"
    )
    parser.add_argument("--metric", default="ttft_ms_p99", help="latency column for the knee")
    parser.add_argument("--deployment", default=None, help="regex selecting deployments")
    parser.add_argument("--window", type=flag(positive_int), default=None, help="PoA-hat window")
    parser.add_argument("--seed", type=flag(int_at_least(0)), default=0, help="bootstrap seed")
    parser.add_argument(
        "--max-plots", type=flag(int_at_least(0)), default=24, help="knee plots to draw"
    )
    parser.add_argument(
        "--max-deployments",
        type=flag(int_at_least(0)),
        default=20,
        help="deployment tables to print",
    )
    parser.add_argument(
        "--max-decompressed-mb",
        type=flag(positive_int),
        default=1024,
        help="MiB a compressed file may expand to (default 1024)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress display")
    parser.set_defaults(func=_run)
