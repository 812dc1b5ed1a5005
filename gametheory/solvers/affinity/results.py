"""Results of the affinity-routing solvers: router outcomes, their PoA, PoA curves against
load and the omega switch read as a toll.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gametheory.results import Result

__all__ = ["OmegaTollResult", "OutcomePoAResult", "PoACurveResult", "RouterOutcome"]


FloatArray = NDArray[np.float64]


@dataclass(frozen=True, repr=False)
class RouterOutcome(Result):
    """The assignment a routing mechanism produces on an affinity routing game.

    Attributes
    ----------
    assignment
        Worker chosen for each request.
    costs
        Each request's cost in the game at the final assignment.
    social_cost
        Sum of the requests' costs.
    decisions
        A ``pandas.DataFrame`` with one row per decision and candidate worker, with the
        columns and dtypes of the telemetry ``decisions`` schema (``decision``,
        ``request_id``, ``worker``, ``cost`` -- the router's cost of that candidate at
        decision time -- ``prefill_weight``, ``prefill_blocks``, ``prefill_cost``,
        ``decode_blocks``, ``cached_blocks``, ``chosen``; ``time`` and ``source`` missing).
    max_regret
        Largest saving a request could get by moving alone at the final assignment (0 when
        the outcome is a pure Nash equilibrium of the game).
    iterations
        Number of routing decisions made.
    converged
        Whether every request got a finite cost.
    method
        The router and its parameters.
    """

    assignment: NDArray[np.int64]
    costs: FloatArray
    social_cost: float
    decisions: Any
    max_regret: float
    iterations: int
    converged: bool
    method: str

    def _rows(self) -> list[tuple[str, str]]:
        rows = super()._rows()
        shape = getattr(self.decisions, "shape", None)
        text = f"DataFrame({shape[0]} rows x {shape[1]} columns)" if shape else "None"
        return [(k, text if k == "decisions" else v) for k, v in rows]


@dataclass(frozen=True, repr=False)
class OutcomePoAResult(Result):
    """Price-of-Anarchy figures of several outcomes of one game against its optimum.

    Attributes
    ----------
    ratios
        ``cost / optimum`` for each named outcome (equilibria, router outcomes).
    costs
        Social cost of each named outcome.
    optimum_cost
        Social cost of the best assignment found.
    lower_bound
        Proven lower bound on the optimum (equal to ``optimum_cost`` when exact).
    exact
        Whether the optimum is proven; otherwise ``ratios`` are lower bounds and
        ``cost / lower_bound`` are upper bounds on the true ratios.
    method
        How the optimum was found.
    """

    ratios: dict[str, float]
    costs: dict[str, float]
    optimum_cost: float
    lower_bound: float
    exact: bool
    method: str

    @property
    def upper_ratios(self) -> dict[str, float]:
        """``cost / lower_bound`` for each outcome: upper bounds on the true ratios."""
        lb = self.lower_bound
        return {k: (v / lb if lb > 0 else float("inf")) for k, v in self.costs.items()}


@dataclass(frozen=True, repr=False)
class PoACurveResult(Result):
    """Price-of-Anarchy ratios of several outcomes as the load grows.

    Attributes
    ----------
    loads
        The load levels (numbers of requests).
    ratios
        For each outcome name, ``cost / optimum`` at each load.
    optimum_costs
        Optimal (best found) social cost at each load.
    gaps
        Relative optimality gap of the optimum at each load (0 when proven).
    method
        How the instances, outcomes and optima were produced.
    """

    loads: FloatArray
    ratios: dict[str, FloatArray]
    optimum_costs: FloatArray
    gaps: FloatArray
    method: str


@dataclass(frozen=True, repr=False)
class OmegaTollResult(Result):
    """The KV router's prefill weight ``omega`` read as an (approximate) toll, per load.

    Attributes
    ----------
    loads
        Requests per worker at which the rankings are linearised.
    omega_toll
        The ``omega`` whose ranking matches the marginal-cost (tolled) cost to first order
        (``inf`` where the latency is flat: only prefill matters).
    omega_selfish
        The ``omega`` whose ranking matches a request's own (untolled) cost.
    omega_switch
        The adaptive router's two-level ``omega`` at each load.
    log_error
        ``|log(omega_switch / omega_toll)|``: how far the switch is from the toll (0 where
        both are infinite).
    knee
        Load at which the adaptive router switches.
    method
        How the figures were computed.
    """

    loads: FloatArray
    omega_toll: FloatArray
    omega_selfish: FloatArray
    omega_switch: FloatArray
    log_error: FloatArray
    knee: float
    method: str
