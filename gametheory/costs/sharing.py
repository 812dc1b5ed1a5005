"""Fair cost sharing: a fixed total cost split equally among the users of a resource."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import sympy as sp
from numpy.typing import ArrayLike

from gametheory.costs.base import CostFunction, FloatArray, X, _fmt, _param, _scalar_only
from gametheory.errors import GameError

__all__ = ["Shared"]


class Shared(CostFunction):
    """Fair cost sharing ``c(k) = total / k``: each of ``k`` users pays an equal share.

    Non-increasing (Anshelevich et al., SICOMP 38(4) 2008). Defined for atomic games
    (``k >= 1``); ``c(0)`` is taken as ``total`` (the price of being the first user). It
    has no integral from 0, so it cannot serve as a nonatomic (Wardrop) cost.
    """

    _family: ClassVar[str] = "shared"

    def __init__(self, total: ArrayLike) -> None:
        self.total = _param(total, "total")

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.total.shape)

    @property
    def nondecreasing(self) -> bool:
        return bool(np.all(self.total == 0))

    def _value(self, x: FloatArray) -> FloatArray:
        return np.asarray(self.total / np.maximum(x, 1.0), dtype=np.float64)

    def _derivative(self, x: FloatArray) -> FloatArray:
        return np.asarray(np.where(x > 1, -self.total / np.maximum(x, 1.0) ** 2, 0.0))

    def _integral(self, x: FloatArray) -> FloatArray:
        raise GameError("Shared (fair cost sharing) has no integral from 0: it is an atomic cost")

    def _marginal(self, x: FloatArray) -> FloatArray:
        # The total cost k * c(k) = total is flat in k >= 1.
        return np.asarray(np.where(x >= 1, 0.0, self.total), dtype=np.float64)

    def expr(self, x: sp.Symbol = X) -> sp.Expr:
        _scalar_only(self, "expr")
        return sp.nsimplify(float(self.total)) / x

    def __repr__(self) -> str:
        return f"Shared(total={_fmt(self.total)})"
