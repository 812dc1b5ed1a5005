"""Resource-cost bases of atomic congestion games, tabulated on integer loads.

The LP bounds (:mod:`gametheory.bounds.exact_lp`, :mod:`gametheory.bounds.smoothness`)
take a basis ``b_1, ..., b_m`` of cost functions; the class of games is every game whose
resource costs are nonnegative combinations ``sum_j a_j b_j``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gametheory.bounds._common import as_degree
from gametheory.costs import CostFunction, Polynomial
from gametheory.errors import GameError

__all__ = ["BasisLike", "basis_labels", "resolve_basis", "tabulate_basis"]

FloatArray = NDArray[np.float64]
BasisLike = Sequence[CostFunction | Callable[[Any], Any]]


def resolve_basis(basis: BasisLike | None, degree: float | None) -> list[Any]:
    """The basis functions: ``basis`` as given, or the monomials ``1, x, ..., x^d``.

    Raises
    ------
    GameError
        If neither or both of ``basis`` and ``degree`` are given, or the basis is empty.
    """
    if (basis is None) == (degree is None):
        raise GameError("give exactly one of basis= (cost functions) and degree=")
    if basis is None:
        d = int(as_degree(degree, integer=True))
        return [Polynomial([0.0] * j + [1.0]) for j in range(d + 1)]
    if isinstance(basis, (str, bytes)) or not isinstance(basis, Sequence):
        raise GameError(f"basis must be a list of cost functions, got {basis!r}")
    if len(basis) == 0:
        raise GameError("basis is empty: give at least one cost function")
    for j, b in enumerate(basis):
        if not (isinstance(b, CostFunction) or callable(b)):
            raise GameError(f"basis[{j}] must be a CostFunction or a callable, got {b!r}")
    return list(basis)


def basis_labels(basis: Sequence[Any]) -> list[str]:
    """Short names of the basis functions."""
    return [
        repr(b) if isinstance(b, CostFunction) else getattr(b, "__name__", repr(b)) for b in basis
    ]


def tabulate_basis(basis: Sequence[Any], top: int, *, monotone: bool = False) -> FloatArray:
    """Values ``b_j(k)`` for ``k = 0..top`` as an array of shape ``(m, top + 1)``.

    Raises
    ------
    GameError
        If a value is negative or not finite at ``k >= 1``, or (with ``monotone``) a
        function decreases on ``1..top``.
    """
    ks = np.arange(top + 1, dtype=np.float64)
    table = np.empty((len(basis), top + 1))
    for j, b in enumerate(basis):
        try:
            if isinstance(b, CostFunction):
                vals = np.asarray(b(ks), dtype=np.float64)
            else:
                vals = np.array([float(b(k)) for k in ks], dtype=np.float64)
        except (TypeError, ValueError, ArithmeticError) as exc:
            raise GameError(f"basis[{j}] failed to evaluate on integer loads: {exc}") from exc
        if vals.shape != ks.shape or not np.all(np.isfinite(vals[1:])) or np.any(vals[1:] < 0):
            raise GameError(
                f"basis[{j}] must be finite and nonnegative on the loads 1..{top}, "
                f"got {vals[1:].tolist()[:8]}..."
            )
        if monotone and np.any(np.diff(vals[1:]) < 0):
            k = int(np.nonzero(np.diff(vals[1:]) < 0)[0][0]) + 1
            raise GameError(
                f"basis[{j}] is not nondecreasing: b({k}) = {vals[k]:g} > b({k + 1}) = "
                f"{vals[k + 1]:g}; this bound needs nondecreasing costs"
            )
        table[j] = np.where(np.isfinite(vals), vals, 0.0)
    return table
