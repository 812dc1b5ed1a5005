"""Polynomial costs with nonnegative coefficients, and their constant and affine cases."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import sympy as sp
from numpy.typing import ArrayLike

from gametheory.costs.base import CostFunction, FloatArray, X, _fmt, _param, _scalar_only
from gametheory.errors import GameError

__all__ = ["Affine", "Constant", "Polynomial"]


class Polynomial(CostFunction):
    """Polynomial cost ``c(x) = sum_j a_j x^j`` with nonnegative coefficients.

    Parameters
    ----------
    coefficients
        ``[a_0, a_1, ..., a_d]`` (constant term first). A 2-D array stacks several
        polynomials (one per row) that evaluate elementwise.
    """

    _family: ClassVar[str] = "polynomial"

    def __init__(self, coefficients: ArrayLike) -> None:
        coeffs = _param(coefficients, "coefficients")
        if coeffs.ndim == 0 or coeffs.shape[-1] == 0:
            raise GameError("Polynomial needs at least one coefficient")
        self.coefficients = coeffs

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.coefficients.shape[:-1])

    @property
    def degree(self) -> float:
        nz = np.nonzero(np.any(self.coefficients.reshape(-1, self.coefficients.shape[-1]), 0))
        return float(nz[0].max()) if nz[0].size else 0.0

    def _horner(self, coeffs: FloatArray, x: FloatArray) -> FloatArray:
        out = np.broadcast_to(coeffs[..., -1], np.broadcast_shapes(coeffs.shape[:-1], x.shape))
        out = np.array(out, dtype=np.float64)
        for j in range(coeffs.shape[-1] - 2, -1, -1):
            out = out * x + coeffs[..., j]
        return out

    def _value(self, x: FloatArray) -> FloatArray:
        return self._horner(self.coefficients, x)

    def _derivative(self, x: FloatArray) -> FloatArray:
        d = self.coefficients.shape[-1]
        if d == 1:
            return np.zeros(np.broadcast_shapes(self.shape, x.shape))
        dc = self.coefficients[..., 1:] * np.arange(1, d, dtype=np.float64)
        return self._horner(dc, x)

    def _integral(self, x: FloatArray) -> FloatArray:
        d = self.coefficients.shape[-1]
        ic = self.coefficients / np.arange(1, d + 1, dtype=np.float64)
        zero = np.zeros((*self.shape, 1))
        return self._horner(np.concatenate([zero, ic], axis=-1), x)

    def expr(self, x: sp.Symbol = X) -> sp.Expr:
        _scalar_only(self, "expr")
        return sp.Add(*[sp.nsimplify(a) * x**j for j, a in enumerate(self.coefficients)])

    def __repr__(self) -> str:
        return f"Polynomial({self.coefficients.tolist()!r})"


class Constant(Polynomial):
    """Constant cost ``c(x) = value``."""

    _family: ClassVar[str] = "polynomial"

    def __init__(self, value: ArrayLike) -> None:
        v = _param(value, "value")
        super().__init__(v[..., None])

    def __repr__(self) -> str:
        return f"Constant({_fmt(self.coefficients[..., 0])})"


class Affine(Polynomial):
    """Affine cost ``c(x) = a + b x`` with ``a, b >= 0``."""

    def __init__(self, a: ArrayLike, b: ArrayLike) -> None:
        aa, bb = np.broadcast_arrays(_param(a, "a"), _param(b, "b"))
        super().__init__(np.stack([aa, bb], axis=-1))

    def __repr__(self) -> str:
        return f"Affine(a={_fmt(self.coefficients[..., 0])}, b={_fmt(self.coefficients[..., 1])})"
