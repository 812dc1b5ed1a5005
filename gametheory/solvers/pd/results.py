"""Results of the prefill/decode resource-game solvers: continuous equilibria, concavity
checks, allocations, optima, equilibrium sets and PoA curves.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from gametheory.results import OptimumResult, Result

__all__ = [
    "AllocationResult",
    "ConcavityCheckResult",
    "ContinuousEquilibriumResult",
    "GeneralizedEquilibriumSetResult",
    "ResourceOptimumResult",
    "ResourcePoACurveResult",
]


FloatArray = NDArray[np.float64]


@dataclass(frozen=True, repr=False)
class ContinuousEquilibriumResult(Result):
    """A normalized (Rosen) or variational equilibrium of a continuous game.

    Attributes
    ----------
    x
        Action of each player.
    costs
        Cost of each player at ``x``.
    weights
        Rosen's weights ``r`` (all ones for the variational equilibrium).
    shared_multipliers
        ``lambda_0``, one per shared constraint; player ``i``'s multiplier is
        ``lambda_0 / r_i`` (see :attr:`player_multipliers`).
    residual
        Natural residual ``||x - P_X(x - F_r(x))||`` (0 exactly at the equilibrium).
    converged
        Whether the residual reached the requested tolerance.
    iterations
        Iterations (extragradient) or function evaluations (KKT solver).
    method
        The algorithm used.
    """

    x: FloatArray
    costs: FloatArray
    weights: FloatArray
    shared_multipliers: FloatArray
    residual: float
    converged: bool
    iterations: int
    method: str

    @property
    def player_multipliers(self) -> FloatArray:
        """Multiplier of each player (rows) on each shared constraint (columns)."""
        return np.asarray(
            self.shared_multipliers[None, :] / self.weights[:, None], dtype=np.float64
        )


@dataclass(frozen=True, repr=False)
class ConcavityCheckResult(Result):
    """Numerical check of Rosen's diagonal strict concavity (his theorem 6).

    Attributes
    ----------
    holds
        Whether ``J_r + J_r^T`` was positive definite at every sampled point (cost form of
        ``G + G^T`` negative definite), so the normalized equilibrium is unique if the
        condition holds on the whole feasible set.
    min_eigenvalue
        Least eigenvalue of ``(J_r + J_r^T) / 2`` over the sampled points.
    worst_point
        Where that eigenvalue was found.
    n_points
        Number of feasible points checked.
    weights
        Rosen's weights ``r``.
    method
        How the points were chosen.
    """

    holds: bool
    min_eigenvalue: float
    worst_point: FloatArray
    n_points: int
    weights: FloatArray
    method: str


@dataclass(frozen=True, repr=False)
class AllocationResult(Result):
    """A split of a GPU budget between the prefill and decode pools, and its latencies.

    Attributes
    ----------
    concept
        The solution concept or mechanism that produced the split.
    allocation
        Instances of (prefill, decode).
    relaxed
        The continuous allocation behind it (equal to ``allocation`` when there is none).
    ttft, itl
        Mean time to first token and inter-token latency (s); ``inf`` when a pool is
        unstable.
    player_costs
        Each pool's share of the social cost.
    social_cost
        The social cost (``inf`` when a pool is unstable).
    optimum_cost
        The optimal social cost over integer allocations.
    ratio
        ``social_cost / optimum_cost`` (>= 1; ``inf`` when the split is unstable).
    converged
        Whether the underlying computation converged.
    iterations
        Iterations of the underlying computation (0 for closed forms).
    method
        The algorithm used.
    details
        Concept-specific figures (prices, bids, targets, spare instances, ...).
    """

    concept: str
    allocation: NDArray[np.int64]
    relaxed: FloatArray
    ttft: float
    itl: float
    player_costs: FloatArray
    social_cost: float
    optimum_cost: float
    ratio: float
    converged: bool
    iterations: int
    method: str
    details: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, repr=False)
class ResourceOptimumResult(OptimumResult):
    """The social optimum of a GPU-budget game: continuous relaxation, then integers.

    Attributes
    ----------
    relaxed_allocation
        Optimal continuous allocation (instances per pool).
    relaxed_cost
        Social cost at ``relaxed_allocation``; ``lower_bound`` is the certified bound from
        the cutting planes, ``<= relaxed_cost <= social_cost``.
    cuts
        Cutting planes used for the relaxation.
    iterations
        Cutting-plane rounds.
    converged
        Whether the relaxation gap closed to the requested tolerance.
    """

    relaxed_allocation: FloatArray = field(default_factory=lambda: np.zeros(0))
    relaxed_cost: float = float("inf")
    cuts: int = 0
    iterations: int = 0
    converged: bool = True


@dataclass(frozen=True, repr=False)
class GeneralizedEquilibriumSetResult(Result):
    """All generalized Nash equilibria of the integer GPU-budget game.

    Attributes
    ----------
    allocations
        Every equilibrium allocation, one row of (prefill, decode) instances each.
    social_costs
        Social cost of each.
    worst, best
        Equilibria of largest and smallest social cost.
    worst_cost, best_cost, optimum_cost
        Their costs and the optimal cost.
    poa, pos
        ``worst_cost / optimum_cost`` and ``best_cost / optimum_cost``.
    on_budget_line
        Whether every equilibrium uses the whole budget.
    characterisation
        The equilibrium set in words.
    method
        How it was computed.
    """

    allocations: NDArray[np.int64]
    social_costs: FloatArray
    worst: NDArray[np.int64]
    best: NDArray[np.int64]
    worst_cost: float
    best_cost: float
    optimum_cost: float
    poa: float
    pos: float
    on_budget_line: bool
    characterisation: str
    method: str


@dataclass(frozen=True, repr=False)
class ResourcePoACurveResult(Result):
    """Price of Anarchy of several solution concepts against the offered load.

    Attributes
    ----------
    loads
        Offered loads (requests per second).
    capacity
        Largest load the whole budget can serve (the best split's capacity).
    ratios
        For each concept, ``social cost / optimum`` at each load (``inf`` when the concept's
        allocation is unstable at that load).
    optimum_cost
        Optimal social cost at each load.
    social_cost
        Name of the social cost.
    method
        How each point was computed.
    """

    loads: FloatArray
    capacity: float
    ratios: dict[str, FloatArray]
    optimum_cost: FloatArray
    social_cost: str
    method: str
