"""Cost curves through measured points, interpolated monotonically (PCHIP)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np
import sympy as sp
from numpy.typing import ArrayLike

from gametheory._lazy import lazy_module
from gametheory.costs.base import CostFunction, FloatArray, X, _param
from gametheory.errors import GameError

if TYPE_CHECKING:
    from scipy import interpolate
else:
    interpolate = lazy_module("scipy.interpolate")  # 0.2 s to import; only tables need it

__all__ = ["Tabulated"]


class Tabulated(CostFunction):
    """A cost curve through measured points, interpolated monotonically.

    Between the points the curve is the shape-preserving PCHIP interpolant (Fritsch and
    Carlson 1980), so a nondecreasing table gives a nondecreasing cost; beyond the last
    point it continues linearly with the end slope, and before the first point (if it is
    above 0) it continues at the first value. Use it for latency curves fitted from
    telemetry.

    Parameters
    ----------
    xs
        Strictly increasing loads (at least two).
    ys
        Costs at those loads, nonnegative and finite.
    """

    _family: ClassVar[str] = "tabulated"

    def __init__(self, xs: ArrayLike, ys: ArrayLike) -> None:
        xa = _param(xs, "xs")
        ya = _param(ys, "ys")
        if xa.ndim != 1 or ya.shape != xa.shape or xa.size < 2:
            raise GameError("Tabulated needs two 1-D arrays of equal length >= 2 (xs, ys)")
        if np.any(np.diff(xa) <= 0):
            raise GameError("Tabulated xs must be strictly increasing")
        self.xs, self.ys = xa, ya
        self._pchip = interpolate.PchipInterpolator(xa, ya, extrapolate=False)
        self._dpchip = self._pchip.derivative()
        self._ipchip = self._pchip.antiderivative()
        self._end_slope = float(self._dpchip(xa[-1]))

    @property
    def nondecreasing(self) -> bool:
        return bool(np.all(np.diff(self.ys) >= 0))

    def _value(self, x: FloatArray) -> FloatArray:
        lo, hi = self.xs[0], self.xs[-1]
        inside = np.clip(x, lo, hi)
        v = np.asarray(self._pchip(inside), dtype=np.float64)
        return np.asarray(np.where(x > hi, self.ys[-1] + self._end_slope * (x - hi), v))

    def _derivative(self, x: FloatArray) -> FloatArray:
        lo, hi = self.xs[0], self.xs[-1]
        d = np.asarray(self._dpchip(np.clip(x, lo, hi)), dtype=np.float64)
        return np.asarray(np.where(x > hi, self._end_slope, np.where(x < lo, 0.0, d)))

    def _integral(self, x: FloatArray) -> FloatArray:
        lo, hi = self.xs[0], self.xs[-1]
        below = self.ys[0] * np.minimum(x, lo)
        mid = np.asarray(self._ipchip(np.clip(x, lo, hi)), dtype=np.float64)
        ext = np.maximum(x - hi, 0.0)
        above = self.ys[-1] * ext + 0.5 * self._end_slope * ext**2
        return np.asarray(below + mid + above, dtype=np.float64)

    def expr(self, x: sp.Symbol = X) -> sp.Expr:
        return sp.Function("c_tab")(x)

    def __repr__(self) -> str:
        return f"Tabulated(n_points={self.xs.size}, x=[{self.xs[0]:g}, {self.xs[-1]:g}])"
