"""Frozen result objects returned by the solvers.

Every solver returns one of these dataclasses (never a bare tuple): the answer, whether
the method converged, how many iterations it took, a certificate of quality (maximum
regret, relative gap, solver status) and the method used. They render as tables in
Jupyter (``_repr_html_``) and as short text elsewhere.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["EquilibriumResult", "OptimumResult", "PoAResult", "Result", "ratio"]


FloatArray = NDArray[np.float64]


def _short(value: Any) -> str:
    """A one-line rendering of a field value for reprs."""
    if isinstance(value, np.ndarray):
        if value.size <= 8:
            return np.array2string(value, precision=6, separator=", ")
        return f"array(shape={value.shape}, min={value.min():.6g}, max={value.max():.6g})"
    if isinstance(value, float):
        return f"{value:.10g}"
    if isinstance(value, (list, tuple)) and len(value) > 8:
        return f"{type(value).__name__}(len={len(value)})"
    if isinstance(value, Result):
        return f"{type(value).__name__}(...)"
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def ratio(cost: float, optimum: float) -> float:
    """``cost / optimum`` with the conventions ``0/0 = 1`` and ``c/0 = inf`` for c > 0."""
    if optimum == 0:
        return 1.0 if cost == 0 else math.inf
    return cost / optimum


@dataclass(frozen=True)
class Result:
    """Base of all results: text and HTML renderings of the fields."""

    def _rows(self) -> list[tuple[str, str]]:
        return [(f.name, _short(getattr(self, f.name))) for f in fields(self) if f.repr]

    def __str__(self) -> str:
        width = max((len(k) for k, _ in self._rows()), default=0)
        lines = [type(self).__name__]
        lines += [f"  {k.ljust(width)} : {v}" for k, v in self._rows()]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
            f"<td style='text-align:left'>{html.escape(v)}</td></tr>"
            for k, v in self._rows()
        )
        return f"<table><caption>{type(self).__name__}</caption>{rows}</table>"


@dataclass(frozen=True, repr=False)
class EquilibriumResult(Result):
    """The outcome of equilibrium dynamics on a finite game.

    Attributes
    ----------
    profile
        Strategy index of each player.
    costs
        Cost of each player at ``profile``.
    social_cost
        Sum of the players' costs.
    converged
        Whether the dynamics stopped at a pure Nash equilibrium.
    iterations
        Number of improving moves made.
    max_regret
        Largest cost decrease any player could get by deviating alone (0 at an equilibrium).
    potential_history
        Potential after each move (empty when the game has no potential).
    cycle
        Whether the dynamics revisited a profile (a best-response cycle), so that no
        equilibrium is reachable by these dynamics from this start.
    method
        The dynamics used.
    """

    profile: NDArray[np.int64]
    costs: FloatArray
    social_cost: float
    converged: bool
    iterations: int
    max_regret: float
    potential_history: FloatArray = field(default_factory=lambda: np.zeros(0))
    cycle: bool = False
    method: str = ""


@dataclass(frozen=True, repr=False)
class OptimumResult(Result):
    """A social optimum.

    Attributes
    ----------
    social_cost
        The optimal (or best found) social cost.
    profile
        An optimal profile (strategy index per player) for finite games, else None.
    exact
        Whether optimality is proven (exhaustive search, or a MILP solved to zero gap).
    lower_bound
        A proven lower bound on the optimum (equals ``social_cost`` when exact).
    status
        Solver status text.
    method
        The algorithm used.
    """

    social_cost: float
    profile: NDArray[np.int64] | None
    exact: bool
    lower_bound: float
    status: str = "optimal"
    method: str = ""

    @property
    def gap(self) -> float:
        """Relative optimality gap ``(cost - lower_bound) / cost``."""
        if self.social_cost == 0:
            return 0.0
        return (self.social_cost - self.lower_bound) / abs(self.social_cost)


@dataclass(frozen=True, repr=False)
class PoAResult(Result):
    """Price of Anarchy and Price of Stability of a game.

    Attributes
    ----------
    poa
        Worst equilibrium cost divided by the optimal cost (>= 1).
    pos
        Best equilibrium cost divided by the optimal cost (>= 1).
    worst_cost, best_cost, optimum_cost
        The three social costs behind the ratios.
    worst_equilibrium, best_equilibrium
        The equilibria attaining them (profiles, flows or result objects).
    optimum
        The optimum (a profile, a flow or a result object).
    exact
        Whether the ratios are exact (all equilibria enumerated and the optimum proven);
        otherwise the PoA is a lower bound and the PoS an upper bound.
    method
        How the equilibria and optimum were found.
    n_equilibria
        Number of equilibria found (None for nonatomic games).
    """

    poa: float
    pos: float
    worst_cost: float
    best_cost: float
    optimum_cost: float
    worst_equilibrium: Any
    best_equilibrium: Any
    optimum: Any
    exact: bool
    method: str
    n_equilibria: int | None = None
