"""Atomic congestion games (Rosenthal 1973), unweighted and weighted.

Each player picks one strategy, a set of resources; a resource ``e`` carrying load
``l_e`` (the number of its users, or the sum of their weights) costs ``c_e(l_e)`` to each
user. Player ``i`` pays ``w_i sum_{e in s_i} c_e(l_e)`` (``w_i = 1`` when unweighted), so the
social cost is ``sum_e l_e c_e(l_e)``.

Unweighted games have Rosenthal's exact potential ``sum_e sum_{k=1}^{l_e} c_e(k)``
(Rosenthal, Int. J. Game Theory 2(1) 1973) whatever the cost functions. Weighted games
with affine costs ``c_e = b_e + a_e x`` have the exact potential
``sum_e b_e l_e + a_e (l_e^2 + sum_{i on e} w_i^2) / 2`` (Fotakis, Kontogiannis and
Spirakis, TCS 348 2005); other weighted games need not have one.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence

import networkx as nx
import numpy as np
import scipy.sparse as sps
from numpy.typing import ArrayLike, NDArray

from gametheory.costs import CostFunction, CostVector, Polynomial
from gametheory.errors import GameError
from gametheory.games.base import FiniteGameBase, as_profile

__all__ = ["AtomicCongestionGame", "CongestionState"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


class AtomicCongestionGame(FiniteGameBase):
    """An atomic congestion game.

    Parameters
    ----------
    resource_costs
        One cost function (or number, a constant) per resource.
    strategies
        ``strategies[i]`` lists the strategies of player ``i``; each strategy is an
        iterable of resource indices. Players with equal strategy lists share storage.
    weights
        Player weights (positive); None for an unweighted game.
    resource_names
        Optional labels of the resources (for reprs and network games).

    Examples
    --------
    >>> import gametheory as gt
    >>> g = AtomicCongestionGame([gt.Affine(0, 1), gt.Constant(2)], [[(0,), (1,)]] * 2)
    >>> g.costs([0, 0]).tolist()
    [2.0, 2.0]
    """

    def __init__(
        self,
        resource_costs: Sequence[CostFunction | float | int],
        strategies: Sequence[Sequence[Iterable[int]]],
        weights: ArrayLike | None = None,
        resource_names: Sequence[Hashable] | None = None,
    ) -> None:
        if len(resource_costs) == 0:
            raise GameError("resource_costs is empty: a congestion game needs resources")
        self.cost_vector = CostVector(resource_costs)
        self.m = len(self.cost_vector)
        if len(strategies) == 0:
            raise GameError("strategies is empty: a congestion game needs players")
        self._set_of_player, self._sets = self._intern(strategies)
        self._n = len(strategies)
        if weights is None:
            self.weights: FloatArray | None = None
        else:
            w = np.asarray(weights, dtype=np.float64)
            if w.shape != (self._n,) or not np.all(np.isfinite(w)) or np.any(w <= 0):
                raise GameError(f"weights must be {self._n} positive finite numbers, got {w!r}")
            self.weights = w
        names = list(resource_names) if resource_names is not None else list(range(self.m))
        if len(names) != self.m:
            raise GameError(f"resource_names has {len(names)} labels for {self.m} resources")
        self.resource_names = names

    def _intern(
        self, strategies: Sequence[Sequence[Iterable[int]]]
    ) -> tuple[IntArray, list[list[IntArray]]]:
        """Deduplicate the players' strategy lists and validate resource indices."""
        seen: dict[tuple[tuple[int, ...], ...], int] = {}
        sets: list[list[IntArray]] = []
        owner = np.empty(len(strategies), dtype=np.int64)
        for i, strats in enumerate(strategies):
            key = tuple(tuple(sorted({int(e) for e in s})) for s in strats)
            if not key:
                raise GameError(f"player {i} has an empty strategy set")
            for s in key:
                if any(e < 0 or e >= self.m for e in s):
                    raise GameError(
                        f"player {i} has a strategy {s} with a resource outside 0..{self.m - 1}"
                    )
            if key not in seen:
                seen[key] = len(sets)
                sets.append([np.asarray(s, dtype=np.int64) for s in key])
            owner[i] = seen[key]
        return owner, sets

    # --- constructors -------------------------------------------------------------
    @classmethod
    def singleton(
        cls,
        costs: Sequence[CostFunction | float | int],
        n_players: int,
        allowed: Sequence[Sequence[int]] | None = None,
        weights: ArrayLike | None = None,
    ) -> AtomicCongestionGame:
        """A singleton (load-balancing) game: each player picks one resource.

        Parameters
        ----------
        costs
            Cost function of each of the ``m`` resources (machines, servers, workers).
        n_players
            Number of players (jobs, requests).
        allowed
            Optional per-player lists of allowed resources (default: all).
        weights
            Optional player weights.
        """
        if n_players < 1:
            raise GameError(f"n_players must be >= 1, got {n_players}")
        m = len(costs)
        if allowed is None:
            everything: list[tuple[int, ...]] = [(e,) for e in range(m)]
            strategies: list[list[tuple[int, ...]]] = [everything] * n_players
        else:
            if len(allowed) != n_players:
                raise GameError(f"allowed has {len(allowed)} entries for {n_players} players")
            strategies = [[(int(e),) for e in a] for a in allowed]
        return cls(costs, strategies, weights=weights)

    @classmethod
    def network(
        cls,
        graph: nx.DiGraph,
        od_pairs: Sequence[tuple[Hashable, Hashable]],
        weights: ArrayLike | None = None,
        cost_attr: str = "cost",
        max_paths: int = 10_000,
    ) -> AtomicCongestionGame:
        """A network congestion game: player ``i`` routes from ``od_pairs[i][0]`` to
        ``od_pairs[i][1]`` along a simple path; edges are the resources.

        Parameters
        ----------
        graph
            Directed graph whose edges carry a cost function in ``cost_attr``.
        od_pairs
            Origin and destination of each player.
        weights
            Optional player weights.
        cost_attr
            Edge attribute holding the cost function.
        max_paths
            Largest number of simple paths enumerated per OD pair.
        """
        edges = list(graph.edges())
        index = {e: k for k, e in enumerate(edges)}
        costs: list[CostFunction | float | int] = []
        for u, v in edges:
            if cost_attr not in graph.edges[u, v]:
                raise GameError(f"edge {(u, v)!r} has no {cost_attr!r} attribute")
            costs.append(graph.edges[u, v][cost_attr])
        paths_of: dict[tuple[Hashable, Hashable], list[tuple[int, ...]]] = {}
        strategies: list[list[tuple[int, ...]]] = []
        for i, (o, d) in enumerate(od_pairs):
            for node in (o, d):
                if node not in graph:
                    raise GameError(f"player {i}: node {node!r} is not in the graph")
            if (o, d) not in paths_of:
                found: list[tuple[int, ...]] = []
                for path in nx.all_simple_edge_paths(graph, o, d):
                    found.append(tuple(index[(u, v)] for u, v in path))
                    if len(found) > max_paths:
                        raise GameError(f"more than {max_paths} paths from {o!r} to {d!r}")
                if not found:
                    raise GameError(f"player {i}: no path from {o!r} to {d!r}")
                paths_of[(o, d)] = found
            strategies.append(paths_of[(o, d)])
        return cls(costs, strategies, weights=weights, resource_names=edges)

    # --- FiniteGame protocol ------------------------------------------------------
    @property
    def n_players(self) -> int:
        return self._n

    @property
    def n_strategies(self) -> tuple[int, ...]:
        return tuple(len(self._sets[s]) for s in self._set_of_player)

    @property
    def resource_costs(self) -> list[CostFunction]:
        """The cost function of each resource."""
        return self.cost_vector.costs

    @property
    def is_singleton(self) -> bool:
        """Whether every strategy is a single resource."""
        return all(len(s) == 1 for strats in self._sets for s in strats)

    def strategy(self, player: int, index: int) -> IntArray:
        """Resources of strategy ``index`` of ``player``."""
        return self._sets[int(self._set_of_player[player])][index]

    def _weights(self) -> FloatArray:
        return np.ones(self._n) if self.weights is None else self.weights

    def _incidence(self, prof: IntArray) -> sps.csr_matrix:
        """Player x resource incidence matrix of the chosen strategies."""
        chosen = [self._sets[int(s)][int(k)] for s, k in zip(self._set_of_player, prof)]
        lengths = np.fromiter((len(c) for c in chosen), dtype=np.int64, count=self._n)
        indptr = np.concatenate([[0], np.cumsum(lengths)])
        indices = np.concatenate(chosen) if chosen else np.zeros(0, dtype=np.int64)
        data = np.ones(indices.size)
        return sps.csr_matrix((data, indices, indptr), shape=(self._n, self.m))

    def loads(self, profile: ArrayLike) -> FloatArray:
        """Load of each resource: the number (or total weight) of its users."""
        prof = as_profile(self, profile)
        return np.asarray(self._incidence(prof).T @ self._weights(), dtype=np.float64)

    def costs(self, profile: ArrayLike) -> FloatArray:
        prof = as_profile(self, profile)
        inc = self._incidence(prof)
        latency = self.cost_vector.value(inc.T @ self._weights())
        return np.asarray(self._weights() * (inc @ latency), dtype=np.float64)

    def costs_many(self, profiles: ArrayLike) -> FloatArray:
        """Players' costs at many profiles at once: ``profiles`` of shape (P, n) gives
        (P, n)."""
        profs = np.asarray(profiles, dtype=np.int64)
        if profs.ndim != 2 or profs.shape[1] != self._n:
            raise GameError(f"profiles must have shape (P, {self._n}), got {profs.shape}")
        w = self._weights()
        mats = [_strategy_matrix(strats, self.m) for strats in self._sets]
        chosen = []
        loads = np.zeros((profs.shape[0], self.m))
        for i in range(self._n):
            rows = np.asarray(mats[int(self._set_of_player[i])])[profs[:, i]]
            chosen.append(rows)
            loads += w[i] * rows
        costs = self.resource_costs
        latency = np.column_stack([np.asarray(c(loads[:, e])) for e, c in enumerate(costs)])
        return np.column_stack(
            [w[i] * np.where(chosen[i] > 0, latency, 0.0).sum(axis=1) for i in range(self._n)]
        )

    def deviation_costs(self, profile: ArrayLike, player: int) -> FloatArray:
        if not 0 <= player < self._n:
            raise GameError(f"player must be in 0..{self._n - 1}, got {player}")
        return self.state(profile).deviation_costs(player)

    def state(self, profile: ArrayLike) -> CongestionState:
        """An incremental evaluator starting at ``profile`` (used by the dynamics)."""
        return CongestionState(self, profile)

    # --- potential ----------------------------------------------------------------
    @property
    def has_potential(self) -> bool:
        """Whether an exact potential is known: unweighted, or weighted with affine costs."""
        if self.weights is None:
            return True
        return all(isinstance(c, Polynomial) and c.degree <= 1 for c in self.resource_costs)

    def potential(self, profile: ArrayLike) -> float:
        """Exact potential (Rosenthal; Fotakis et al. for weighted affine games).

        Raises
        ------
        GameError
            For weighted games with non-affine costs, which need not have a potential.
        """
        prof = as_profile(self, profile)
        loads = self.loads(prof)
        if self.weights is None:
            counts = np.rint(loads).astype(np.int64)
            return float(
                sum(float(c.rosenthal(int(n))) for c, n in zip(self.resource_costs, counts))
            )
        if not self.has_potential:
            raise GameError(
                "a weighted congestion game has a known potential only for affine costs"
            )
        inc = self._incidence(prof)
        sq = np.asarray(inc.T @ (self.weights**2), dtype=np.float64)
        total = 0.0
        for c, load, s2 in zip(self.resource_costs, loads, sq):
            assert isinstance(c, Polynomial)
            coeffs = np.pad(c.coefficients, (0, max(0, 2 - c.coefficients.size)))
            total += coeffs[0] * load + coeffs[1] * (load**2 + s2) / 2.0
        return total

    def social_cost(self, profile: ArrayLike) -> float:
        """Total cost ``sum_e l_e c_e(l_e)``."""
        loads = self.loads(profile)
        used = loads > 0
        return float(np.dot(loads[used], self.cost_vector.value(loads)[used]))

    def __repr__(self) -> str:
        kind = "weighted" if self.weights is not None else "unweighted"
        return (
            f"AtomicCongestionGame({self._n} players, {self.m} resources, {kind}"
            f"{', singleton' if self.is_singleton else ''})"
        )

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{name}</td><td>{cost!r}</td></tr>"
            for name, cost in zip(self.resource_names, self.resource_costs)
        )
        return f"<p>{self!r}</p><table><tr><th>resource</th><th>cost</th></tr>{rows}</table>"


