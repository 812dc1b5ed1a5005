"""The ``gametheory`` command.

One module per subcommand (``demo``, ``bound``, ``report``, ``pd-game``, ``affinity``,
``simulate``, ``sweep``, ``control``),
each with a ``register(subparsers)`` function that adds its parser and sets ``func`` to a
callable taking the parsed arguments and returning an exit code; :data:`COMMANDS` is the
one registration list, and only the module of the command being run is imported.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from gametheory._version import __version__
from gametheory.errors import GameTheoryError

__all__ = ["COMMANDS", "build_parser", "main"]

#: Each subcommand, in the order ``gametheory --help`` lists them: the module under
#: ``gametheory.cli`` that registers it and the one-line summary of the listing.
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("demo", "solve built-in instances and compare their PoA with the analytic bounds"),
    "bound": ("bound", "Price-of-Anarchy bounds for a class of games"),
    "report": ("report", "read telemetry, print knees, regimes and PoA-hat per deployment"),
    "pd-game": (
        "pd_game",
        "prefill/decode GPU-budget game: optimum, equilibria, mechanisms, PoA vs load",
    ),
    "affinity": (
        "affinity",
        "PoA of KV-aware routers and equilibria on the cache-affinity routing game",
    ),
    "simulate": ("simulate", "simulate a disaggregated cluster and write its telemetry"),
    "sweep": ("sweep", "run a resumable grid of simulations (locally or on a Dask cluster)"),
    "control": ("control", "run the adaptive router controller against Prometheus"),
}


def _chosen(argv: Sequence[str]) -> str | None:
    """The subcommand named on the command line, or ``None`` when the top-level help or
    no command comes first."""
    for arg in argv:
        if arg in ("-h", "--help"):
            return None
        if not arg.startswith("-"):
            return arg
    return None


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """Build the argument parser.

    Every subcommand is listed with its summary, but only ``command``'s module is
    imported and registers its arguments, so ``gametheory --help`` loads no subcommand and
    ``gametheory bound ...`` none of the simulator.
    """
    parser = argparse.ArgumentParser(
        prog="gametheory",
        description="Game theory of disaggregated LLM inference: equilibria, optima, "
        "Price-of-Anarchy bounds and telemetry-based PoA estimates.",
    )
    parser.add_argument("--version", action="version", version=f"gametheory {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, summary) in COMMANDS.items():
        if name == command:
            importlib.import_module(f"gametheory.cli.{module}").register(sub)
        else:
            sub.add_parser(name, help=summary)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    arguments = sys.argv[1:] if argv is None else list(argv)
    command = _chosen(arguments)
    parser = build_parser(command)
    args = parser.parse_args(arguments)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    try:
        code: int = func(args)
    except GameTheoryError as exc:
        print(f"gametheory: error: {exc}", file=sys.stderr)
        return 1
    return code
