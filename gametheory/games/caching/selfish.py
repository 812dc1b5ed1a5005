"""The selfish caching game of Chun et al. (PODC 2004), built on a metric or a topology.

``n`` nodes sit in a metric space with distances ``d[i, j]``. For each object ``o``, node
``i`` has a demand ``w[i, o]`` and a placement cost ``alpha[i, o]``; it either holds a
replica (and pays ``alpha[i, o]``) or fetches the object from the nearest replica (and
pays ``w[i, o] * d(i, S_o)``, with ``S_o`` the set of nodes holding ``o``). Without
capacities the objects decouple: the game is ``m`` independent single-object games.

The "no replica anywhere" case is made explicit by an *origin*: a permanent replica at
distance ``origin_distance[i, o]`` from node ``i`` (the object's home server). The
nearest replica distance is ``min(origin_distance[i, o], min_{j in S_o} d[i, j])``; the
default ``origin_distance = inf`` is Chun et al.'s model, where a node with demand and no
replica anywhere pays an infinite cost. A node with zero demand pays nothing when it
holds no replica (``0 * inf = 0`` by convention).

A placement is a boolean matrix ``X`` of shape ``(n_nodes, n_objects)``. The game also
implements the :class:`~gametheory.games.base.FiniteGame` protocol for small numbers of
objects: player ``i``'s strategy is the bitmask ``sum_o X[i, o] 2^o`` of the objects it
holds. The topology builders (complete graph, star, line, grid, clique with an outlier, GPU
cluster) take their distances from :mod:`gametheory.games.caching.metric`.

References
----------
Chun, B.-G., Chaudhuri, K., Wee, H., Barreno, M., Papadimitriou, C. H., Kubiatowicz, J.
(2004). Selfish caching in distributed systems: a game-theoretic analysis. PODC 2004.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import networkx as nx
import numpy as np
from numpy.typing import ArrayLike, NDArray

from gametheory.errors import GameError
from gametheory.games.base import FiniteGameBase, as_profile
from gametheory.games.caching.metric import (
    clique_with_outlier_metric,
    cluster_metric,
    complete_metric,
    grid_metric,
    line_metric,
    metric_distances,
    star_metric,
)
from gametheory.games.caching.validation import as_float_array, object_count, per_node_object

__all__ = ["SelfishCachingGame"]

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

#: Largest number of objects for the bitmask strategies of the FiniteGame protocol.
MAX_PROTOCOL_OBJECTS = 16


class SelfishCachingGame(FiniteGameBase):
    """The selfish caching game of Chun et al. (PODC 2004), one subgame per object.

    Parameters
    ----------
    distances
        Metric distances between the ``n`` nodes: a square matrix, or a networkx graph
        whose shortest paths (edge attribute ``weight``) define the metric.
    demand
        Demand ``w[i, o] >= 0``: a scalar, one value per node, or an ``(n, m)`` array.
    placement_cost
        Placement cost ``alpha[i, o] >= 0``, finite; same shapes as ``demand``.
    origin_distance
        Distance from each node to the object's origin, a permanent replica that serves
        when it is nearer than every cached replica (``inf``: no origin, Chun et al.'s
        model). Scalar, per node, or ``(n, m)``.
    miss_cost
        The same convention named as a cost: what one unit of demand pays on a miss (no
        replica nearer than the origin), i.e. the origin's distance. Give at most one of
        ``miss_cost`` and ``origin_distance``.
    n_objects
        Number of objects ``m`` when no argument is two-dimensional (default 1).
    metric
        Require the distances to be a metric (symmetric, triangle inequality). The
        equilibrium test does not need it, but the greedy construction needs symmetry.
    weight
        Edge attribute of the lengths when ``distances`` is a graph.

    Raises
    ------
    GameError
        On malformed distances (see
        :func:`~gametheory.games.caching.metric.metric_distances`), negative or NaN demands,
        negative, NaN or infinite placement costs, or negative origin distances.

    Examples
    --------
    >>> game = SelfishCachingGame.star(5, placement_cost=1.9)
    >>> game.total_cost([[True], [False], [False], [False], [False]])
    5.9
    """

    def __init__(
        self,
        distances: ArrayLike | nx.Graph,
        demand: ArrayLike = 1.0,
        placement_cost: ArrayLike = 1.0,
        *,
        origin_distance: ArrayLike | None = None,
        miss_cost: ArrayLike | None = None,
        n_objects: int | None = None,
        metric: bool = True,
        weight: str = "weight",
    ) -> None:
        if origin_distance is not None and miss_cost is not None:
            raise GameError("give at most one of origin_distance and miss_cost (the same thing)")
        origin_name = "origin_distance" if miss_cost is None else "miss_cost"
        if origin_distance is None:
            origin_distance = np.inf if miss_cost is None else miss_cost
        d, labels = metric_distances(distances, weight=weight, metric=metric)
        n = d.shape[0]
        m = object_count(n_objects, demand, placement_cost, origin_distance)
        self._d = d
        self._d.setflags(write=False)
        self.labels: list[Hashable] = labels
        self.metric = bool(metric)
        self.demand = per_node_object(demand, "demand", n, m, finite=True)
        self.placement_cost = per_node_object(placement_cost, "placement_cost", n, m, finite=True)
        self.origin_distance = per_node_object(origin_distance, origin_name, n, m, finite=False)
        for arr in (self.demand, self.placement_cost, self.origin_distance):
            arr.setflags(write=False)

    # ------------------------------------------------------------------ data

    @property
    def distances(self) -> FloatArray:
        """The ``(n, n)`` distance matrix (read-only)."""
        return self._d

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return int(self._d.shape[0])

    @property
    def n_objects(self) -> int:
        """Number of objects."""
        return int(self.demand.shape[1])

    @property
    def symmetric(self) -> bool:
        """Whether the distances are symmetric."""
        return bool(np.allclose(self._d, self._d.T, rtol=1e-9, atol=0.0))

    def __repr__(self) -> str:
        return f"SelfishCachingGame(n_nodes={self.n_nodes}, n_objects={self.n_objects})"

    def _repr_html_(self) -> str:
        return (
            "<b>SelfishCachingGame</b> "
            f"{self.n_nodes} nodes, {self.n_objects} objects; demand in "
            f"[{self.demand.min():.4g}, {self.demand.max():.4g}], placement cost in "
            f"[{self.placement_cost.min():.4g}, {self.placement_cost.max():.4g}], "
            f"origin distance in [{self.origin_distance.min():.4g}, "
            f"{self.origin_distance.max():.4g}]"
        )

    def with_node(
        self,
        distances_to_nodes: ArrayLike,
        demand: ArrayLike = 1.0,
        placement_cost: ArrayLike = 1.0,
        *,
        origin_distance: ArrayLike = np.inf,
        label: Hashable | None = None,
    ) -> SelfishCachingGame:
        """A copy of the game with one more node (for "what if we add a cache" questions).

        Parameters
        ----------
        distances_to_nodes
            Distance from the new node to each existing node, shape ``(n,)``.
        demand, placement_cost, origin_distance
            The new node's parameters: a scalar or one value per object.
        label
            Label of the new node (default ``n``).

        Raises
        ------
        GameError
            If the row has the wrong length or the extended matrix is not a metric (when
            the game requires one).
        """
        row = as_float_array(distances_to_nodes, "distances_to_nodes")
        n, m = self.n_nodes, self.n_objects
        if row.shape != (n,):
            raise GameError(f"distances_to_nodes must have shape ({n},), got {row.shape}")
        d = np.zeros((n + 1, n + 1))
        d[:n, :n] = self._d
        d[n, :n] = row
        d[:n, n] = row
        extra = {
            name: per_node_object(
                np.reshape(as_float_array(value, name), (1, -1)), name, 1, m, finite=False
            )
            for name, value in (
                ("demand", demand),
                ("placement_cost", placement_cost),
                ("origin_distance", origin_distance),
            )
        }
        game = SelfishCachingGame(
            d,
            np.vstack([self.demand, extra["demand"]]),
            np.vstack([self.placement_cost, extra["placement_cost"]]),
            origin_distance=np.vstack([self.origin_distance, extra["origin_distance"]]),
            metric=self.metric,
        )
        game.labels = [*self.labels, n if label is None else label]
        return game

    # ------------------------------------------------------------ placements

    def as_placement(self, placement: ArrayLike) -> BoolArray:
        """Validate a placement: a boolean ``(n_nodes, n_objects)`` matrix.

        A 1-D array of length ``n_nodes`` is accepted for single-object games.

        Raises
        ------
        GameError
            If the shape is wrong or the entries are not 0/1 (booleans).
        """
        try:
            arr = np.asarray(placement)
        except (TypeError, ValueError) as exc:
            raise GameError(f"placement must be a boolean matrix, got {placement!r}") from exc
        n, m = self.n_nodes, self.n_objects
        if arr.ndim == 1 and m == 1:
            arr = arr[:, None]
        if arr.shape != (n, m):
            raise GameError(f"placement must have shape ({n}, {m}), got {arr.shape}")
        if arr.dtype != np.bool_:
            if not np.all((arr == 0) | (arr == 1)):
                raise GameError("placement entries must be booleans (0 or 1)")
            arr = arr.astype(np.bool_)
        return arr

    def nearest_distances(self, placement: ArrayLike, *, exclude_self: bool = False) -> FloatArray:
        """Distance from each node to its nearest replica of each object, ``(n, m)``.

        The origin counts as a replica at ``origin_distance``. With ``exclude_self`` the
        node's own replica is ignored (``d(i, S_o minus {i})`` in Chun et al.).
        """
        x = self.as_placement(placement)
        d = self._d.copy()
        if exclude_self:
            np.fill_diagonal(d, np.inf)
        n, m = x.shape
        out = self.origin_distance.copy()
        chunk = max(1, 4_000_000 // max(1, n * n))
        for lo in range(0, m, chunk):
            held = x[:, lo : lo + chunk]  # (n_holder, k)
            cand = np.where(held[None, :, :], d[:, :, None], np.inf)  # (i, holder, k)
            out[:, lo : lo + chunk] = np.minimum(out[:, lo : lo + chunk], cand.min(axis=1))
        return out

    def access_costs(self, placement: ArrayLike, *, exclude_self: bool = False) -> FloatArray:
        """``w[i, o] * d(i, S_o)``, with ``0 * inf = 0`` for nodes without demand."""
        near = self.nearest_distances(placement, exclude_self=exclude_self)
        with np.errstate(invalid="ignore"):
            cost = self.demand * near
        return np.where(self.demand > 0, cost, 0.0)

    def cost_matrix(self, placement: ArrayLike) -> FloatArray:
        """Cost of each node for each object, ``(n, m)``: ``alpha`` if held, else access."""
        x = self.as_placement(placement)
        return np.where(x, self.placement_cost, self.access_costs(x))

    def node_costs(self, placement: ArrayLike) -> FloatArray:
        """Cost of each node summed over the objects, ``(n,)``."""
        return np.asarray(self.cost_matrix(placement).sum(axis=1), dtype=np.float64)

    def object_costs(self, placement: ArrayLike) -> FloatArray:
        """Social cost of each object's subgame, ``(m,)``."""
        return np.asarray(self.cost_matrix(placement).sum(axis=0), dtype=np.float64)

    def total_cost(self, placement: ArrayLike) -> float:
        """Social cost of a placement: the sum of all nodes' costs."""
        return float(self.cost_matrix(placement).sum())

    def object_subgame(self, obj: int) -> SelfishCachingGame:
        """The single-object game of object ``obj`` (the objects decouple)."""
        if not 0 <= obj < self.n_objects:
            raise GameError(f"obj must be in [0, {self.n_objects}), got {obj}")
        game = SelfishCachingGame(
            self._d,
            self.demand[:, obj],
            self.placement_cost[:, obj],
            origin_distance=self.origin_distance[:, obj],
            metric=False,
        )
        game.metric = self.metric
        game.labels = list(self.labels)
        return game

    # ---------------------------------------------------- FiniteGame protocol

    def _check_protocol(self) -> int:
        m = self.n_objects
        if m > MAX_PROTOCOL_OBJECTS:
            raise GameError(
                f"the bitmask strategies of the FiniteGame protocol need n_objects <= "
                f"{MAX_PROTOCOL_OBJECTS}, got {m}; use placements and "
                "gametheory.solvers.caching.selfish"
            )
        return m

    @property
    def n_players(self) -> int:
        """Number of players (nodes)."""
        return self.n_nodes

    @property
    def n_strategies(self) -> tuple[int, ...]:
        """``2^m`` strategies per node: the subsets of objects it holds."""
        return (2 ** self._check_protocol(),) * self.n_nodes

    def profile_to_placement(self, profile: ArrayLike) -> BoolArray:
        """The placement of a profile of bitmask strategies."""
        prof = as_profile(self, profile)
        bits = 1 << np.arange(self.n_objects, dtype=np.int64)
        return np.asarray((prof[:, None] & bits[None, :]) != 0, dtype=np.bool_)

    def placement_to_profile(self, placement: ArrayLike) -> NDArray[np.int64]:
        """The bitmask profile of a placement."""
        self._check_protocol()
        x = self.as_placement(placement)
        bits = 1 << np.arange(self.n_objects, dtype=np.int64)
        return np.asarray(x.astype(np.int64) @ bits, dtype=np.int64)

    def costs(self, profile: ArrayLike) -> FloatArray:
        """Cost of every node at a profile of bitmask strategies."""
        return self.node_costs(self.profile_to_placement(profile))

    def deviation_costs(self, profile: ArrayLike, player: int) -> FloatArray:
        """Cost of node ``player`` for each of its ``2^m`` subsets, the others fixed."""
        x = self.profile_to_placement(profile)
        if not 0 <= player < self.n_nodes:
            raise GameError(f"player must be in [0, {self.n_nodes}), got {player}")
        away = self.access_costs(x, exclude_self=True)[player]  # cost per object if not held
        hold = self.placement_cost[player]
        m = self.n_objects
        masks = ((np.arange(2**m, dtype=np.int64)[:, None] >> np.arange(m)[None, :]) & 1) == 1
        return np.asarray(np.where(masks, hold, away).sum(axis=1), dtype=np.float64)

    # -------------------------------------------------------------- builders

    @classmethod
    def complete(
        cls, n: int, placement_cost: ArrayLike, *, distance: float = 1.0, **kwargs: Any
    ) -> SelfishCachingGame:
        """Complete graph ``K_n`` with every pair at ``distance`` (one NVLink domain).

        With uniform demand and placement cost, PoA = PoS = 1 (THEORY.md section 3):
        ``K_6``, ``distance = 1``, ``placement_cost = 2``: equilibrium = optimum = 7.
        Other keyword arguments go to the constructor.
        """
        return cls(complete_metric(n, distance), placement_cost=placement_cost, **kwargs)

    @classmethod
    def star(
        cls, n: int, placement_cost: ArrayLike, *, arm: float = 1.0, **kwargs: Any
    ) -> SelfishCachingGame:
        """Star with ``n`` nodes: centre 0 and leaves ``1..n-1`` at distance ``arm``.

        Leaves are ``2 arm`` apart. With unit demand and ``arm < alpha < 2 arm`` the
        equilibria are ``{centre}`` (the optimum, cost ``alpha + n - 1``) and ``{all
        leaves}`` (cost ``(n - 1) alpha + 1``); ``n = 5``, ``alpha = 1.9``: 5.9 and 8.6.
        """
        return cls(star_metric(n, arm), placement_cost=placement_cost, **kwargs)

    @classmethod
    def line(
        cls, n: int, placement_cost: ArrayLike, *, spacing: float = 1.0, **kwargs: Any
    ) -> SelfishCachingGame:
        """Path of ``n`` nodes numbered ``0..n-1`` left to right, ``spacing`` apart.

        ``n = 14``, unit demand, ``alpha = 14``: optimum 52 at ``{3, 10}``, every
        equilibrium is a single replica, worst 105 (an end node), best 63 (node 6 or 7).
        """
        return cls(line_metric(n, spacing), placement_cost=placement_cost, **kwargs)

    @classmethod
    def grid(
        cls, rows: int, cols: int, placement_cost: ArrayLike, *, spacing: float = 1.0, **kwargs: Any
    ) -> SelfishCachingGame:
        """``rows x cols`` grid graph with its shortest-path (Manhattan) metric.

        Node ``r * cols + c`` is at row ``r``, column ``c``.
        """
        return cls(grid_metric(rows, cols, spacing), placement_cost=placement_cost, **kwargs)

    @classmethod
    def clique_with_outlier(
        cls,
        n: int,
        placement_cost: ArrayLike,
        *,
        spread: float = 1.0,
        far: float = 10.0,
        **kwargs: Any,
    ) -> SelfishCachingGame:
        """A clique ``0..n-2`` (pairwise ``spread`` apart) and node ``n - 1`` at ``far``.

        A metric whenever ``spread <= 2 far``. With unit demand, ``spread < alpha`` and
        ``far <= alpha`` the outlier alone is the worst equilibrium (``alpha + (n - 1)
        far``) while one clique replica is optimal (``alpha + far + (n - 2) spread``): with
        ``far = alpha`` and a small ``spread`` the PoA approaches ``n / 2``, the Theta(n)
        growth of general metrics (:func:`gametheory.bounds.caching.outlier_poa`).
        """
        d = clique_with_outlier_metric(n, spread, far)
        return cls(d, placement_cost=placement_cost, **kwargs)

    @classmethod
    def cluster(
        cls,
        n_nodes: int,
        gpus_per_node: int,
        placement_cost: ArrayLike,
        *,
        intra: float = 1.0,
        inter: float = 10.0,
        **kwargs: Any,
    ) -> SelfishCachingGame:
        """A GPU cluster: ``n_nodes`` servers of ``gpus_per_node`` GPUs each.

        GPUs of one server are ``intra`` apart (NVLink), GPUs of different servers
        ``inter`` apart (InfiniBand); GPU ``g`` of server ``s`` is node
        ``s * gpus_per_node + g``. Any ``0 < intra <= inter`` gives a metric (an
        ultrametric: ``d(i, k) <= max(d(i, j), d(j, k))``).
        """
        d = cluster_metric(n_nodes, gpus_per_node, intra, inter)
        return cls(d, placement_cost=placement_cost, **kwargs)