class CongestionState:
    """Incremental evaluation of a congestion game during improvement dynamics.

    Keeps the loads and the resource costs at the current profile (and, for unweighted
    games, at one more user) so that a player's deviation costs cost one small
    matrix-vector product, and a move updates two cost vectors.

    Parameters
    ----------
    game
        The congestion game.
    profile
        Starting profile.
    """

    def __init__(self, game: AtomicCongestionGame, profile: ArrayLike) -> None:
        self.game = game
        self.profile = as_profile(game, profile).copy()
        self._w = game._weights()
        self._unweighted = game.weights is None
        self._matrices = [_strategy_matrix(strats, game.m) for strats in game._sets]
        self.loads = game.loads(self.profile)
        self._refresh()

    def _refresh(self) -> None:
        self._c_now = self.game.cost_vector.value(self.loads)
        if self._unweighted:
            self._c_plus = self.game.cost_vector.value(self.loads + 1.0)

    def _strategies(self, player: int) -> list[IntArray]:
        return self.game._sets[int(self.game._set_of_player[player])]

    def cost(self, player: int) -> float:
        """Current cost of ``player``."""
        res = self._strategies(player)[int(self.profile[player])]
        return float(self._w[player] * self._c_now[res].sum())

    def deviation_costs(self, player: int) -> FloatArray:
        """Cost of each strategy of ``player``, the others fixed."""
        current = self._strategies(player)[int(self.profile[player])]
        w = self._w[player]
        if self._unweighted:
            latency = self._c_plus.copy()
            latency[current] = self._c_now[current]
        else:
            base = self.loads.copy()
            base[current] -= w
            latency = self.game.cost_vector.value(base + w)
        matrix = self._matrices[int(self.game._set_of_player[player])]
        return np.asarray(w * (matrix @ latency), dtype=np.float64)

    def representatives(self) -> IntArray:
        """One player per class of interchangeable players (same strategy set, same
        current strategy, same weight): their deviation gains are equal."""
        width = max(len(s) for s in self.game._sets)
        keys = self.game._set_of_player * width + self.profile
        if not self._unweighted:
            _, wkey = np.unique(self._w, return_inverse=True)
            keys = keys * (int(wkey.max()) + 1) + wkey
        _, first = np.unique(keys, return_index=True)
        return np.asarray(first, dtype=np.int64)

    def move(self, player: int, strategy: int) -> None:
        """Switch ``player`` to ``strategy`` and update loads and costs."""
        strats = self._strategies(player)
        w = self._w[player]
        self.loads[strats[int(self.profile[player])]] -= w
        self.loads[strats[strategy]] += w
        self.profile[player] = strategy
        self._refresh()


def _strategy_matrix(strats: list[IntArray], m: int) -> FloatArray | sps.csr_matrix:
    """Strategy x resource incidence, dense when small."""
    rows = np.repeat(np.arange(len(strats)), [len(s) for s in strats])
    cols = np.concatenate(strats)
    if len(strats) * m <= 1_000_000:
        dense = np.zeros((len(strats), m))
        dense[rows, cols] = 1.0
        return dense
    return sps.csr_matrix((np.ones(cols.size), (rows, cols)), shape=(len(strats), m))
