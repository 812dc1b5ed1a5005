"""The selfish caching game of Chun et al. (PODC 2004) and its topology builders.

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
holds.

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
from scipy.sparse.csgraph import shortest_path

from gametheory.errors import GameError
from gametheory.games.base import FiniteGameBase, as_profile

__all__ = ["SelfishCachingGame", "metric_distances"]

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

#: Largest number of objects for the bitmask strategies of the FiniteGame protocol.
MAX_PROTOCOL_OBJECTS = 16


def as_float_array(value: object, name: str) -> FloatArray:
    """``value`` as a float array without NaN (GameError naming ``name`` otherwise)."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise GameError(f"{name} must be numeric, got {value!r}") from exc
    if np.any(np.isnan(arr)):
        raise GameError(f"{name} contains NaN")
    return arr


def _check_metric(d: FloatArray, name: str, tol: float) -> None:
    """Raise GameError unless ``d`` is symmetric and satisfies the triangle inequality."""
    asym = np.abs(d - d.T) > tol * np.maximum(1.0, np.abs(d))
    if np.any(asym):
        i, j = (int(v) for v in np.argwhere(asym)[0])
        raise GameError(
            f"{name} must be symmetric (a metric): d[{i}, {j}] = {d[i, j]:g} but "
            f"d[{j}, {i}] = {d[j, i]:g}; pass metric=False for directed distances"
        )
    for k in range(d.shape[0]):
        via = d[:, k : k + 1] + d[k : k + 1, :]
        bad = d > via + tol * np.maximum(1.0, via)
        if np.any(bad):
            i, j = (int(v) for v in np.argwhere(bad)[0])
            raise GameError(
                f"{name} violates the triangle inequality: d[{i}, {j}] = {d[i, j]:g} > "
                f"d[{i}, {k}] + d[{k}, {j}] = {via[i, j]:g}; pass a graph to use its "
                "shortest-path metric, or metric=False"
            )


def metric_distances(
    distances: ArrayLike | nx.Graph,
    *,
    weight: str = "weight",
    metric: bool = True,
    tol: float = 1e-9,
) -> tuple[FloatArray, list[Hashable]]:
    """Validate a distance matrix, or compute the shortest-path metric of a graph.

    Parameters
    ----------
    distances
        A square matrix of nonnegative finite distances with a zero diagonal, or a
        networkx graph whose edge attribute ``weight`` (default 1) is a nonnegative length;
        the distance of two nodes is then the length of a shortest path.
    weight
        Edge attribute holding the lengths of a graph.
    metric
        Require a metric (symmetric, triangle inequality). With ``False`` only
        nonnegativity and the zero diagonal are checked (directed distances).
    tol
        Relative tolerance of the symmetry and triangle checks.

    Returns
    -------
    tuple
        The distance matrix and the node labels (graph nodes, or ``0..n-1``).

    Raises
    ------
    GameError
        If the matrix is not square, has negative, infinite or NaN entries, a nonzero
        diagonal, or is not a metric when one is required; if a graph is empty, has a
        negative length or is disconnected.
    """
    if isinstance(distances, nx.Graph):
        graph = distances
        labels: list[Hashable] = list(graph.nodes)
        if not labels:
            raise GameError("distances: the graph has no nodes")
        for u, v, data in graph.edges(data=True):
            length = data.get(weight, 1.0)
            if not isinstance(length, (int, float)) or not np.isfinite(length) or length < 0:
                raise GameError(
                    f"distances: edge ({u!r}, {v!r}) has {weight}={length!r}; lengths must be "
                    "finite and nonnegative"
                )
        adj = nx.to_scipy_sparse_array(graph, nodelist=labels, weight=weight, format="csr")
        d = np.asarray(shortest_path(adj, method="D", directed=graph.is_directed()))
        if not np.all(np.isfinite(d)):
            i, j = (int(v) for v in np.argwhere(~np.isfinite(d))[0])
            raise GameError(
                f"distances: the graph is not connected (no path from {labels[i]!r} to "
                f"{labels[j]!r})"
            )
    else:
        d = as_float_array(distances, "distances")
        labels = list(range(d.shape[0])) if d.ndim == 2 else []
    if d.ndim != 2 or d.shape[0] != d.shape[1] or d.shape[0] == 0:
        raise GameError(f"distances must be a nonempty square matrix, got shape {d.shape}")
    if not np.all(np.isfinite(d)):
        raise GameError("distances must be finite (use origin_distance for an unreachable origin)")
    if np.any(d < 0):
        i, j = (int(v) for v in np.argwhere(d < 0)[0])
        raise GameError(f"distances must be nonnegative, got d[{i}, {j}] = {d[i, j]:g}")
    if np.any(np.diag(d) != 0):
        i = int(np.flatnonzero(np.diag(d))[0])
        raise GameError(f"distances must have a zero diagonal, got d[{i}, {i}] = {d[i, i]:g}")
    if metric:
        _check_metric(d, "distances", tol)
    return np.ascontiguousarray(d), labels


def _per_node_object(value: ArrayLike, name: str, n: int, m: int, *, finite: bool) -> FloatArray:
    arr = as_float_array(value, name)
    if arr.ndim == 1 and arr.shape[0] == n:
        arr = arr[:, None]
    try:
        out = np.broadcast_to(arr, (n, m)).astype(np.float64)
    except ValueError as exc:
        raise GameError(
            f"{name} must be a scalar, one value per node (shape ({n},)) or one per node and "
            f"object (shape ({n}, {m})), got shape {arr.shape}"
        ) from exc
    if np.any(out < 0):
        i, o = (int(v) for v in np.argwhere(out < 0)[0])
        raise GameError(f"{name} must be nonnegative, got {out[i, o]:g} at node {i}, object {o}")
    if finite and not np.all(np.isfinite(out)):
        i, o = (int(v) for v in np.argwhere(~np.isfinite(out))[0])
        raise GameError(f"{name} must be finite, got {out[i, o]:g} at node {i}, object {o}")
    return out


