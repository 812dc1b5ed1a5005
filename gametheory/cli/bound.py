"""The ``gametheory bound`` command: print a PoA bound as text, LaTeX or JSON.

Examples::

    gametheory bound polynomial --degree 4
    gametheory bound atomic --degree 2 --players 10
    gametheory bound mm1 --umin 1 --rmax 0.9 --latex
    gametheory bound bpr --rho 2 --json
    gametheory bound smoothness --degree 1 --players 50
    gametheory bound symbolic "a + b*x**2"
"""

from __future__ import annotations

import argparse
import json
import math
from typing import Any

import numpy as np

from gametheory.bounds.atomic import aland_bound
from gametheory.bounds.exact_lp import exact_poa_lp
from gametheory.bounds.nonatomic import bpr_bound, polynomial_bound
from gametheory.bounds.queueing import mm1_bound
from gametheory.bounds.results import BoundResult
from gametheory.bounds.smoothness import smoothness_bound
from gametheory.bounds.symbolic import symbolic_pigou_bound
from gametheory.cli._checks import flag, nonnegative_float, positive_float, positive_int
from gametheory.errors import GameError

__all__ = ["register", "to_json"]


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, (np.floating, float)):
        f = float(value)
        return f if math.isfinite(f) else str(f)
    if isinstance(value, (np.integer, int, bool, str)) or value is None:
        return value.item() if isinstance(value, np.integer) else value
    return str(value)


def to_json(result: BoundResult) -> str:
    """A JSON rendering of a bound (the sympy expression as text and LaTeX)."""
    data = {
        "value": result.value,
        "quantity": result.quantity,
        "setting": result.setting,
        "tight": result.tight,
        "tight_instance": result.tight_instance,
        "source": result.source,
        "theorem": result.theorem,
        "expr": None if result.expr is None else str(result.expr),
        "latex": result.latex,
        "method": result.method,
        "converged": result.converged,
        "iterations": result.iterations,
        "notes": result.notes,
        "certificate": result.certificate,
    }
    return json.dumps(_jsonable(data), indent=2)


def _text(result: BoundResult) -> str:
    lines = [f"{result.quantity} <= {result.value:.6f}   ({result.setting})"]
    if result.expr is not None:
        lines.append(f"  closed form : {result.expr}")
    tight = f"yes, {result.tight_instance}" if result.tight else "no"
    lines.append(f"  tight       : {tight}")
    lines.append(f"  source      : {result.source}")
    lines.append(f"  theorem     : {result.theorem}")
    lines.append(f"  method      : {result.method}")
    if result.notes:
        lines.append(f"  notes       : {result.notes}")
    return "\n".join(lines)


def _compute(args: argparse.Namespace) -> BoundResult:
    kind: str = args.kind
    if kind == "polynomial":
        return polynomial_bound(args.degree)
    if kind == "atomic":
        if args.weighted:
            if args.players is not None:
                raise GameError("--players applies to unweighted games (the exact LP)")
            return aland_bound(args.degree, weighted=True)
        if args.players is None:
            return aland_bound(args.degree)
        return exact_poa_lp(args.players, degree=args.degree)
    if kind == "mm1":
        return mm1_bound(args.umin, args.rmax)
    if kind == "bpr":
        return bpr_bound(args.rho, args.alpha, args.beta)
    if kind == "smoothness":
        return smoothness_bound(args.players, degree=args.degree)
    return symbolic_pigou_bound(args.cost, r_max=args.rmax)


def _run(args: argparse.Namespace) -> int:
    result = _compute(args)
    if args.json:
        print(to_json(result))
    elif args.latex:
        print(result.latex if result.latex else f"{result.value:.10g}")
    else:
        print(_text(result))
    return 0


def _degree(text: str) -> int:
    try:
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"degree must be an integer, got {text!r}") from exc
    return value


def _rho(value: str) -> float:
    """A volume/capacity bound: a number > 0, or ``inf`` for none."""
    if value.strip().lower() in ("inf", "infinity"):
        return math.inf
    return positive_float(value)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``bound`` subcommand to the ``gametheory`` command line."""
    parser = subparsers.add_parser(
        "bound",
        description="Print a PoA bound with its source, tightness and closed form.",
    )
    kinds = parser.add_subparsers(dest="kind", metavar="CLASS", required=True)

    def add(name: str, help_text: str) -> argparse.ArgumentParser:
        p = kinds.add_parser(name, help=help_text, description=help_text)
        fmt = p.add_mutually_exclusive_group()
        fmt.add_argument("--latex", action="store_true", help="print the closed form as LaTeX")
        fmt.add_argument("--json", action="store_true", help="print the full result as JSON")
        p.set_defaults(func=_run)
        return p

    p = add("polynomial", "nonatomic routing, polynomial costs of degree <= d (Pigou bound)")
    p.add_argument(
        "--degree", type=flag(nonnegative_float), required=True, help="polynomial degree d >= 0"
    )
    p = add("atomic", "atomic congestion games, polynomial costs (Aland et al.; exact LP)")
    p.add_argument("--degree", type=_degree, required=True, help="polynomial degree d >= 0")
    p.add_argument(
        "--players", type=flag(positive_int), default=None, help="number of players (exact LP)"
    )
    p.add_argument("--weighted", action="store_true", help="weighted players")
    p = add("mm1", "nonatomic routing, M/M/1 delays with bounded traffic")
    p.add_argument(
        "--umin", type=flag(positive_float), required=True, help="smallest capacity u_min"
    )
    p.add_argument(
        "--rmax",
        type=flag(nonnegative_float),
        required=True,
        help="largest total rate R_max < u_min",
    )
    p = add("bpr", "nonatomic routing, BPR costs with volume/capacity <= rho")
    p.add_argument("--rho", type=flag(_rho), default=math.inf, help="volume/capacity bound")
    p.add_argument("--alpha", type=flag(nonnegative_float), default=0.15, help="BPR alpha (0.15)")
    p.add_argument("--beta", type=flag(nonnegative_float), default=4.0, help="BPR beta (4)")
    p = add("smoothness", "robust PoA (coarse correlated equilibria) by the smoothness LP")
    p.add_argument("--degree", type=_degree, required=True, help="polynomial degree d >= 0")
    p.add_argument(
        "--players", type=flag(positive_int), default=100, help="largest number of players"
    )
    p = add("symbolic", "derive the Pigou bound of a sympy cost expression")
    p.add_argument("cost", help='cost c(x), e.g. "a + b*x**2" (parameters positive)')
    p.add_argument("--rmax", default=None, help="largest link flow (number or symbol)")
