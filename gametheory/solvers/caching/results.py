"""Results of the caching solvers: placements, equilibrium sets, the cache paradox and KV-
tier placements.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from gametheory.results import Result

__all__ = ["CacheParadoxResult", "CachingEquilibriaResult", "KVPlacementResult", "PlacementResult"]


FloatArray = NDArray[np.float64]


@dataclass(frozen=True, repr=False)
class PlacementResult(Result):
    """A replica placement of a selfish caching game: an equilibrium or an optimum.

    Attributes
    ----------
    placement
        Boolean matrix ``(n_nodes, n_objects)``: which node holds which object.
    social_cost
        Sum of all nodes' costs at ``placement``.
    object_costs
        Social cost of each object's subgame.
    is_equilibrium
        Whether ``placement`` passes the exact equilibrium test (Chun et al. 2004).
    max_regret
        Largest cost decrease any node gets by changing its own replicas alone.
    objective
        ``"equilibrium"``, ``"worst equilibrium"``, ``"best equilibrium"`` or ``"optimum"``.
    method
        The algorithm (``"greedy"``, ``"best-response"``, ``"enumeration"``, ``"milp"``).
    converged
        Whether the method reached its goal (dynamics: no node wants to move).
    iterations
        Node moves of the dynamics, or MILPs / subsets examined.
    exact
        Whether the objective is proven (worst/best/optimal over all placements).
    status
        Solver status text (MILPs), empty otherwise.
    cycle
        Whether the dynamics revisited a placement.
    """

    placement: NDArray[np.bool_]
    social_cost: float
    object_costs: FloatArray
    is_equilibrium: bool
    max_regret: float
    objective: str
    method: str
    converged: bool = True
    iterations: int = 0
    exact: bool = False
    status: str = ""
    cycle: bool = False


@dataclass(frozen=True, repr=False)
class CachingEquilibriaResult(Result):
    """All pure equilibria of a selfish caching game, object by object (enumeration).

    Attributes
    ----------
    equilibria
        For each object, a boolean array ``(k_o, n_nodes)`` of its equilibrium replica sets.
    equilibrium_costs
        For each object, the social cost of each of those sets.
    n_equilibria
        Number of equilibria of the whole game (the product of the ``k_o``).
    worst, best
        The worst and the best equilibrium placement of the whole game.
    method
        ``"enumeration"``.
    """

    equilibria: tuple[NDArray[np.bool_], ...]
    equilibrium_costs: tuple[FloatArray, ...]
    n_equilibria: int
    worst: PlacementResult
    best: PlacementResult
    method: str = "enumeration"


@dataclass(frozen=True, repr=False)
class CacheParadoxResult(Result):
    """Whether adding cache nodes made the selfish caching equilibrium worse.

    Attributes
    ----------
    paradox
        True when the best equilibrium after the addition costs the original nodes more
        than the worst equilibrium before it.
    before_worst_cost, before_best_cost, before_optimum_cost
        Worst and best equilibrium and optimal social cost before the addition.
    after_worst_cost, after_best_cost, after_optimum_cost
        The same after the addition (all nodes).
    after_best_cost_original_nodes
        The least cost the original nodes bear in any equilibrium after the addition.
    added_nodes
        Indices of the added nodes in the larger game.
    method
        How the equilibria were found.
    """

    paradox: bool
    before_worst_cost: float
    before_best_cost: float
    before_optimum_cost: float
    after_worst_cost: float
    after_best_cost: float
    after_optimum_cost: float
    after_best_cost_original_nodes: float
    added_nodes: tuple[int, ...]
    method: str


@dataclass(frozen=True, repr=False)
class KVPlacementResult(Result):
    """A placement of KV blocks in the tiers of a hierarchical cache.

    Attributes
    ----------
    tiers
        Integer matrix ``(n_workers, n_blocks)``: the tier index each worker keeps each
        block in, ``-1`` when it keeps none.
    social_cost
        Total access cost per unit time (seconds of fetch or recompute per second).
    worker_costs
        Each worker's access cost.
    objective
        ``"equilibrium"`` or ``"optimum"``.
    method
        The algorithm (``"best-response"``, ``"milp"``).
    best_response
        The best-response oracle: ``"exact-dp"``, ``"greedy-density"`` or ``"mixed"``
        (empty for an optimum).
    converged
        Dynamics: no worker improved in a full round. MILP: solved to optimality.
    iterations
        Improving moves of the dynamics (1 for a MILP).
    rounds
        Full rounds over the workers.
    max_regret
        Largest improvement any worker's best-response oracle still finds.
    regret_exact
        Whether ``max_regret`` was computed with exact best responses only.
    exact
        Whether an optimum is proven optimal.
    lower_bound
        Proven lower bound on the optimal social cost (MILP), None otherwise.
    status
        Solver status text, empty otherwise.
    cycle
        Whether the dynamics revisited a placement.
    """

    tiers: NDArray[np.int8]
    social_cost: float
    worker_costs: FloatArray
    objective: str
    method: str
    best_response: str
    converged: bool
    iterations: int
    rounds: int
    max_regret: float
    regret_exact: bool
    exact: bool = False
    lower_bound: float | None = None
    status: str = ""
    cycle: bool = False
