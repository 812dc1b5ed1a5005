"""Protocols shared by the games, and the checks every solver applies to profiles.

Solvers see games only through these protocols: a finite game has players with finitely
many strategies each, identified by integer indices, and costs to minimise; a potential
game also exposes an exact potential (Monderer and Shapley, GEB 14(1) 1996).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Protocol, runtime_checkable

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gametheory.errors import GameError

__all__ = ["ContinuousGame", "FiniteGame", "FiniteGameBase", "PotentialGame", "as_profile"]

FloatArray = NDArray[np.float64]
Profile = NDArray[np.int64]


@runtime_checkable
class FiniteGame(Protocol):
    """A finite cost-minimisation game in strategic form."""

    @property
    def n_players(self) -> int:
        """Number of players."""
        ...

    @property
    def n_strategies(self) -> tuple[int, ...]:
        """Number of strategies of each player."""
        ...

    def costs(self, profile: ArrayLike) -> FloatArray:
        """Cost of every player at ``profile`` (one strategy index per player)."""
        ...

    def social_cost(self, profile: ArrayLike) -> float:
        """Social cost at ``profile`` (the sum of the players' costs)."""
        ...

    def deviation_costs(self, profile: ArrayLike, player: int) -> FloatArray:
        """Cost ``player`` would pay for each of its strategies, the others fixed."""
        ...


@runtime_checkable
class PotentialGame(FiniteGame, Protocol):
    """A finite game with an exact potential."""

    def potential(self, profile: ArrayLike) -> float:
        """Exact potential: a unilateral move changes it by the mover's cost change."""
        ...


@runtime_checkable
class ContinuousGame(Protocol):
    """A game in which each player chooses one real number, under shared linear constraints.

    Player ``i`` chooses ``x_i`` in ``[lower_i, upper_i]``; the profile must also satisfy the
    coupled constraints ``A x <= b`` shared by all players (Rosen, Econometrica 33(3) 1965).
    Each player minimises its own cost ``f_i(x)``; the pseudo-gradient stacks the players'
    own partial derivatives ``F(x)_i = d f_i / d x_i``.
    """

    @property
    def n_players(self) -> int:
        """Number of players."""
        ...

    @property
    def lower(self) -> FloatArray:
        """Lower bound of each player's action (may be ``-inf``)."""
        ...

    @property
    def upper(self) -> FloatArray:
        """Upper bound of each player's action (may be ``+inf``)."""
        ...

    @property
    def shared_constraints(self) -> tuple[FloatArray, FloatArray]:
        """The coupled constraints as ``(A, b)``, meaning ``A @ x <= b``."""
        ...

    def costs(self, x: ArrayLike) -> FloatArray:
        """Cost of every player at the action profile ``x``."""
        ...

    def pseudo_gradient(self, x: ArrayLike) -> FloatArray:
        """``F(x)_i = d f_i / d x_i``, each player's marginal cost of its own action."""
        ...

    def pseudo_jacobian(self, x: ArrayLike) -> FloatArray:
        """Jacobian ``dF_i / dx_j`` of the pseudo-gradient."""
        ...


def as_profile(game: FiniteGame, profile: ArrayLike) -> Profile:
    """Validate a strategy profile against a game and return it as an int array.

    Raises
    ------
    GameError
        If the profile has the wrong length or an index out of range.
    """
    try:
        arr = np.asarray(profile)
    except (TypeError, ValueError) as exc:
        raise GameError(f"profile must be a sequence of strategy indices, got {profile!r}") from exc
    n = game.n_players
    if arr.ndim != 1 or arr.shape[0] != n:
        raise GameError(f"profile must have one strategy per player ({n}), got shape {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer) and not np.all(np.mod(arr, 1) == 0):
        raise GameError(f"profile entries must be integer strategy indices, got {profile!r}")
    out = arr.astype(np.int64)
    sizes = np.asarray(game.n_strategies, dtype=np.int64)
    bad = np.nonzero((out < 0) | (out >= sizes))[0]
    if bad.size:
        i = int(bad[0])
        raise GameError(
            f"player {i} plays strategy {int(out[i])}, but has only {int(sizes[i])} strategies"
        )
    return out


class FiniteGameBase(ABC):
    """Base class of the library's finite games.

    Subclasses implement ``n_players``, ``n_strategies``, ``costs`` and
    ``deviation_costs``; best responses, regrets and the equilibrium test follow.
    """

    @property
    @abstractmethod
    def n_players(self) -> int:
        """Number of players."""

    @property
    @abstractmethod
    def n_strategies(self) -> tuple[int, ...]:
        """Number of strategies of each player."""

    @abstractmethod
    def costs(self, profile: ArrayLike) -> FloatArray:
        """Cost of every player at ``profile``."""

    @abstractmethod
    def deviation_costs(self, profile: ArrayLike, player: int) -> FloatArray:
        """Cost ``player`` would pay for each of its strategies, the others fixed."""

    def social_cost(self, profile: ArrayLike) -> float:
        """Social cost: the sum of the players' costs."""
        return float(np.sum(self.costs(profile)))

    def best_response(self, profile: ArrayLike, player: int) -> int:
        """A cost-minimising strategy of ``player`` (ties keep the current strategy)."""
        prof = as_profile(self, profile)
        dev = self.deviation_costs(prof, player)
        best = int(np.argmin(dev))
        return int(prof[player]) if dev[prof[player]] <= dev[best] else best

    def regrets(self, profile: ArrayLike) -> FloatArray:
        """How much each player would save by its best unilateral deviation (>= 0)."""
        prof = as_profile(self, profile)
        own = self.costs(prof)
        best = np.array([self.deviation_costs(prof, i).min() for i in range(self.n_players)])
        return np.asarray(np.maximum(own - best, 0.0), dtype=np.float64)

    def max_regret(self, profile: ArrayLike) -> float:
        """Largest saving any player gets by deviating alone (0 at a Nash equilibrium)."""
        r = self.regrets(profile)
        return float(r.max()) if r.size else 0.0

    def is_equilibrium(self, profile: ArrayLike, tol: float = 1e-9) -> bool:
        """Whether ``profile`` is a pure Nash equilibrium, up to a relative tolerance."""
        own = self.costs(profile)
        return bool(np.all(self.regrets(profile) <= tol * np.maximum(1.0, np.abs(own))))
