"""Cost (latency) functions of resources, links and servers.

Every cost function ``c`` is vectorised over its argument (the load ``x``: a flow for
nonatomic games, a number of users for atomic ones) and knows

* its value ``c(x)``, its ``derivative`` ``c'(x)`` and its ``integral`` from 0 (the
  Beckmann potential term of nonatomic routing, Beckmann, McGuire and Winsten 1956);
* its ``marginal`` cost ``c(x) + x c'(x)`` (the cost whose Wardrop equilibrium is the
  system optimum), and its ``rosenthal`` potential term ``sum_{k=1}^n c(k)``
  (Rosenthal 1973) for atomic games;
* a sympy expression (``expr``) and the cost ``family`` and ``degree`` used by the
  Price-of-Anarchy bounds.

Parameters may be arrays: ``BPR(t0=[1, 2], capacity=[10, 20])`` is two link costs that
evaluate elementwise on a vector of two flows. :class:`CostVector` gathers the costs of
all edges of a network into groups of one family, so that a whole flow vector is
evaluated with a few NumPy calls.

References
----------
Roughgarden, T. (2003). The price of anarchy is independent of the network topology.
JCSS 67(2). Bureau of Public Roads (1964). Traffic Assignment Manual.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar, overload

import numpy as np
import sympy as sp
from numpy.typing import ArrayLike, NDArray
from scipy.interpolate import PchipInterpolator

from gametheory.errors import GameError

__all__ = [
    "BPR",
    "MM1",
    "Affine",
    "Constant",
    "CostFunction",
    "CostVector",
    "Polynomial",
    "Shared",
    "SumCost",
    "Tabulated",
    "as_cost",
]

FloatArray = NDArray[np.float64]
X = sp.Symbol("x", nonnegative=True)


def _param(value: ArrayLike, name: str, *, positive: bool = False) -> FloatArray:
    """Validate a parameter: finite, nonnegative (or positive), as a float array."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise GameError(f"parameter {name!r} must be numeric, got {value!r}") from exc
    if not np.all(np.isfinite(arr)):
        raise GameError(f"parameter {name!r} must be finite, got {value!r}")
    if positive and np.any(arr <= 0):
        raise GameError(f"parameter {name!r} must be positive, got {value!r}")
    if np.any(arr < 0):
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


def _fmt(arr: FloatArray) -> str:
    return repr(float(arr)) if arr.ndim == 0 else repr(arr.tolist())


def _scalar_only(cost: CostFunction, what: str) -> None:
    if cost.shape:
        raise GameError(f"{what} is defined for one cost function, not a stack of {cost.shape}")


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
        self.t0, self.capacity, self.alpha, self.beta = np.broadcast_arrays(
            _param(t0, "t0"),
            _param(capacity, "capacity", positive=True),
            _param(alpha, "alpha"),
            _param(beta, "beta"),
        )

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
        self._pchip = PchipInterpolator(xa, ya, extrapolate=False)
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
