"""The ``gametheory`` command.

One module per subcommand (``demo``, ``bound``, ``report``, ``pd-game``, ``affinity``,
``simulate``, ``sweep``, ``control``, ``deploy``),
each with a ``register(subparsers)`` function that adds its parser and sets ``func`` to a
callable taking the parsed arguments and returning an exit code; :data:`COMMANDS` is the
one registration list, and only the module of the command being run is imported.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from gametheory._version import __version__
from gametheory.errors import GameTheoryError

__all__ = ["COMMANDS", "build_parser", "main", "progress_bar"]

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
    "deploy": ("deploy", "start a real Dynamo xPyD deployment of mocker workers, load it"),
}


def progress_bar(total: int, unit: str, quiet: bool = False) -> Any:
    """A ``tqdm`` bar of ``total`` ``unit`` on standard error when it is a terminal and
    ``quiet`` is False; else None (nothing in pipes and logs)."""
    if quiet or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit=unit, file=sys.stderr)


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line: what is wrong, and where to look."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


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
    parser = _Parser(
        prog="gametheory",
        description="Game theory of disaggregated LLM inference: equilibria, optima, "
        "Price-of-Anarchy bounds and telemetry-based PoA estimates.",
    )
    parser.add_argument("--version", action="version", version=f"gametheory {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="show the traceback of an error instead of one line"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, summary) in COMMANDS.items():
        if name == command:
            importlib.import_module(f"gametheory.cli.{module}").register(sub)
        else:
            sub.add_parser(name, help=summary)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code.

    One rule for every subcommand: a bad flag or a library error (a
    :class:`~gametheory.errors.GameTheoryError`, which names the argument, file, line or
    field) is one line on stderr and exit code 2; any other exception is one line saying
    how to see its traceback (``--debug``) and exit code 1; a closed output pipe (``|
    head``) ends the command quietly with 0, Ctrl-C with 130.
    """
    arguments = sys.argv[1:] if argv is None else list(argv)
    debug = "--debug" in arguments
    try:
        command = _chosen(arguments)
        parser = build_parser(command)
        args = parser.parse_args(arguments)
        func = getattr(args, "func", None)
        if func is None:
            parser.print_help()
            return 2
        code: int = func(args)
        sys.stdout.flush()
    except SystemExit as exc:  # argparse: --help, --version, a bad flag
        return exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 2
    except BrokenPipeError:
        # the reader went away (| head): say nothing, and let no flush at exit fail
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("gametheory: interrupted", file=sys.stderr)
        return 130
    except GameTheoryError as exc:
        if debug:
            raise
        print(f"gametheory: error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        if debug:
            raise
        print(
            f"gametheory: internal error: {type(exc).__name__}: {exc} "
            "(run again with --debug for the traceback)",
            file=sys.stderr,
        )
        return 1
    return code
