"""Exhaustive analysis of small finite games: cost tensors and all pure equilibria.

A profile is a pure Nash equilibrium when no player has a cheaper strategy against the
others (Nash 1951). On the full cost tensor this is one vectorised comparison per
player: the cost at the profile against the minimum along that player's axis.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from numpy.typing import NDArray

from gametheory.errors import GameError
from gametheory.games.base import FiniteGame

__all__ = ["MAX_PROFILES", "cost_tensor", "equilibrium_mask", "pure_equilibria"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: Largest number of profiles the exhaustive methods enumerate.
MAX_PROFILES = 4_000_000


def cost_tensor(game: FiniteGame) -> FloatArray:
    """All players' costs at all profiles, shape ``(n_players, *n_strategies)``.

    Uses ``game.cost_tensor`` when the game stores one, ``game.costs_many`` when it can
    evaluate many profiles at once, and ``game.costs`` profile by profile otherwise.

    Raises
    ------
    GameError
        When the game has more than :data:`MAX_PROFILES` profiles.
    """
    stored = getattr(game, "cost_tensor", None)
    if isinstance(stored, np.ndarray):
        return np.asarray(stored, dtype=np.float64)
    sizes = tuple(int(k) for k in game.n_strategies)
    total = math.prod(sizes)
    if total > MAX_PROFILES:
        raise GameError(
            f"the game has {total:,} profiles, more than the {MAX_PROFILES:,} that exhaustive "
            "enumeration handles; use best_response_dynamics or a MILP instead"
        )
    n = game.n_players
    many = getattr(game, "costs_many", None)
    if callable(many):
        grid = np.indices(sizes).reshape(n, -1).T
        flat = np.asarray(many(grid), dtype=np.float64).T
    else:
        flat = np.empty((n, total))
        for k, prof in enumerate(itertools.product(*(range(s) for s in sizes))):
            flat[:, k] = game.costs(np.asarray(prof, dtype=np.int64))
    return flat.reshape((n, *sizes))


def equilibrium_mask(tensor: FloatArray, tol: float = 1e-9) -> NDArray[np.bool_]:
    """Boolean array over profiles: True where no player can lower its cost alone.

    Parameters
    ----------
    tensor
        Cost tensor of shape ``(n_players, *n_strategies)``.
    tol
        Relative tolerance of the comparison.
    """
    n = tensor.shape[0]
    mask = np.ones(tensor.shape[1:], dtype=bool)
    for i in range(n):
        best = tensor[i].min(axis=i, keepdims=True)
        mask &= tensor[i] <= best + tol * np.maximum(1.0, np.abs(best))
    return mask


def pure_equilibria(game: FiniteGame, tol: float = 1e-9) -> list[IntArray]:
    """All pure Nash equilibria of a small finite game.

    Parameters
    ----------
    game
        A finite game with at most :data:`MAX_PROFILES` profiles.
    tol
        Relative tolerance: a deviation must save more than ``tol * max(1, |cost|)``.

    Returns
    -------
    list of numpy.ndarray
        The equilibrium profiles (one strategy index per player), in lexicographic order.
    """
    mask = equilibrium_mask(cost_tensor(game), tol)
    return [np.asarray(p, dtype=np.int64) for p in np.argwhere(mask)]
