"""The cost-function base class, its shared helpers, and sums of cost functions.

:class:`CostFunction` is the abstract base of every cost; :class:`SumCost` lives here too
because adding two costs (``CostFunction.__add__``) returns one. The helpers shared by the
cost modules are here as well: the sympy load symbol ``X``, parameter and load validation
(``_param``, ``_load``), scalar-or-array output (``_out``), parameter formatting for
``repr`` (``_fmt``) and the check that a cost is one function, not a stack (``_scalar_only``).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import ClassVar, overload

import numpy as np
import sympy as sp
from numpy.typing import ArrayLike, NDArray

from gametheory.errors import GameError

__all__ = ["CostFunction", "SumCost"]

FloatArray = NDArray[np.float64]
X = sp.Symbol("x", nonnegative=True)


def _param(value: ArrayLike, name: str, *, positive: bool = False) -> FloatArray:
    """Validate a parameter: finite, nonnegative (or positive), as a float array."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        # the common scalar case, checked without NumPy's reductions (a network file has
        # one cost per link)
        v = float(value)
        arr = np.array(v)
        finite, least = math.isfinite(v), v
    else:
        try:
            arr = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise GameError(f"parameter {name!r} must be numeric, got {value!r}") from exc
        finite = bool(np.all(np.isfinite(arr)))
        least = float(arr.min()) if arr.size and finite else 0.0
    if not finite:
        raise GameError(f"parameter {name!r} must be finite, got {value!r}")
    if positive and least <= 0 and arr.size:
        raise GameError(f"parameter {name!r} must be positive, got {value!r}")
    if least < 0:
        raise GameError(f"parameter {name!r} must be nonnegative, got {value!r}")
    return arr


def _load(x: ArrayLike) -> FloatArray:
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise GameError(f"load must be numeric, got {x!r}") from exc
    if np.any(np.isnan(arr)):
        raise GameError("load contains NaN")
    return arr


class CostFunction(ABC):
    """A resource cost function ``c(x)`` of the load ``x >= 0``.

    Subclasses implement ``_value``, ``_derivative``, ``_integral`` and ``expr``; the
    public methods validate the load and return a float for a scalar load and an array
    otherwise. Cost functions add: ``Affine(1, 2) + MM1(4)`` is a :class:`SumCost`.
    """

    #: Family name used by the bounds (``"polynomial"``, ``"bpr"``, ``"mm1"``, ...).
    _family: ClassVar[str] = "general"

    @property
    def family(self) -> str:
        """The cost family, used to pick Price-of-Anarchy bounds."""
        return self._family

    @abstractmethod
    def _value(self, x: FloatArray) -> FloatArray: ...

    @abstractmethod
    def _derivative(self, x: FloatArray) -> FloatArray: ...

    @abstractmethod
    def _integral(self, x: FloatArray) -> FloatArray: ...

    @abstractmethod
    def expr(self, x: sp.Symbol = X) -> sp.Expr:
        """Return the cost as a sympy expression in ``x``."""

    @property
    def degree(self) -> float | None:
        """Polynomial degree (growth order) of the cost, or None if not polynomial."""
        return None

    @property
    def nondecreasing(self) -> bool:
        """Whether the cost is nondecreasing in the load (checked, not assumed)."""
        return True

    @property
    def shape(self) -> tuple[int, ...]:
        """Broadcast shape of the parameters (``()`` for one scalar cost)."""
        return ()

    @overload
    def __call__(self, x: float) -> float: ...
    @overload
    def __call__(self, x: ArrayLike) -> FloatArray | float: ...
    def __call__(self, x: ArrayLike) -> FloatArray | float:
        """Evaluate ``c(x)``."""
        return _out(self._value(_load(x)))

    def derivative(self, x: ArrayLike) -> FloatArray | float:
        """Evaluate ``c'(x)``."""
        return _out(self._derivative(_load(x)))

    def integral(self, x: ArrayLike) -> FloatArray | float:
        """Evaluate ``int_0^x c(t) dt`` (the Beckmann potential term)."""
        return _out(self._integral(_load(x)))

    def marginal(self, x: ArrayLike) -> FloatArray | float:
        """Evaluate the marginal social cost ``c(x) + x c'(x)``."""
        arr = _load(x)
        return _out(self._marginal(arr))

    def _marginal(self, x: FloatArray) -> FloatArray:
        d = self._derivative(x)
        # 0 * inf is taken as 0: at zero load the marginal cost is the cost itself.
        xd = np.where(x == 0, 0.0, x * np.where(np.isfinite(d), d, np.inf))
        return self._value(x) + xd

    def rosenthal(self, n: ArrayLike) -> FloatArray | float:
        """Rosenthal's potential term ``sum_{k=1}^{n} c(k)`` for integer loads ``n``."""
        arr = np.asarray(n)
        if arr.size and (np.any(arr < 0) or np.any(arr != np.round(arr))):
            raise GameError(f"Rosenthal potential needs nonnegative integer loads, got {n!r}")
        ints = arr.astype(np.int64)
        top = int(ints.max()) if ints.size else 0
        ks = np.arange(1, top + 1, dtype=np.float64)
        if self.shape:
            table = np.stack([self._value(np.full(self.shape, k)) for k in ks], axis=-1)
            cum = np.concatenate([np.zeros((*self.shape, 1)), np.cumsum(table, axis=-1)], -1)
            out = np.take_along_axis(cum, ints[..., None], axis=-1)[..., 0]
        else:
            cum = np.concatenate([[0.0], np.cumsum(self._value(ks))])
            out = cum[ints]
        return _out(np.asarray(out, dtype=np.float64))

    def __add__(self, other: CostFunction) -> SumCost:
        if not isinstance(other, CostFunction):
            return NotImplemented
        return SumCost([self, other])

    def _repr_latex_(self) -> str:
        return f"$c(x) = {sp.latex(self.expr())}$"


