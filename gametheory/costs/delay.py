"""Congestion delays of road links and servers: the BPR link cost and the M/M/1 queue.

References
----------
Bureau of Public Roads (1964). Traffic Assignment Manual.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import sympy as sp
from numpy.typing import ArrayLike

from gametheory.costs.base import CostFunction, FloatArray, X, _fmt, _param, _scalar_only

__all__ = ["BPR", "MM1"]


class BPR(CostFunction):
    """Bureau of Public Roads link cost ``t0 (1 + alpha (x / capacity)^beta)``.

    Parameters
    ----------
    t0
        Free-flow travel time (nonnegative).
    capacity
        Practical capacity (positive).
    alpha, beta
        BPR coefficients, 0.15 and 4 by default (Bureau of Public Roads 1964).
    """

    _family: ClassVar[str] = "bpr"

    def __init__(
        self, t0: ArrayLike, capacity: ArrayLike, alpha: ArrayLike = 0.15, beta: ArrayLike = 4.0
    ) -> None:
        params: tuple[FloatArray, ...] = (
            _param(t0, "t0"),
            _param(capacity, "capacity", positive=True),
            _param(alpha, "alpha"),
            _param(beta, "beta"),
        )
        if any(p.ndim for p in params):
            params = tuple(np.asarray(p, dtype=np.float64) for p in np.broadcast_arrays(*params))
        self.t0, self.capacity, self.alpha, self.beta = params

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.t0.shape)

    @property
    def degree(self) -> float:
        return float(np.max(self.beta))

    def _value(self, x: FloatArray) -> FloatArray:
        return np.asarray(
            self.t0 * (1.0 + self.alpha * (x / self.capacity) ** self.beta), dtype=np.float64
        )

    def _derivative(self, x: FloatArray) -> FloatArray:
        r = x / self.capacity
        with np.errstate(divide="ignore", invalid="ignore"):
            pw = np.where(self.beta == 0, 0.0, r ** np.maximum(self.beta - 1.0, 0.0))
        return np.asarray(self.t0 * self.alpha * self.beta * pw / self.capacity, dtype=np.float64)

    def _integral(self, x: FloatArray) -> FloatArray:
        r = x / self.capacity
        return np.asarray(
            self.t0 * (x + self.alpha * self.capacity * r ** (self.beta + 1) / (self.beta + 1)),
            dtype=np.float64,
        )

    def expr(self, x: sp.Symbol = X) -> sp.Expr:
        _scalar_only(self, "expr")
        params = (self.t0, self.capacity, self.alpha, self.beta)
        t0, cap, a, b = (sp.nsimplify(float(v)) for v in params)
        return t0 * (1 + a * (x / cap) ** b)

    def __repr__(self) -> str:
        return (
            f"BPR(t0={_fmt(self.t0)}, capacity={_fmt(self.capacity)}, "
            f"alpha={_fmt(self.alpha)}, beta={_fmt(self.beta)})"
        )


class MM1(CostFunction):
    """M/M/1 sojourn time ``1 / (capacity - x)`` of a server of service rate ``capacity``.

    At or beyond capacity the queue is unstable and the cost is ``+inf`` (never negative).
    """

    _family: ClassVar[str] = "mm1"

    def __init__(self, capacity: ArrayLike) -> None:
        self.capacity = _param(capacity, "capacity", positive=True)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.capacity.shape)

    def _slack(self, x: FloatArray) -> FloatArray:
        return np.asarray(self.capacity - x, dtype=np.float64)

    def _value(self, x: FloatArray) -> FloatArray:
        s = self._slack(x)
        with np.errstate(divide="ignore"):
            return np.where(s > 0, 1.0 / np.where(s > 0, s, 1.0), np.inf)

    def _derivative(self, x: FloatArray) -> FloatArray:
        s = self._slack(x)
        return np.where(s > 0, 1.0 / np.where(s > 0, s, 1.0) ** 2, np.inf)

    def _integral(self, x: FloatArray) -> FloatArray:
        s = self._slack(x)
        return np.where(s > 0, np.log(self.capacity / np.where(s > 0, s, 1.0)), np.inf)

    def expr(self, x: sp.Symbol = X) -> sp.Expr:
        _scalar_only(self, "expr")
        return 1 / (sp.nsimplify(float(self.capacity)) - x)

    def __repr__(self) -> str:
        return f"MM1(capacity={_fmt(self.capacity)})"
