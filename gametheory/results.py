"""Frozen result objects returned by the solvers.

Every solver returns one of these dataclasses (never a bare tuple): the answer, whether
the method converged, how many iterations it took, a certificate of quality (maximum
regret, relative gap, solver status) and the method used. They render as tables in
Jupyter (``_repr_html_``) and as short text elsewhere.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field, fields
from fractions import Fraction
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "AllocationResult",
    "BoundCheckResult",
    "BoundResult",
    "CacheParadoxResult",
    "CachingEquilibriaResult",
    "ConcavityCheckResult",
    "ContinuousEquilibriumResult",
    "CorrelatedEquilibriumResult",
    "CostFitResult",
    "CurveFit",
    "EquilibriumResult",
    "FictitiousPlayResult",
    "FlowResult",
    "GeneralizedEquilibriumSetResult",
    "KVPlacementResult",
    "KneeResult",
    "MixedEquilibriumResult",
    "NashEquilibriaResult",
    "OptimumResult",
    "PlacementResult",
    "PoAHatResult",
    "PoAResult",
    "ResourceOptimumResult",
    "ResourcePoACurveResult",
    "Result",
]

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


@dataclass(frozen=True, repr=False)
class NashEquilibriaResult(Result):
    """All extreme Nash equilibria of a bimatrix game, with their components.

    Attributes
    ----------
    equilibria
        Extreme equilibria ``(x, y)``: mixed strategies of the row and column player.
    supports
        Support (strategies played with positive probability) of ``x`` and ``y``.
    costs
        Array ``(k, 2)``: expected cost of each player at each equilibrium.
    social_costs
        Sum of the two expected costs at each equilibrium.
    pairs
        Array ``(k, 2)``: equilibrium ``e`` is ``(row_vertices[pairs[e, 0]],
        column_vertices[pairs[e, 1]])``.
    row_vertices, column_vertices
        The distinct equilibrium strategies of each player (normalised polytope vertices).
    component
        Component index of each equilibrium; a continuum of equilibria is one component.
    maximal_nash_subsets
        ``(row vertex indices, column vertex indices)``: every pair of the convex hulls is
        an equilibrium (Avis, Rosenberg, Savani, von Stengel, Economic Theory 42(1) 2010).
    degenerate
        Whether the game is degenerate (a mixed strategy with more pure best responses
        than the size of its support).
    exact
        Whether every equilibrium, label and vertex was verified in rational arithmetic.
    exact_equilibria
        The equilibria as fractions when ``exact``, else None.
    max_regret
        Largest gain from a unilateral deviation over all reported equilibria.
    converged
        Always True: the enumeration is finite.
    iterations
        Number of polytope vertices enumerated (both players).
    method
        The algorithm used.
    """

    equilibria: tuple[tuple[FloatArray, FloatArray], ...]
    supports: tuple[tuple[tuple[int, ...], tuple[int, ...]], ...]
    costs: FloatArray
    social_costs: FloatArray
    pairs: NDArray[np.int64]
    row_vertices: FloatArray
    column_vertices: FloatArray
    component: NDArray[np.int64]
    maximal_nash_subsets: tuple[tuple[tuple[int, ...], tuple[int, ...]], ...]
    degenerate: bool
    exact: bool
    exact_equilibria: tuple[tuple[tuple[Fraction, ...], tuple[Fraction, ...]], ...] | None
    max_regret: float
    converged: bool
    iterations: int
    method: str

    @property
    def n_components(self) -> int:
        """Number of connected components of the equilibrium set."""
        return int(self.component.max()) + 1 if self.component.size else 0

    def __len__(self) -> int:
        return len(self.equilibria)


@dataclass(frozen=True, repr=False)
class MixedEquilibriumResult(Result):
    """One mixed Nash equilibrium of a bimatrix game (e.g. from Lemke-Howson).

    Attributes
    ----------
    strategies
        Mixed strategies ``(x, y)`` of the row and column player.
    supports
        Their supports.
    costs
        Expected cost of each player.
    social_cost
        Sum of the expected costs.
    max_regret
        Largest gain from a unilateral deviation (the certificate; 0 at an equilibrium).
    converged
        Whether the path ended at a completely labelled point within ``max_pivots``.
    iterations
        Number of pivots.
    initial_label
        The dropped label that started the path.
    method
        The algorithm used.
    """

    strategies: tuple[FloatArray, FloatArray]
    supports: tuple[tuple[int, ...], tuple[int, ...]]
    costs: FloatArray
    social_cost: float
    max_regret: float
    converged: bool
    iterations: int
    initial_label: int
    method: str


@dataclass(frozen=True, repr=False)
class FictitiousPlayResult(Result):
    """Empirical play of fictitious play in a finite normal-form game.

    Attributes
    ----------
    strategies
        Empirical frequency of each player's strategies (a mixed profile).
    costs
        Expected cost of each player at that mixed profile.
    social_cost
        Sum of the expected costs.
    max_regret
        Largest gain from a unilateral deviation against the empirical profile.
    converged
        Whether ``max_regret`` fell to the requested tolerance.
    iterations
        Number of rounds played.
    regret_history
        ``max_regret`` after each round.
    last_profile
        The pure profile played in the last round.
    method
        ``"simultaneous"`` (Brown's original update) or ``"alternating"``.
    """

    strategies: tuple[FloatArray, ...]
    costs: FloatArray
    social_cost: float
    max_regret: float
    converged: bool
    iterations: int
    regret_history: FloatArray
    last_profile: NDArray[np.int64]
    method: str


@dataclass(frozen=True, repr=False)
class CorrelatedEquilibriumResult(Result):
    """The best and the worst correlated (or coarse correlated) equilibrium of a game.

    Attributes
    ----------
    best_distribution, worst_distribution
        Distributions over pure profiles (arrays of the game's strategy shape) minimising
        and maximising the expected social cost over the equilibrium set.
    best_cost, worst_cost
        Their expected social costs.
    optimum_cost
        The least social cost of a pure profile.
    coarse
        True for coarse correlated equilibria (Hannan; Moulin and Vial 1978), False for
        correlated equilibria (Aumann 1974).
    max_violation
        Largest violation of an incentive constraint by either distribution (certificate).
    status
        Solver status of the two linear programs.
    converged
        Whether both linear programs were solved to optimality.
    iterations
        Total simplex/IPM iterations of the two linear programs.
    method
        The solver used.
    """

    best_distribution: FloatArray
    worst_distribution: FloatArray
    best_cost: float
    worst_cost: float
    optimum_cost: float
    coarse: bool
    max_violation: float
    status: str
    converged: bool
    iterations: int
    method: str


@dataclass(frozen=True, repr=False)
class BoundResult(Result):
    """A Price-of-Anarchy (or Price-of-Stability) bound for a class of games.

    Attributes
    ----------
    value
        The bound (``inf`` when the class has unbounded PoA; ``nan`` only for a symbolic
        bound that still depends on free parameters: see ``expr`` and :meth:`at`).
    quantity
        What is bounded: ``"PoA"``, ``"PoS"`` or ``"robust PoA"`` (coarse correlated
        equilibria).
    setting
        The class of games, e.g. ``"nonatomic routing, polynomial costs of degree <= 2"``.
    tight
        Whether the bound is attained (or approached) by some instance of the class.
    tight_instance
        The instance attaining it, in words (empty when not tight or unknown).
    source
        The paper the bound comes from.
    theorem
        The theorem (or section) of that paper.
    certificate
        Evidence for the value: the maximising ``(cost, x, r)`` of a Pigou supremum, the
        ``(lambda, mu)`` of a smoothness LP, the dual multipliers of the exact PoA LP.
    expr
        A sympy expression of the bound when a closed form exists, else None.
    latex
        LaTeX of ``expr`` (empty when there is none).
    method
        ``"closed form"``, ``"numerical supremum"``, ``"linear program"``, ...
    converged
        Whether the computation behind the value succeeded to its tolerance.
    iterations
        Iterations of the numerical method (0 for closed forms).
    notes
        Caveats, for example that a result is unconfirmed in the primary source.
    """

    value: float
    quantity: str
    setting: str
    tight: bool
    tight_instance: str
    source: str
    theorem: str
    certificate: dict[str, Any] = field(default_factory=dict)
    expr: Any = None
    latex: str = ""
    method: str = "closed form"
    converged: bool = True
    iterations: int = 0
    notes: str = ""

    def __float__(self) -> float:
        return float(self.value)

    def at(self, **values: float) -> float:
        """Evaluate ``expr`` with its free symbols (by name) set to ``values``."""
        from gametheory.errors import GameError

        if self.expr is None:
            raise GameError("this bound has no symbolic expression to evaluate")
        subs = {s: values[s.name] for s in self.expr.free_symbols if s.name in values}
        missing = sorted(s.name for s in self.expr.free_symbols if s.name not in values)
        if missing:
            raise GameError(f"values missing for the free symbols {missing}")
        return float(self.expr.subs(subs).evalf())

    def _repr_latex_(self) -> str:
        lhs = r"\mathrm{" + self.quantity.replace(" ", r"\ ") + "}"
        num = f"{self.value:.6g}"
        if self.latex:
            return f"${lhs} \\le {self.latex} \\approx {num}$"
        return f"${lhs} \\le {num}$"


@dataclass(frozen=True, repr=False)
class BoundCheckResult(Result):
    """The outcome of a search for counterexamples to a claimed PoA bound.

    Attributes
    ----------
    claimed
        The claimed upper bound on the PoA.
    survived
        True when no instance with a PoA above ``claimed`` (beyond ``tolerance``) was found.
    worst_ratio
        The largest PoA found.
    witness
        The game attaining ``worst_ratio`` (re-solvable with the library's solvers).
    witness_result
        The solved PoA of the witness.
    family
        The class of instances searched.
    trials
        Random instances sampled.
    local_steps
        Local-search moves tried from the worst sampled instance.
    instances_solved
        Instances solved in total.
    tolerance
        Relative slack allowed before a ratio counts as a counterexample (solver accuracy).
    class_bound
        The known bound for the class, when the library has one (None otherwise).
    method
        The search performed.
    seed
        The seed of the random generator.
    """

    claimed: float
    survived: bool
    worst_ratio: float
    witness: Any
    witness_result: Any
    family: str
    trials: int
    local_steps: int
    instances_solved: int
    tolerance: float
    class_bound: float | None
    method: str
    seed: int | None = None


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


@dataclass(frozen=True, repr=False)
class PoAHatResult(Result):
    """The empirical Price of Anarchy (PoA-hat) of a router's decisions.

    Attributes
    ----------
    poa_hat
        Ratio of sums: total actual cost over total optimal cost across all windows.
    ci_low, ci_high
        Bootstrap percentile confidence interval of ``poa_hat`` (windows resampled).
    confidence
        Level of the interval (e.g. 0.95).
    per_window
        Actual / optimal cost of each window (its distribution).
    actual_cost, optimal_cost
        The two sums behind ``poa_hat``.
    window
        Decisions per window (N).
    n_windows
        Windows evaluated.
    n_decisions
        Decisions read.
    n_unused
        Trailing decisions that did not fill a window, and windows left out because a
        chosen worker was not a candidate of the window's first decision.
    capacity_aware
        Whether the optimum allowed several requests per worker with a congestion term.
    converged
        Whether every window's assignment problem was solved to optimality.
    iterations
        Assignment problems solved (one per window).
    method
        ``"hungarian"`` or ``"capacity-aware min-cost assignment"``.
    n_bootstrap
        Bootstrap replicates behind the interval.
    """

    poa_hat: float
    ci_low: float
    ci_high: float
    confidence: float
    per_window: FloatArray
    actual_cost: float
    optimal_cost: float
    window: int
    n_windows: int
    n_decisions: int
    n_unused: int
    capacity_aware: bool
    converged: bool
    iterations: int
    method: str
    n_bootstrap: int


@dataclass(frozen=True, repr=False)
class KneeResult(Result):
    """The saturation knee of a latency-versus-concurrency sweep.

    Attributes
    ----------
    deployment
        Deployment the sweep belongs to.
    metric
        Latency column used (e.g. ``"ttft_ms_p99"``).
    knee
        Concurrency of the knee (Kneedle's, else the plateau or curvature estimate).
    interval
        ``(low, high)``: the range spanned by the three estimates.
    first_post_knee
        First grid concurrency above ``knee`` (NaN if the knee is the last point).
    kneedle, plateau, curvature
        The three estimates: Kneedle (Satopaa et al. 2011) on latency, the first point
        where throughput stops scaling, and the largest discrete second derivative.
        NaN where an estimate does not exist.
    concurrency, latency, throughput
        The sweep the knee was found on (sorted by concurrency).
    converged
        Whether a knee was found.
    method
        The estimators used.
    """

    deployment: str
    metric: str
    knee: float
    interval: tuple[float, float]
    first_post_knee: float
    kneedle: float
    plateau: float
    curvature: float
    concurrency: FloatArray
    latency: FloatArray
    throughput: FloatArray
    converged: bool
    method: str


@dataclass(frozen=True, repr=False)
class CurveFit(Result):
    """A latency-versus-load curve fitted as a cost function.

    Attributes
    ----------
    deployment
        Deployment the curve belongs to.
    family
        ``"tabulated"``, ``"mm1"`` or ``"polynomial"``.
    cost
        The fitted :class:`~gametheory.costs.CostFunction` (load -> latency).
    parameters
        Fitted parameters by name.
    r2, rmse
        Goodness of fit on the measured points (coefficient of determination and root
        mean squared error, in the latency's unit).
    n_points
        Points fitted.
    converged
        Whether the fit succeeded.
    method
        Fitting procedure.
    """

    deployment: str
    family: str
    cost: Any
    parameters: dict[str, float]
    r2: float
    rmse: float
    n_points: int
    converged: bool
    method: str


@dataclass(frozen=True, repr=False)
class CostFitResult(Result):
    """Cost functions fitted from a sweep, the game they define and its model PoA.

    Attributes
    ----------
    fits
        Every fit, keyed by ``(deployment, family)``.
    best
        The chosen fit per deployment (highest R^2 among the usable families).
    game
        Parallel-links routing game with one link per deployment (None if fewer than two
        deployments).
    demand
        Total load routed in the game.
    equilibrium, optimum
        Wardrop equilibrium and system optimum of the game (FlowResult or None).
    model_poa
        Equilibrium cost / optimal cost of the game (NaN without a game).
    converged
        Whether every fit and both flow computations converged.
    method
        How the costs were fitted and the game solved.
    """

    fits: dict[tuple[str, str], CurveFit]
    best: dict[str, CurveFit]
    game: Any
    demand: float
    equilibrium: FlowResult | None
    optimum: FlowResult | None
    model_poa: float
    converged: bool
    method: str


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


@dataclass(frozen=True, repr=False)
class CalibrationResult(Result):
    """Step-time parameters fitted to real measurements, with held-out errors.

    Attributes
    ----------
    params
        The fitted :class:`gametheory.sim.step_time.StepTimeParams`.
    ttft_mdape, tpot_mdape
        Median absolute percentage error (a fraction) of TTFT and TPOT on the held-out
        rows.
    train_ttft_mdape, train_tpot_mdape
        The same on the rows used for fitting.
    n_train, n_test
        Rows fitted and held out.
    converged
        Whether the least-squares solver reported success.
    iterations
        Function evaluations.
    method
        Fitting method and split.
    """

    params: Any
    ttft_mdape: float
    tpot_mdape: float
    train_ttft_mdape: float
    train_tpot_mdape: float
    n_train: int
    n_test: int
    converged: bool
    iterations: int
    method: str


@dataclass(frozen=True, repr=False)
class SimulationResult(Result):
    """One simulated run of a disaggregated cluster, as telemetry frames.

    Attributes
    ----------
    requests
        ``requests`` schema: one row per completed request.
    decisions
        ``decisions`` schema: one row per routing decision x candidate decode worker.
    samples
        ``samples`` schema: Prometheus-like scrapes (TTFT histogram, queue gauges).
    deployment, policy
        Names of the simulated deployment and routing policy.
    concurrency
        Closed-loop concurrency (NaN for open-loop arrivals).
    duration_s
        Simulated time from the first arrival to the last completion.
    request_throughput, output_token_throughput
        Completed requests and generated tokens per simulated second.
    switch_times
        Simulated times at which an adaptive policy changed its parameters.
    seed
        Seed of the run.
    converged
        Whether every request completed.
    iterations
        Events processed.
    method
        ``"discrete-event simulation"``.
    """

    requests: Any
    decisions: Any
    samples: Any
    deployment: str
    policy: str
    concurrency: float
    duration_s: float
    request_throughput: float
    output_token_throughput: float
    switch_times: FloatArray
    seed: int
    converged: bool
    iterations: int
    method: str


@dataclass(frozen=True, repr=False)
class SwitchRatesResult(Result):
    """Monte Carlo false and missed switch rates of a saturation detector.

    Attributes
    ----------
    false_switch_rate
        Fraction of runs whose load stays below saturation in which the detector
        nevertheless reported *saturated* at least once.
    missed_switch_rate
        Fraction of runs whose load crosses into saturation in which the detector never
        reported *saturated* before the run ended.
    mean_delay_s
        Mean detection delay (seconds after the true crossing) over detected runs.
    false_ci, missed_ci
        95% Wilson intervals of the two rates.
    n_runs
        Runs per scenario.
    noise
        Relative (lognormal sigma) noise on the latency signal.
    converged
        Always True (Monte Carlo has no convergence test).
    iterations
        Total runs.
    method
        Detector and scenario.
    """

    false_switch_rate: float
    missed_switch_rate: float
    mean_delay_s: float
    false_ci: tuple[float, float]
    missed_ci: tuple[float, float]
    n_runs: int
    noise: float
    converged: bool
    iterations: int
    method: str


@dataclass(frozen=True, repr=False)
class RegimeStudyResult(Result):
    """PoA-hat across load and router settings: the three-regime shape of a sweep.

    Attributes
    ----------
    table
        The sweep table (:func:`gametheory.sim.sweep.sweep`), one row per cell.
    summary
        One row per topology: knee, low-load / plateau / saturated PoA-hat and the
        spread across router settings in the plateau.
    regimes
        :func:`gametheory.telemetry.classify_regimes` of each topology's curve.
    knees
        :class:`KneeResult` per topology (``"1P/5D"``, ...).
    converged
        Whether a knee was found for every topology.
    iterations
        Simulations run.
    method
        What was computed.
    """

    table: Any
    summary: Any
    regimes: Any
    knees: dict[str, KneeResult]
    converged: bool
    iterations: int
    method: str


@dataclass(frozen=True, repr=False)
class AdaptiveComparisonResult(Result):
    """The adaptive router against the static default, paired over seeds.

    Attributes
    ----------
    topology
        Deployment shape, e.g. ``"1P/5D"``.
    concurrency
        Closed-loop concurrency of the comparison.
    poa_reduction
        Mean over seeds of PoA-hat(static) / PoA-hat(adaptive) (> 1: adaptive is better).
    poa_reduction_ci
        Student-t interval of that mean.
    throughput_cost
        Mean over seeds of ``1 - throughput(adaptive) / throughput(static)``.
    throughput_cost_ci
        Student-t interval of that mean.
    ttft_p99_change
        Mean over seeds of ``TTFT P99(adaptive) / TTFT P99(static) - 1``.
    per_seed
        One row per seed with both policies' PoA-hat, throughput and TTFT P99.
    confidence
        Level of the intervals.
    n_seeds
        Seeds paired.
    converged
        Whether every simulation completed all its requests.
    iterations
        Simulations run.
    method
        What was compared.
    """

    topology: str
    concurrency: int
    poa_reduction: float
    poa_reduction_ci: tuple[float, float]
    throughput_cost: float
    throughput_cost_ci: tuple[float, float]
    ttft_p99_change: float
    per_seed: Any
    confidence: float
    n_seeds: int
    converged: bool
    iterations: int
    method: str


@dataclass(frozen=True, repr=False)
class OptimumCheckResult(Result):
    """PoA-hat against the true PoA of the same arrivals (affinity-game MILP optimum).

    Attributes
    ----------
    topology
        Deployment shape.
    concurrency
        Closed-loop concurrency of the simulated run.
    true_poa
        Ratio of sums over windows: the router's social cost in the affinity game
        built from the window over the game's optimum.
    poa_hat
        The estimator on the same decisions (ratio of sums over the same windows).
    correlation
        Pearson correlation of the per-window true PoA and PoA-hat.
    windows
        One row per window: first decision, requests, router cost, optimum, lower
        bound, exactness, true PoA and PoA-hat.
    all_exact
        Whether every MILP was solved to optimality.
    converged
        Same as ``all_exact``.
    iterations
        MILPs solved.
    method
        Game construction and solver.
    """

    topology: str
    concurrency: int
    true_poa: float
    poa_hat: float
    correlation: float
    windows: Any
    all_exact: bool
    converged: bool
    iterations: int
    method: str


@dataclass(frozen=True, repr=False)
class DetectorStudyResult(Result):
    """False and missed switch rates of saturation detectors under load noise.

    Attributes
    ----------
    baseline_s, saturated_s
        TTFT P99 (s) of the simulated deployment on the plateau and at saturation: the
        two levels of the Monte Carlo signal.
    table
        One row per detector x noise level: rates, Wilson intervals and mean delay.
    converged
        Always True.
    iterations
        Monte Carlo runs.
    method
        Scenario.
    """

    baseline_s: float
    saturated_s: float
    table: Any
    converged: bool
    iterations: int
    method: str


@dataclass(frozen=True, repr=False)
class SwitchTransientResult(Result):
    """TTFT P99 just before and just after the adaptive router's switches.

    Attributes
    ----------
    topology
        Deployment shape.
    concurrency
        Offered load (closed-loop users, or peak users of a load step).
    window_s
        Width of the before / after windows.
    table
        One row per switch: time, TTFT P99 of the requests arriving in the window
        before and after it (exact, from the ``requests`` frame) and from the
        ``samples`` histogram (Prometheus ``histogram_quantile`` over the window).
    converged
        Whether the run completed every request.
    iterations
        Switches observed.
    method
        Scenario.
    """

    topology: str
    concurrency: int
    window_s: float
    table: Any
    converged: bool
    iterations: int
    method: str


@dataclass(frozen=True, repr=False)
class SimulationStudyResult(Result):
    """The simulation study of the paper: regimes, adaptive router, referee checks.

    Attributes
    ----------
    regimes
        PoA-hat sweep and its three-regime summary.
    adaptive
        Adaptive versus static default at saturation, per topology.
    optimum
        PoA-hat against the affinity-game optimum, per topology.
    detector
        Detector false / missed switch rates.
    transient
        Latency around the adaptive router's switches; with the detector study, on the
        topology whose throughput stops scaling first.
    curves
        PoA-hat and TTFT P99 versus concurrency per policy (one row per topology x
        policy x concurrency, means over seeds).
    files
        Paths of the tables and figures written (empty when none).
    wall_s
        Wall time of the study.
    converged
        Whether every part converged.
    iterations
        Simulations run.
    method
        Grid description.
    """

    regimes: RegimeStudyResult
    adaptive: tuple[AdaptiveComparisonResult, ...]
    optimum: tuple[OptimumCheckResult, ...]
    detector: DetectorStudyResult
    transient: SwitchTransientResult
    curves: Any
    files: tuple[str, ...]
    wall_s: float
    converged: bool
    iterations: int
    method: str


__all__ += [
    "AdaptiveComparisonResult",
    "DetectorStudyResult",
    "OptimumCheckResult",
    "RegimeStudyResult",
    "SimulationStudyResult",
    "SwitchTransientResult",
]