def _out(arr: FloatArray) -> FloatArray | float:
    return float(arr) if arr.ndim == 0 else arr


def _fmt(arr: FloatArray) -> str:
    return repr(float(arr)) if arr.ndim == 0 else repr(arr.tolist())


def _scalar_only(cost: CostFunction, what: str) -> None:
    if cost.shape:
        raise GameError(f"{what} is defined for one cost function, not a stack of {cost.shape}")


class SumCost(CostFunction):
    """The sum of several cost functions (for example a link cost plus a toll)."""

    def __init__(self, parts: Sequence[CostFunction]) -> None:
        flat: list[CostFunction] = []
        for p in parts:
            if not isinstance(p, CostFunction):
                raise GameError(f"SumCost parts must be cost functions, got {p!r}")
            flat.extend(p.parts if isinstance(p, SumCost) else [p])
        if not flat:
            raise GameError("SumCost needs at least one part")
        self.parts: list[CostFunction] = flat

    @property
    def family(self) -> str:
        fams = {p.family for p in self.parts}
        return fams.pop() if len(fams) == 1 else "general"

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(np.broadcast_shapes(*(p.shape for p in self.parts)))

    @property
    def degree(self) -> float | None:
        degs = [p.degree for p in self.parts]
        return None if any(d is None for d in degs) else max(d for d in degs if d is not None)

    @property
    def nondecreasing(self) -> bool:
        return all(p.nondecreasing for p in self.parts)

    def _value(self, x: FloatArray) -> FloatArray:
        return np.asarray(sum(p._value(x) for p in self.parts), dtype=np.float64)

    def _derivative(self, x: FloatArray) -> FloatArray:
        return np.asarray(sum(p._derivative(x) for p in self.parts), dtype=np.float64)

    def _integral(self, x: FloatArray) -> FloatArray:
        return np.asarray(sum(p._integral(x) for p in self.parts), dtype=np.float64)

    def _marginal(self, x: FloatArray) -> FloatArray:
        return np.asarray(sum(p._marginal(x) for p in self.parts), dtype=np.float64)

    def expr(self, x: sp.Symbol = X) -> sp.Expr:
        return sp.Add(*[p.expr(x) for p in self.parts])

    def __repr__(self) -> str:
        return " + ".join(repr(p) for p in self.parts)
