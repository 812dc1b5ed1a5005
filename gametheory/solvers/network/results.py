"""Results of the network-routing solvers: link flows of an equilibrium or optimum, and
marginal-cost tolls.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gametheory.results import Result

__all__ = ["FlowResult", "TollResult"]


FloatArray = NDArray[np.float64]


@dataclass(frozen=True, repr=False)
class FlowResult(Result):
    """A nonatomic flow: a Wardrop equilibrium or a system optimum.

    Attributes
    ----------
    link_flows
        Flow on each edge, in the game's edge order.
    link_costs
        Cost ``c_e(x_e)`` of each edge at those flows.
    total_cost
        Total latency ``sum_e x_e c_e(x_e)``.
    beckmann
        Beckmann potential ``sum_e int_0^{x_e} c_e`` at the flows.
    relative_gap
        ``(sum t.x - sum t.x_AoN) / sum t.x`` with ``t`` the costs the flow was solved for
        (the latencies for an equilibrium, the marginal costs for an optimum).
    iterations
        Iterations taken.
    converged
        Whether the requested gap was reached.
    method
        Algorithm name (``"bfw"``, ``"cfw"``, ``"fw"``, ``"msa"``, ``"convex"``).
    objective
        ``"equilibrium"`` or ``"optimum"``.
    gap_history
        Relative gap after each iteration.
    path_flows
        Flow on each used path, as ``{(origin, destination): {path: flow}}``, when the
        method tracks paths (None otherwise).
    """

    link_flows: FloatArray
    link_costs: FloatArray
    total_cost: float
    beckmann: float
    relative_gap: float
    iterations: int
    converged: bool
    method: str
    objective: str = "equilibrium"
    gap_history: FloatArray = field(default_factory=lambda: np.zeros(0))
    path_flows: dict[tuple[Any, Any], dict[tuple[Any, ...], float]] | None = None


@dataclass(frozen=True, repr=False)
class TollResult(Result):
    """Marginal-cost tolls of a nonatomic routing game and the check that they work.

    Attributes
    ----------
    tolls
        Toll ``x*_e c_e'(x*_e)`` of each edge at the system optimum ``x*``.
    equilibrium_flows, tolled_flows, optimum_flows
        Edge flows of the untolled Wardrop equilibrium, of the tolled one, and of the
        system optimum.
    equilibrium_cost, tolled_cost, optimum_cost
        Total latency ``sum_e x_e c_e(x_e)`` (tolls excluded) of the three flows.
    restores_optimum
        Whether the tolled equilibrium's total latency equals the optimum's (relative
        tolerance ``tolerance``).
    max_flow_error
        Largest edge-flow difference between the tolled equilibrium and the optimum.
    tolerance
        Relative tolerance of ``restores_optimum``.
    converged
        Whether all three flow computations reached their relative gap.
    iterations
        Total iterations of the three computations.
    method
        The flow algorithm.
    """

    tolls: FloatArray
    equilibrium_flows: FloatArray
    tolled_flows: FloatArray
    optimum_flows: FloatArray
    equilibrium_cost: float
    tolled_cost: float
    optimum_cost: float
    restores_optimum: bool
    max_flow_error: float
    tolerance: float
    converged: bool
    iterations: int
    method: str
