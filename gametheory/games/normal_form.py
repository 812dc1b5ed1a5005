"""Finite games in normal (strategic) form, given by a tensor of costs.

An n-player game is a tensor ``C`` of shape ``(n, s_1, ..., s_n)``: ``C[i, a_1, ..., a_n]``
is the cost player ``i`` pays when player ``k`` plays strategy ``a_k``. Players minimise
costs; payoffs (maximised, the convention of nashpy, QuantEcon and Gambit) are converted
only at the boundary: :meth:`NormalFormGame.from_payoffs`,
:meth:`NormalFormGame.from_bimatrix`, :meth:`NormalFormGame.to_nashpy` and
:meth:`NormalFormGame.from_nashpy`.

Mixed strategies are probability vectors, one per player; expected costs are the
multilinear extension of the cost tensor (Nash, Annals of Mathematics 54(2) 1951).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gametheory.errors import GameError
from gametheory.games.base import FiniteGameBase, as_profile

__all__ = ["NormalFormGame"]

FloatArray = NDArray[np.float64]


def _as_finite_tensor(values: ArrayLike, name: str) -> FloatArray:
    """Convert ``values`` to a float array, rejecting non-numbers, NaN and infinities."""
    try:
        arr = np.array(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise GameError(f"{name} must be an array of numbers: {exc}") from exc
    bad = ~np.isfinite(arr)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise GameError(f"{name} has a non-finite entry {arr[where]} at index {where}")
    return arr


class NormalFormGame(FiniteGameBase):
    """An n-player finite game given by its cost tensor (costs are minimised).

    Pure-profile methods (``costs``, ``deviation_costs``, ``best_response``, ``regrets``,
    ``is_equilibrium``) follow :class:`~gametheory.games.base.FiniteGameBase`; mixed
    profiles are handled by ``expected_costs``, ``expected_deviation_costs`` and
    ``mixed_max_regret``.

    Parameters
    ----------
    cost_tensor
        Array of shape ``(n_players, s_1, ..., s_n)``; entry ``[i, a_1, ..., a_n]`` is the
        cost of player ``i`` at the pure profile ``(a_1, ..., a_n)``. Must be finite.
    labels
        Optional strategy names, one sequence of ``s_i`` strings per player.

    Raises
    ------
    GameError
        If the tensor's first axis does not count the players, a player has no strategy,
        an entry is NaN or infinite, or the labels do not match the strategy counts.

    Examples
    --------
    >>> game = NormalFormGame.from_bimatrix([[2, 0], [0, 1]], [[1, 0], [0, 2]])
    >>> game.costs([0, 0]).tolist()
    [-2.0, -1.0]
    """

    def __init__(
        self, cost_tensor: ArrayLike, labels: Sequence[Sequence[str]] | None = None
    ) -> None:
        tensor = _as_finite_tensor(cost_tensor, "cost_tensor")
        if tensor.ndim < 2 or tensor.shape[0] != tensor.ndim - 1:
            raise GameError(
                "cost_tensor must have shape (n_players, s_1, ..., s_n) with n_players = "
                f"number of strategy axes, got shape {tensor.shape}"
            )
        if min(tensor.shape[1:]) < 1:
            raise GameError(f"every player needs at least one strategy, got shape {tensor.shape}")
        tensor.setflags(write=False)
        self._tensor = tensor
        self._labels = self._check_labels(labels)

    def _check_labels(self, labels: Sequence[Sequence[str]] | None) -> tuple[tuple[str, ...], ...]:
        sizes = self.n_strategies
        if labels is None:
            return tuple(tuple(str(a) for a in range(s)) for s in sizes)
        if isinstance(labels, str) or len(labels) != len(sizes):
            raise GameError(f"labels must give one sequence per player ({len(sizes)})")
        out = []
        for i, (names, size) in enumerate(zip(labels, sizes, strict=True)):
            if isinstance(names, str) or len(names) != size:
                raise GameError(f"labels[{i}] must name the {size} strategies of player {i}")
            out.append(tuple(str(a) for a in names))
        return tuple(out)

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_payoffs(
        cls, payoff_tensor: ArrayLike, labels: Sequence[Sequence[str]] | None = None
    ) -> NormalFormGame:
        """Build a game from payoffs to maximise (cost = -payoff).

        Parameters
        ----------
        payoff_tensor
            Array of shape ``(n_players, s_1, ..., s_n)`` of payoffs.
        labels
            Optional strategy names.
        """
        return cls(-_as_finite_tensor(payoff_tensor, "payoff_tensor"), labels)

    @classmethod
    def from_bimatrix(
        cls,
        A: ArrayLike,
        B: ArrayLike,
        payoffs: bool = True,
        labels: Sequence[Sequence[str]] | None = None,
    ) -> NormalFormGame:
        """Build a two-player game from the row player's and column player's matrices.

        Parameters
        ----------
        A, B
            Matrices of shape ``(m, n)``: row player's and column player's entries.
        payoffs
            True (default) when ``A`` and ``B`` are payoffs to maximise, as in nashpy and
            THEORY.md; False when they are costs to minimise.
        labels
            Optional strategy names.

        Raises
        ------
        GameError
            If a matrix is not two-dimensional or the shapes differ.
        """
        a = _as_finite_tensor(A, "A")
        b = _as_finite_tensor(B, "B")
        if a.ndim != 2 or a.size == 0:
            raise GameError(f"A must be a non-empty matrix, got shape {a.shape}")
        if b.shape != a.shape:
            raise GameError(f"B must have the shape of A {a.shape}, got {b.shape}")
        tensor = np.stack([a, b])
        return cls(-tensor if payoffs else tensor, labels)

    @classmethod
    def from_nashpy(cls, game: Any) -> NormalFormGame:
        """Build a game from a ``nashpy.Game`` (whose payoffs are maximised)."""
        matrices = getattr(game, "payoff_matrices", None)
        if matrices is None or len(matrices) != 2:
            raise GameError("game must be a two-player nashpy.Game with payoff_matrices")
        return cls.from_bimatrix(matrices[0], matrices[1], payoffs=True)

    def to_nashpy(self) -> Any:
        """The same two-player game as a ``nashpy.Game`` (payoffs = -costs).

        Raises
        ------
        GameError
            If the game does not have exactly two players.
        """
        import nashpy

        A, B = self.bimatrix(payoffs=True)
        return nashpy.Game(A, B)

    # ------------------------------------------------------------------ protocol
    @property
    def n_players(self) -> int:
        """Number of players."""
        return int(self._tensor.shape[0])

    @property
    def n_strategies(self) -> tuple[int, ...]:
        """Number of strategies of each player."""
        return tuple(int(s) for s in self._tensor.shape[1:])

    @property
    def cost_tensor(self) -> FloatArray:
        """The read-only cost tensor of shape ``(n_players, s_1, ..., s_n)``."""
        return self._tensor

    @property
    def payoff_tensor(self) -> FloatArray:
        """Payoffs ``-cost_tensor`` (for tools that maximise)."""
        return -self._tensor

    @property
    def social_cost_tensor(self) -> FloatArray:
        """Social cost (sum of the players' costs) of every pure profile."""
        return np.asarray(self._tensor.sum(axis=0), dtype=np.float64)

    @property
    def labels(self) -> tuple[tuple[str, ...], ...]:
        """Strategy names of each player."""
        return self._labels

    def bimatrix(self, payoffs: bool = False) -> tuple[FloatArray, FloatArray]:
        """The row and column player's matrices (costs, or payoffs if ``payoffs``).

        Raises
        ------
        GameError
            If the game does not have exactly two players.
        """
        if self.n_players != 2:
            raise GameError(f"a bimatrix needs a two-player game, this one has {self.n_players}")
        sign = -1.0 if payoffs else 1.0
        return sign * self._tensor[0], sign * self._tensor[1]

    def costs(self, profile: ArrayLike) -> FloatArray:
        """Cost of every player at a pure ``profile`` (one strategy index per player)."""
        p = as_profile(self, profile)
        return np.array(self._tensor[(slice(None), *p.tolist())], dtype=np.float64)

    def social_cost(self, profile: ArrayLike) -> float:
        """Sum of the players' costs at a pure ``profile``."""
        return float(self.costs(profile).sum())

    def deviation_costs(self, profile: ArrayLike, player: int) -> FloatArray:
        """Cost ``player`` pays for each of its strategies, the others playing ``profile``."""
        p = as_profile(self, profile)
        i = self._check_player(player)
        index: list[int | slice] = list(p.tolist())
        index[i] = slice(None)
        return np.array(self._tensor[(i, *index)], dtype=np.float64)

    def _check_player(self, player: int) -> int:
        if not isinstance(player, (int, np.integer)) or not 0 <= player < self.n_players:
            raise GameError(f"player must be an index in [0, {self.n_players}), got {player!r}")
        return int(player)

    # ------------------------------------------------------------------ mixed strategies
    def as_mixed(self, mixed: Sequence[ArrayLike], atol: float = 1e-9) -> list[FloatArray]:
        """Validate a mixed profile: one probability vector per player.

        Raises
        ------
        GameError
            If there is not one vector per player, a vector has the wrong length, a
            negative or non-finite entry, or does not sum to 1 (within ``atol``).
        """
        if len(mixed) != self.n_players:
            raise GameError(
                f"mixed profile needs one strategy per player ({self.n_players}), got {len(mixed)}"
            )
        out = []
        for i, (vec, size) in enumerate(zip(mixed, self.n_strategies, strict=True)):
            v = _as_finite_tensor(vec, f"mixed[{i}]")
            if v.shape != (size,):
                raise GameError(f"mixed[{i}] must have {size} entries, got shape {v.shape}")
            if (v < -atol).any() or abs(v.sum() - 1.0) > atol:
                raise GameError(f"mixed[{i}] must be a probability vector, got {v.tolist()}")
            out.append(np.clip(v, 0.0, None))
        return out

    def expected_deviation_costs(self, mixed: Sequence[ArrayLike], player: int) -> FloatArray:
        """Expected cost of each pure strategy of ``player`` against the others' mixtures."""
        i = self._check_player(player)
        probs = self.as_mixed(mixed)
        return self._deviation(probs, i)

    def _deviation(self, probs: Sequence[FloatArray], i: int) -> FloatArray:
        table: FloatArray = self._tensor[i]
        # Contract the other players' axes from the last to the first.
        for k in range(self.n_players - 1, -1, -1):
            if k != i:
                table = np.tensordot(table, probs[k], axes=([k], [0]))
        return np.asarray(table, dtype=np.float64)

    def expected_costs(self, mixed: Sequence[ArrayLike]) -> FloatArray:
        """Expected cost of every player at a mixed profile (independent randomisation)."""
        probs = self.as_mixed(mixed)
        return np.array(
            [float(self._deviation(probs, i) @ probs[i]) for i in range(self.n_players)]
        )

    def mixed_max_regret(self, mixed: Sequence[ArrayLike]) -> float:
        """Largest expected-cost decrease a player gets by a unilateral pure deviation.

        Zero exactly at a (mixed) Nash equilibrium; the epsilon of an epsilon-equilibrium.
        """
        probs = self.as_mixed(mixed)
        regrets = []
        for i in range(self.n_players):
            dev = self._deviation(probs, i)
            regrets.append(float(dev @ probs[i] - dev.min()))
        return max(0.0, *regrets)

    def __repr__(self) -> str:
        return f"NormalFormGame(n_players={self.n_players}, n_strategies={self.n_strategies})"
