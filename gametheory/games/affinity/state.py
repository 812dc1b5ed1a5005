"""Incremental cost evaluation of an affinity routing game's profile.

Best-response dynamics and router simulations ask, many times per step, what each worker
would cost one request with the others fixed. These states keep the counters that make
the answer cheap: worker loads and per-(worker, group) member counts for the anonymous
model (a deviation costs ``O(m)``), and the matrix of each request's overlap savings on
each worker for the overlap model (a move updates two columns). See
:mod:`gametheory.games.affinity.game` for the two externality models.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gametheory.errors import GameError
from gametheory.games.base import as_profile

if TYPE_CHECKING:
    from gametheory.games.affinity.game import AffinityRoutingGame

__all__ = ["AnonymousState", "OverlapState"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


class AnonymousState:
    """Incremental evaluation of the anonymous model.

    Keeps the worker loads ``n_w`` and the group counts ``k_{w,g}``; a request of group
    ``g`` pays ``c_w(n_w) + block_time (P_g / k_{w,g} + s_i)`` (the costs of its two
    resources in :attr:`AffinityRoutingGame.congestion`, plus its suffix). A deviation
    costs ``O(m)`` and a move updates four counters, whatever the number of groups.
    """

    def __init__(self, game: AffinityRoutingGame, profile: ArrayLike) -> None:
        self.game = game
        self.profile = as_profile(game, profile).copy()
        self.loads = np.bincount(self.profile, minlength=game.m).astype(np.float64)
        cells = self.profile * game.n_groups + game.group
        size = game.m * game.n_groups
        self.members = np.bincount(cells, minlength=size).reshape(game.m, game.n_groups)
        self._share = game.block_time * game.prefix
        self._suffix = game.block_time * game.suffix
        self._refresh()

    def _refresh(self) -> None:
        self._c_now = self.game.worker_costs.value(self.loads)
        self._c_plus = self.game.worker_costs.value(self.loads + 1.0)

    def cost(self, player: int) -> float:
        """Current cost of ``player``."""
        w, g = int(self.profile[player]), int(self.game.group[player])
        share = self._share[g] / self.members[w, g]
        return float(self._c_now[w] + share + self._suffix[player])

    def deviation_costs(self, player: int) -> FloatArray:
        """Cost of each worker for ``player``, the others fixed."""
        w, g = int(self.profile[player]), int(self.game.group[player])
        latency = self._c_plus.copy()
        latency[w] = self._c_now[w]
        mates = self.members[:, g] + 1.0
        mates[w] -= 1.0
        dev = latency + self._share[g] / mates + self._suffix[player]
        return np.asarray(dev, dtype=np.float64)

    def move(self, player: int, strategy: int) -> None:
        """Move ``player`` to worker ``strategy``."""
        old, g = int(self.profile[player]), int(self.game.group[player])
        self.loads[old] -= 1.0
        self.loads[strategy] += 1.0
        self.members[old, g] -= 1
        self.members[strategy, g] += 1
        self.profile[player] = strategy
        self._refresh()

    def representatives(self) -> IntArray:
        """One request per (group, worker) class: their deviation gains are equal."""
        keys = self.game.group * self.game.m + self.profile
        _, first = np.unique(keys, return_index=True)
        return np.asarray(first, dtype=np.int64)


class OverlapState:
    """Incremental evaluation of the overlap model.

    Keeps the worker loads and the matrix ``S[i, w] = sum_{j on w, j != i} overlap[i, j]``
    of each request's savings on each worker; a move updates two columns of ``S``.
    """

    def __init__(self, game: AffinityRoutingGame, profile: ArrayLike) -> None:
        if game.overlap is None:
            raise GameError("OverlapState needs a game with model='overlap'")
        self.game = game
        self.profile = as_profile(game, profile).copy()
        self._v = game.overlap
        onehot = np.zeros((game.n_players, game.m))
        onehot[np.arange(game.n_players), self.profile] = 1.0
        self.savings = self._v @ onehot
        self.loads = onehot.sum(axis=0)
        self._refresh()

    def _refresh(self) -> None:
        self._c_now = self.game.worker_costs.value(self.loads)
        self._c_plus = self.game.worker_costs.value(self.loads + 1.0)

    def cost(self, player: int) -> float:
        """Current cost of ``player``."""
        w = int(self.profile[player])
        prefill = self.game.prompt_blocks[player] - self.savings[player, w]
        return float(self._c_now[w] + self.game.block_time * prefill)

    def deviation_costs(self, player: int) -> FloatArray:
        """Cost of each worker for ``player``, the others fixed."""
        w = int(self.profile[player])
        latency = self._c_plus.copy()
        latency[w] = self._c_now[w]
        prefill = self.game.prompt_blocks[player] - self.savings[player]
        return np.asarray(latency + self.game.block_time * prefill, dtype=np.float64)

    def move(self, player: int, strategy: int) -> None:
        """Move ``player`` to worker ``strategy``."""
        old = int(self.profile[player])
        self.loads[old] -= 1.0
        self.loads[strategy] += 1.0
        self.savings[:, old] -= self._v[:, player]
        self.savings[:, strategy] += self._v[:, player]
        self.profile[player] = strategy
        self._refresh()

    def representatives(self) -> IntArray:
        """Every request (overlaps make requests distinguishable)."""
        return np.arange(self.game.n_players, dtype=np.int64)
