"""Small helpers shared by the bound modules: argument checks and sympy rendering."""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Any

import sympy as sp

from gametheory.bounds.results import BoundResult
from gametheory.errors import GameError, shown

__all__ = [
    "MAX_LP_ROWS",
    "as_count",
    "as_degree",
    "as_real",
    "check_lp_rows",
    "closed_form",
    "latex_of",
]


def _float(value: Any) -> float:
    """``float(value)``, infinite for an integer beyond a float (10**400) instead of an
    OverflowError."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def as_degree(degree: object, name: str = "degree", *, integer: bool = False) -> float:
    """Validate a polynomial degree: a finite number >= 0 (an integer if ``integer``)."""
    if isinstance(degree, bool) or not isinstance(degree, Real):
        raise GameError(f"{name} must be a number >= 0, got {degree!r}")
    d = _float(degree)
    if not math.isfinite(d) or d < 0:
        raise GameError(f"{name} must be a finite number >= 0, got {shown(degree)}")
    if integer and d != int(d):
        raise GameError(f"{name} must be an integer >= 0, got {degree!r}")
    return d


def as_count(value: object, name: str, *, minimum: int = 1) -> int:
    """Validate an integer count (players, servers) of at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, Integral) or int(value) < minimum:
        raise GameError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


#: The most LP rows a bound builds (each row takes about 60 bytes with its labels, so about
#: 1.2 GB at the limit); larger instances are refused before anything is allocated.
MAX_LP_ROWS = 20_000_000


def check_lp_rows(rows: int, n_players: int, what: str) -> None:
    """Refuse an LP of more than :data:`MAX_LP_ROWS` rows, naming ``n_players``.

    Raises
    ------
    GameError
        ``n_players = N needs R rows in the <what> LP (limit ...)``.
    """
    if rows > MAX_LP_ROWS:
        raise GameError(
            f"n_players = {n_players} needs {rows:.3g} rows in the {what} LP, more than the "
            f"limit of {MAX_LP_ROWS:.3g} (about {MAX_LP_ROWS * 60 / 1e9:.1f} GB): use fewer players"
        )


def as_real(value: object, name: str, *, positive: bool = False, finite: bool = True) -> float:
    """Validate a real argument: nonnegative (or positive) and, unless told, finite."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise GameError(f"{name} must be a number, got {value!r}")
    v = _float(value)
    if math.isnan(v) or (finite and not math.isfinite(v)):
        raise GameError(f"{name} must be a finite number, got {shown(value)}")
    if v < 0 or (positive and v == 0):
        kind = "positive" if positive else "nonnegative"
        raise GameError(f"{name} must be {kind}, got {value!r}")
    return v


def latex_of(expr: Any) -> str:
    """LaTeX of a sympy expression ('' for None)."""
    return "" if expr is None else str(sp.latex(expr))


def closed_form(expr: Any, *, value: float | None = None, **fields: Any) -> BoundResult:
    """A closed-form :class:`BoundResult`: ``expr``, its LaTeX and (by default) its value.

    Parameters
    ----------
    expr
        The bound as a sympy expression without free symbols.
    value
        The float value when computed more directly than by evaluating ``expr`` (default:
        ``expr`` evaluated to 30 digits).
    **fields
        The other fields of :class:`BoundResult` (``quantity``, ``setting``, ``tight``, ...).
    """
    v = float(sp.N(expr, 30)) if value is None else float(value)
    return BoundResult(value=v, expr=expr, latex=latex_of(expr), **fields)
