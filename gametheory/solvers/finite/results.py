"""Results of the finite-game solvers: equilibrium sets, one mixed equilibrium, fictitious
play and correlated equilibria.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from numpy.typing import NDArray

from gametheory.results import Result

__all__ = [
    "CorrelatedEquilibriumResult",
    "FictitiousPlayResult",
    "GlobalNewtonResult",
    "LogitEquilibriumResult",
    "MixedEquilibriumResult",
    "MixedProfileResult",
    "NashEquilibriaResult",
]


FloatArray = NDArray[np.float64]


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
class MixedProfileResult(Result):
    """One mixed profile returned as an equilibrium, with its certificate.

    Attributes
    ----------
    strategies
        One mixed strategy per player.
    supports
        Their supports.
    costs
        Expected cost of each player.
    social_cost
        Sum of the expected costs.
    max_regret
        Largest gain from a unilateral deviation (the certificate; 0 at an equilibrium).
    """

    strategies: tuple[FloatArray, ...]
    supports: tuple[tuple[int, ...], ...]
    costs: FloatArray
    social_cost: float
    max_regret: float


@dataclass(frozen=True, repr=False)
class LogitEquilibriumResult(MixedProfileResult):
    """One Nash equilibrium of an n-player game, the limit of the logit QRE branch.

    Attributes
    ----------
    lambda_reached
        Precision (in units of the cost range) where the branch was left.
    converged
        Whether ``max_regret`` is within the requested tolerance.
    iterations
        Continuation steps.
    method
        ``"logit-homotopy"``, with ``"+support-newton"`` when the Nash conditions on the
        support were solved at the end.
    """

    lambda_reached: float
    converged: bool
    iterations: int
    method: str


@dataclass(frozen=True, repr=False)
class GlobalNewtonResult(MixedProfileResult):
    """One Nash equilibrium of an n-player game by the global Newton method (Govindan and
    Wilson, J. Econ. Theory 110(1) 2003).

    Attributes
    ----------
    converged
        Whether ``max_regret`` is within the requested tolerance.
    iterations
        Predictor-corrector steps, over all rays tried.
    support_changes
        Cells crossed (a strategy entering or leaving the support), over all rays.
    rays
        Perturbation rays tried (a ray whose path fails is replaced by another).
    perturbation
        The bonus per strategy of the last ray, one array per player (payoffs scaled to a
        unit range).
    method
        ``"global-newton"``, with ``"+support-newton"`` when the Nash conditions on the
        support were solved again at the end.
    """

    converged: bool
    iterations: int
    support_changes: int
    rays: int
    perturbation: tuple[FloatArray, ...]
    method: str


@dataclass(frozen=True, repr=False)
class MixedEquilibriumResult(MixedProfileResult):
    """One mixed Nash equilibrium ``(x, y)`` of a bimatrix game (e.g. from Lemke-Howson).

    Attributes
    ----------
    converged
        Whether the path ended at a completely labelled point within ``max_pivots``.
    iterations
        Number of pivots.
    initial_label
        The dropped label that started the path.
    method
        The algorithm used.
    """

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
