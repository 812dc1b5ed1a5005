"""Small helpers shared by the bound modules: argument checks and sympy rendering."""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Any

import sympy as sp

from gametheory.bounds.results import BoundResult
from gametheory.errors import GameError

__all__ = ["as_count", "as_degree", "as_real", "closed_form", "latex_of"]


def as_degree(degree: object, name: str = "degree", *, integer: bool = False) -> float:
    """Validate a polynomial degree: a finite number >= 0 (an integer if ``integer``)."""
    if isinstance(degree, bool) or not isinstance(degree, Real):
        raise GameError(f"{name} must be a number >= 0, got {degree!r}")
    d = float(degree)
    if not math.isfinite(d) or d < 0:
        raise GameError(f"{name} must be a finite number >= 0, got {degree!r}")
    if integer and d != int(d):
        raise GameError(f"{name} must be an integer >= 0, got {degree!r}")
    return d


def as_count(value: object, name: str, *, minimum: int = 1) -> int:
    """Validate an integer count (players, servers) of at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, Integral) or int(value) < minimum:
        raise GameError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def as_real(value: object, name: str, *, positive: bool = False, finite: bool = True) -> float:
    """Validate a real argument: nonnegative (or positive) and, unless told, finite."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise GameError(f"{name} must be a number, got {value!r}")
    v = float(value)
    if math.isnan(v) or (finite and not math.isfinite(v)):
        raise GameError(f"{name} must be a finite number, got {value!r}")
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
