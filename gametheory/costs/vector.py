"""The costs of all resources of a game, stacked by family and evaluated together."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gametheory.costs.base import CostFunction, FloatArray, SumCost, _load
from gametheory.costs.delay import BPR, MM1
from gametheory.costs.polynomial import Constant, Polynomial
from gametheory.costs.sharing import Shared
from gametheory.errors import GameError

__all__ = ["CostVector", "as_cost"]


def as_cost(value: CostFunction | float | int) -> CostFunction:
    """Return ``value`` as a cost function (a number becomes a :class:`Constant`)."""
    if isinstance(value, CostFunction):
        return value
    if isinstance(value, (int, float, np.integer, np.floating)):
        return Constant(float(value))
    raise GameError(f"expected a CostFunction or a number, got {value!r}")


class CostVector:
    """The costs of ``m`` resources, evaluated together on a load vector of length ``m``.

    Scalar costs of the same kind are stacked into one vectorised cost (one NumPy call
    per family); sums of costs (a BPR link plus a constant toll, say) are split into their
    parts, stacked the same way and added back per resource; other costs are evaluated one
    by one.

    Parameters
    ----------
    costs
        One scalar cost function (or number) per resource.
    """

    def __init__(self, costs: Sequence[CostFunction | float | int]) -> None:
        self.costs = [as_cost(c) for c in costs]
        for i, c in enumerate(self.costs):
            if c.shape:
                raise GameError(f"cost {i} is a stack of shape {c.shape}; give one cost each")
        self.m = len(self.costs)
        parts: list[CostFunction] = []
        owner: list[int] = []
        for i, c in enumerate(self.costs):
            pieces = c.parts if isinstance(c, SumCost) else [c]
            parts.extend(pieces)
            owner.extend([i] * len(pieces))
        self._owner = np.asarray(owner, dtype=np.intp)
        self._split = len(parts) != self.m
        self._groups: list[tuple[NDArray[np.intp], CostFunction]] = []
        by_kind: dict[Any, list[int]] = {}
        for i, c in enumerate(parts):
            by_kind.setdefault(_stack_key(c), []).append(i)
        for key, idx in by_kind.items():
            members = [parts[i] for i in idx]
            stacked = _stack(key, members)
            if stacked is None:
                for i in idx:
                    self._groups.append((np.array([i], dtype=np.intp), parts[i]))
            else:
                self._groups.append((np.asarray(idx, dtype=np.intp), stacked))

    def __len__(self) -> int:
        return self.m

    def _apply(self, name: str, x: ArrayLike) -> FloatArray:
        xa = _load(x)
        if xa.shape != (self.m,):
            raise GameError(f"load vector must have shape ({self.m},), got {xa.shape}")
        xp = xa[self._owner] if self._split else xa
        out = np.empty(self._owner.size)
        for idx, cost in self._groups:
            out[idx] = getattr(cost, name)(xp[idx])
        if self._split:
            return np.asarray(np.bincount(self._owner, out, minlength=self.m), dtype=np.float64)
        return out

    def value(self, x: ArrayLike) -> FloatArray:
        """Costs ``c_e(x_e)`` of all resources."""
        return self._apply("_value", x)

    def derivative(self, x: ArrayLike) -> FloatArray:
        """Derivatives ``c_e'(x_e)``."""
        return self._apply("_derivative", x)

    def integral(self, x: ArrayLike) -> FloatArray:
        """Integrals ``int_0^{x_e} c_e``."""
        return self._apply("_integral", x)

    def marginal(self, x: ArrayLike) -> FloatArray:
        """Marginal costs ``c_e(x_e) + x_e c_e'(x_e)``."""
        return self._apply("_marginal", x)

    @property
    def families(self) -> set[str]:
        """The cost families present."""
        return {c.family for c in self.costs}

    @property
    def nondecreasing(self) -> bool:
        """Whether every cost is nondecreasing."""
        return all(c.nondecreasing for c in self.costs)


def _stack_key(c: CostFunction) -> Any:
    if isinstance(c, Polynomial):
        return (Polynomial,)
    if isinstance(c, (BPR, MM1, Shared)):
        return (type(c),)
    return ("single", id(c))


def _stack(key: Any, members: list[CostFunction]) -> CostFunction | None:
    kind = key[0]
    if kind == "single":
        return None
    if kind is Polynomial:
        polys = [m for m in members if isinstance(m, Polynomial)]
        width = max(p.coefficients.shape[-1] for p in polys)
        table = np.zeros((len(polys), width))
        for i, p in enumerate(polys):
            table[i, : p.coefficients.shape[-1]] = p.coefficients
        return Polynomial(table)
    if kind is BPR:
        bprs = [m for m in members if isinstance(m, BPR)]
        return BPR(
            [float(b.t0) for b in bprs],
            [float(b.capacity) for b in bprs],
            [float(b.alpha) for b in bprs],
            [float(b.beta) for b in bprs],
        )
    if kind is MM1:
        return MM1([float(m.capacity) for m in members if isinstance(m, MM1)])
    if kind is Shared:
        return Shared([float(m.total) for m in members if isinstance(m, Shared)])
    return None
