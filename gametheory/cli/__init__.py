"""The ``gametheory`` command.

One module per subcommand (``demo``, ``bound``, ``report``, ``pd-game``, ``affinity``,
``simulate``, ``sweep``, ``control``),
each with a ``register(subparsers)`` function that adds its parser and sets ``func`` to a
callable taking the parsed arguments and returning an exit code; :func:`_registrars` is
the one registration list.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from gametheory._version import __version__
from gametheory.errors import GameTheoryError

__all__ = ["build_parser", "main"]

Registrar = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]


def _registrars() -> list[Registrar]:
    """The subcommands, in the order ``gametheory --help`` lists them."""
    from gametheory.cli import affinity, bound, control, demo, pd_game, report, simulate, sweep

    return [
        demo.register,
        bound.register,
        report.register,
        pd_game.register,
        affinity.register,
        simulate.register,
        sweep.register,
        control.register,
    ]


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every registered subcommand."""
    parser = argparse.ArgumentParser(
        prog="gametheory",
        description="Game theory of disaggregated LLM inference: equilibria, optima, "
        "Price-of-Anarchy bounds and telemetry-based PoA estimates.",
    )
    parser.add_argument("--version", action="version", version=f"gametheory {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for register in _registrars():
        register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
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