def _n_objects(n: int, n_objects: int | None, *arrays: ArrayLike) -> int:
    """Number of objects: given, or read from the first 2-D argument (else 1)."""
    shapes = [np.shape(a) for a in arrays]
    found = [s[1] for s in shapes if len(s) == 2]
    if n_objects is not None:
        if isinstance(n_objects, bool) or not isinstance(n_objects, (int, np.integer)):
            raise GameError(f"n_objects must be a positive integer, got {n_objects!r}")
        if n_objects < 1:
            raise GameError(f"n_objects must be a positive integer, got {n_objects!r}")
        return int(n_objects)
    return int(found[0]) if found else 1


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
        On malformed distances (see :func:`metric_distances`), negative or NaN demands,
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
        m = _n_objects(n, n_objects, demand, placement_cost, origin_distance)
        self._d = d
        self._d.setflags(write=False)
        self.labels: list[Hashable] = labels
        self.metric = bool(metric)
        self.demand = _per_node_object(demand, "demand", n, m, finite=True)
        self.placement_cost = _per_node_object(placement_cost, "placement_cost", n, m, finite=True)
        self.origin_distance = _per_node_object(origin_distance, origin_name, n, m, finite=False)
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
            name: _per_node_object(
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
        check_count(n, "n")
        d = np.full((n, n), positive_number(distance, "distance"))
        np.fill_diagonal(d, 0.0)
        return cls(d, placement_cost=placement_cost, **kwargs)

    @classmethod
    def star(
        cls, n: int, placement_cost: ArrayLike, *, arm: float = 1.0, **kwargs: Any
    ) -> SelfishCachingGame:
        """Star with ``n`` nodes: centre 0 and leaves ``1..n-1`` at distance ``arm``.

        Leaves are ``2 arm`` apart. With unit demand and ``arm < alpha < 2 arm`` the
        equilibria are ``{centre}`` (the optimum, cost ``alpha + n - 1``) and ``{all
        leaves}`` (cost ``(n - 1) alpha + 1``); ``n = 5``, ``alpha = 1.9``: 5.9 and 8.6.
        """
        check_count(n, "n", minimum=2)
        a = positive_number(arm, "arm")
        d = np.full((n, n), 2.0 * a)
        d[0, :] = a
        d[:, 0] = a
        np.fill_diagonal(d, 0.0)
        return cls(d, placement_cost=placement_cost, **kwargs)

    @classmethod
    def line(
        cls, n: int, placement_cost: ArrayLike, *, spacing: float = 1.0, **kwargs: Any
    ) -> SelfishCachingGame:
        """Path of ``n`` nodes numbered ``0..n-1`` left to right, ``spacing`` apart.

        ``n = 14``, unit demand, ``alpha = 14``: optimum 52 at ``{3, 10}``, every
        equilibrium is a single replica, worst 105 (an end node), best 63 (node 6 or 7).
        """
        check_count(n, "n")
        pos = np.arange(n, dtype=np.float64) * positive_number(spacing, "spacing")
        return cls(np.abs(pos[:, None] - pos[None, :]), placement_cost=placement_cost, **kwargs)

    @classmethod
    def grid(
        cls, rows: int, cols: int, placement_cost: ArrayLike, *, spacing: float = 1.0, **kwargs: Any
    ) -> SelfishCachingGame:
        """``rows x cols`` grid graph with its shortest-path (Manhattan) metric.

        Node ``r * cols + c`` is at row ``r``, column ``c``.
        """
        check_count(rows, "rows")
        check_count(cols, "cols")
        h = positive_number(spacing, "spacing")
        r, c = np.divmod(np.arange(rows * cols), cols)
        d = h * (np.abs(r[:, None] - r[None, :]) + np.abs(c[:, None] - c[None, :]))
        return cls(d.astype(np.float64), placement_cost=placement_cost, **kwargs)

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
        check_count(n, "n", minimum=2)
        a, b = positive_number(spread, "spread"), positive_number(far, "far")
        d = np.full((n, n), a)
        d[-1, :] = b
        d[:, -1] = b
        np.fill_diagonal(d, 0.0)
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
        check_count(n_nodes, "n_nodes")
        check_count(gpus_per_node, "gpus_per_node")
        a, b = positive_number(intra, "intra"), positive_number(inter, "inter")
        if a > b:
            raise GameError(f"intra ({a:g}) must not exceed inter ({b:g})")
        server = np.arange(n_nodes * gpus_per_node) // gpus_per_node
        d = np.where(server[:, None] == server[None, :], a, b)
        np.fill_diagonal(d, 0.0)
        return cls(d.astype(np.float64), placement_cost=placement_cost, **kwargs)


def check_count(value: object, name: str, *, minimum: int = 1) -> int:
    """An integer count of at least ``minimum`` (GameError naming ``name`` otherwise)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise GameError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def positive_number(value: object, name: str) -> float:
    """A positive finite number (GameError naming ``name`` otherwise)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        raise GameError(f"{name} must be a positive number, got {value!r}")
    v = float(value)
    if not np.isfinite(v) or v <= 0:
        raise GameError(f"{name} must be a positive finite number, got {value!r}")
    return v
