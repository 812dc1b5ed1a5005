"""Nonatomic routing games (Wardrop 1952): a continuum of travellers on a directed network.

A :class:`RoutingGame` is a directed graph whose edges carry cost (latency) functions and a
set of origin-destination (OD) demands. Each OD demand is a rate of infinitesimal
travellers, each of whom picks a cheapest path; the outcome is a *Wardrop equilibrium*.
The game holds the data and evaluates costs; the solvers live in
:mod:`gametheory.solvers.network.wardrop`.

Two standard facts the game exposes (Beckmann, McGuire and Winsten 1956, *Studies in the
Economics of Transportation*; Roughgarden and Tardos, JACM 49(2) 2002):

* the equilibrium link flows minimise the Beckmann potential
  ``sum_e int_0^{x_e} c_e(t) dt`` (:meth:`RoutingGame.beckmann`);
* the social cost is the total latency ``sum_e x_e c_e(x_e)``
  (:meth:`RoutingGame.social_cost`), minimised by the Wardrop equilibrium of the marginal
  costs ``c_e(x) + x c_e'(x)``.

*Zones* model the TNTP convention of nodes numbered below ``<FIRST THRU NODE>``: a path
may start or end at a zone but never pass through one. Internally each zone ``z`` is split
into a source copy (keeping ``z``'s outgoing edges) and a sink copy (receiving ``z``'s
incoming edges); :class:`RoutingNetwork` is that split network in integer form, the input
of the shortest-path and convex solvers.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import networkx as nx
import numpy as np
import scipy.sparse as sps
from numpy.typing import ArrayLike, NDArray
from scipy.sparse.csgraph import connected_components, shortest_path

from gametheory._lazy import lazy_module
from gametheory.costs import MM1, CostFunction, CostVector, Shared, SumCost, as_cost
from gametheory.errors import GameError

if TYPE_CHECKING:
    from scipy import optimize
else:
    optimize = lazy_module("scipy.optimize")  # 0.15 s to import; one check needs it

__all__ = ["RoutingGame", "RoutingNetwork"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
Edge = tuple[Any, ...]

#: The largest demand multiple the capacity check looks for (it only needs to exceed 1).
_THROUGHPUT_CAP = 2.0


@dataclass(frozen=True)
class RoutingNetwork:
    """A routing game's network in integer form, with zones split (see module docstring).

    Attributes
    ----------
    n_nodes
        Number of internal nodes: the graph's nodes, then one sink copy per zone.
    tail, head
        Internal node index of each edge's tail and head (length ``m``, in game edge order).
    node_of
        Graph node index of each internal node (sink copies map to their zone).
    origins
        Internal indices of the distinct origins with positive (non intra-zonal) demand.
    od_row, od_dest, od_rate
        For every OD pair with positive demand and distinct ends: the row of its origin in
        ``origins``, the internal index of its destination and its rate.
    od_index
        Index of each of those OD pairs in ``RoutingGame.od_pairs``.
    """

    n_nodes: int
    tail: IntArray
    head: IntArray
    node_of: IntArray
    origins: IntArray
    od_row: IntArray
    od_dest: IntArray
    od_rate: FloatArray
    od_index: IntArray

    def demand_matrix(self) -> FloatArray:
        """Dense ``(len(origins), n_nodes)`` matrix of demand from each origin to each node."""
        out = np.zeros((self.origins.size, self.n_nodes))
        np.add.at(out, (self.od_row, self.od_dest), self.od_rate)
        return out

    def supply(self) -> FloatArray:
        """``(len(origins), n_nodes)`` net outflow of each origin's commodity at each node."""
        out = -self.demand_matrix()
        out[np.arange(self.origins.size), self.origins] += np.bincount(
            self.od_row, weights=self.od_rate, minlength=self.origins.size
        )
        return out

    def incidence(self) -> sps.csr_matrix:
        """Node-edge incidence matrix (+1 at an edge's tail, -1 at its head)."""
        m = self.tail.size
        return sps.csr_matrix(
            (
                np.concatenate([np.ones(m), -np.ones(m)]),
                (np.concatenate([self.tail, self.head]), np.concatenate([np.arange(m)] * 2)),
            ),
            shape=(self.n_nodes, m),
        )


def _capacity(cost: CostFunction) -> float:
    """Load at which ``cost`` becomes infinite (M/M/1 capacity), ``inf`` if never."""
    if isinstance(cost, MM1):
        return float(cost.capacity)
    if isinstance(cost, SumCost):
        return min(_capacity(p) for p in cost.parts)
    return float("inf")


def _is_atomic_only(cost: CostFunction) -> bool:
    if isinstance(cost, SumCost):
        return any(_is_atomic_only(p) for p in cost.parts)
    return isinstance(cost, Shared)


class RoutingGame:
    """A nonatomic routing game: cost functions on the edges of a directed graph, OD demands.

    Parameters
    ----------
    graph
        A :class:`networkx.DiGraph` or :class:`networkx.MultiDiGraph` (for parallel edges).
        Every edge carries the attribute ``"cost"``: a
        :class:`~gametheory.costs.CostFunction` or a nonnegative number (a constant cost).
        Costs must be nondecreasing (the Beckmann potential is then convex) and nonatomic:
        :class:`~gametheory.costs.Shared` (fair cost sharing) is rejected.
    demands
        Mapping ``(origin, destination) -> rate`` (rates nonnegative). Demand from a node to
        itself travels on the empty path at zero cost.
    zones
        Nodes that paths may start or end at but not pass through (TNTP zones).

    Raises
    ------
    GameError
        On a graph that is not directed, an edge without a valid cost, a Shared or
        decreasing cost, a negative or non-finite demand, an OD node or zone not in the
        graph, a positive OD demand with no path, or demand that cannot be routed below the
        capacity of M/M/1 edges (the equilibrium cost would be infinite).

    Examples
    --------
    >>> import networkx as nx
    >>> from gametheory.costs import Affine
    >>> g = nx.DiGraph()
    >>> g.add_edge("s", "t", cost=1.0)
    >>> g.add_edge("s", "m", cost=Affine(0, 1))
    >>> g.add_edge("m", "t", cost=0.0)
    >>> game = RoutingGame(g, {("s", "t"): 1.0})
    >>> game.n_edges
    3
    """

    def __init__(
        self,
        graph: nx.DiGraph,
        demands: Mapping[tuple[Any, Any], float],
        zones: Iterable[Hashable] | None = None,
    ) -> None:
        if not isinstance(graph, nx.DiGraph):
            raise GameError(
                f"graph must be a networkx DiGraph or MultiDiGraph, got {type(graph).__name__}"
            )
        self.graph = graph
        self.multigraph = isinstance(graph, nx.MultiDiGraph)
        self.nodes: list[Hashable] = list(graph.nodes)
        self.node_index: dict[Hashable, int] = {v: i for i, v in enumerate(self.nodes)}
        edge_data = (
            list(graph.edges(keys=True, data="cost"))
            if self.multigraph
            else list(graph.edges(data="cost"))
        )
        self.edges: list[Edge] = [tuple(e[:-1]) for e in edge_data]
        self.costs: list[CostFunction] = [self._edge_cost(e[:-1], e[-1]) for e in edge_data]
        # One stacked cost vector under both names (building it is a pass over every edge).
        self.cost_vector = self.edge_costs = CostVector(self.costs)
        self.tail = np.array([self.node_index[e[0]] for e in self.edges], dtype=np.int64)
        self.head = np.array([self.node_index[e[1]] for e in self.edges], dtype=np.int64)
        self.demands: dict[tuple[Any, Any], float] = self._check_demands(demands)
        self.od_pairs: list[tuple[Any, Any]] = list(self.demands)
        self.zones: frozenset[Hashable] = self._check_zones(zones)
        self.network = self._split_network()
        self._check_paths()
        self.capacities = np.array([_capacity(c) for c in self.costs])
        self.feasible_flow = self._check_capacity()

    # -- construction and validation -------------------------------------------------

    @staticmethod
    def _edge_cost(edge: Edge, cost: Any) -> CostFunction:
        if cost is None:
            raise GameError(f"edge {edge!r} has no 'cost' attribute")
        try:
            c = as_cost(cost)
        except GameError as exc:
            raise GameError(f"edge {edge!r}: {exc}") from exc
        if c.shape:
            raise GameError(f"edge {edge!r}: cost is a stack of shape {c.shape}; give one cost")
        if _is_atomic_only(c):
            raise GameError(
                f"edge {edge!r}: Shared (fair cost sharing) costs are atomic only; they have "
                "no integral from 0, so a nonatomic routing game cannot use them"
            )
        if not c.nondecreasing:
            raise GameError(
                f"edge {edge!r}: cost {c!r} is decreasing somewhere; Wardrop equilibria are "
                "computed for nondecreasing costs (convex Beckmann potential)"
            )
        return c

    def _check_demands(
        self, demands: Mapping[tuple[Any, Any], float]
    ) -> dict[tuple[Any, Any], float]:
        if not isinstance(demands, Mapping):
            raise GameError(
                f"demands must be a mapping (origin, destination) -> rate, got {demands!r}"
            )
        out: dict[tuple[Any, Any], float] = {}
        for key, rate in demands.items():
            if not isinstance(key, tuple) or len(key) != 2:
                raise GameError(f"demand keys must be (origin, destination) pairs, got {key!r}")
            for role, node in zip(("origin", "destination"), key, strict=True):
                if node not in self.node_index:
                    raise GameError(f"demand {key!r}: {role} {node!r} is not a node of the graph")
            try:
                value = float(rate)
            except (TypeError, ValueError) as exc:
                raise GameError(f"demand {key!r} must be a number, got {rate!r}") from exc
            if not math.isfinite(value):
                raise GameError(f"demand {key!r} must be finite, got {rate!r}")
            if value < 0:
                raise GameError(f"demand {key!r} is negative ({value!r}); rates must be >= 0")
            out[key] = value
        return out

    def _check_zones(self, zones: Iterable[Hashable] | None) -> frozenset[Hashable]:
        found = frozenset(zones) if zones is not None else frozenset()
        missing = [z for z in found if z not in self.node_index]
        if missing:
            raise GameError(f"zones {missing[:5]!r} are not nodes of the graph")
        return found

    def _split_network(self) -> RoutingNetwork:
        n = len(self.nodes)
        zone_idx = np.array(sorted(self.node_index[z] for z in self.zones), dtype=np.int64)
        sink = np.arange(n, dtype=np.int64)
        sink[zone_idx] = n + np.arange(zone_idx.size)
        node_of = np.concatenate([np.arange(n, dtype=np.int64), zone_idx])
        pos = [
            (k, self.node_index[o], self.node_index[d], r)
            for k, ((o, d), r) in enumerate(self.demands.items())
            if r > 0 and o != d
        ]
        od_index = np.array([p[0] for p in pos], dtype=np.int64)
        od_orig = np.array([p[1] for p in pos], dtype=np.int64)
        od_dest = sink[np.array([p[2] for p in pos], dtype=np.int64)]
        od_rate = np.array([p[3] for p in pos], dtype=np.float64)
        origins, od_row = np.unique(od_orig, return_inverse=True)
        return RoutingNetwork(
            n_nodes=n + zone_idx.size,
            tail=self.tail.copy(),
            head=sink[self.head],
            node_of=node_of,
            origins=origins.astype(np.int64),
            od_row=od_row.astype(np.int64).reshape(-1),
            od_dest=od_dest,
            od_rate=od_rate,
            od_index=od_index,
        )

    def _check_paths(self) -> None:
        net = self.network
        if net.od_rate.size == 0:
            return
        keep = net.tail != net.head
        tail, head = net.tail[keep], net.head[keep]
        graph = sps.csr_matrix((np.ones(tail.size), (tail, head)), shape=(net.n_nodes,) * 2)
        # Reachability between nodes is reachability between their strongly connected
        # components: search the (much smaller) condensation from each origin's component.
        k, comp = connected_components(graph, directed=True, connection="strong")
        cross = comp[tail] != comp[head]
        condensed = sps.csr_matrix(
            (np.ones(int(cross.sum())), (comp[tail][cross], comp[head][cross])), shape=(k, k)
        )
        reach = shortest_path(condensed, unweighted=True, indices=comp[net.origins])
        bad = np.flatnonzero(~np.isfinite(reach[net.od_row, comp[net.od_dest]]))
        if bad.size:
            o, d = self.od_pairs[int(net.od_index[bad[0]])]
            extra = " (paths may not pass through zones)" if self.zones else ""
            raise GameError(
                f"OD pair ({o!r}, {d!r}) has positive demand but no path{extra}; "
                f"{bad.size} OD pair(s) are disconnected"
            )

    def _check_capacity(self) -> FloatArray | None:
        """Check that the demand fits strictly below the M/M/1 capacities; return such a flow.

        Solves the LP ``max theta`` such that ``theta`` times every demand can be routed
        (one commodity per origin, node-link form) with ``x_e <= u_e`` on the
        capacity-limited edges. The demand is routable at finite cost iff ``theta > 1``;
        the flow of the LP divided by ``theta`` is then strictly below every capacity.
        """
        limited = np.flatnonzero(np.isfinite(self.capacities))
        net = self.network
        if limited.size == 0 or net.od_rate.size == 0:
            return None
        n_o, m, n = net.origins.size, self.n_edges, net.n_nodes
        # Variables: f[r, e] for each origin row r and edge e (row-major), then theta.
        a_eq: Any = sps.hstack(
            [sps.kron(sps.eye(n_o), net.incidence()), sps.csr_matrix(-net.supply().reshape(-1, 1))],
            format="csr",
        )
        cap_rows: Any = sps.hstack(
            [
                sps.kron(np.ones((1, n_o)), sps.eye(m).tocsr()[limited]),
                sps.csr_matrix((limited.size, 1)),
            ],
            format="csr",
        )
        cost = np.zeros(n_o * m + 1)
        cost[-1] = -1.0
        res: Any = optimize.linprog(
            cost,
            A_ub=cap_rows,
            b_ub=self.capacities[limited],
            A_eq=a_eq,
            b_eq=np.zeros(n_o * n),
            bounds=[(0, None)] * (n_o * m) + [(0, _THROUGHPUT_CAP)],
            method="highs",
        )
        theta = float(res.x[-1]) if res.status == 0 else 0.0
        if theta <= 1.0 + 1e-9:
            raise GameError(
                "the demand exceeds the capacity of the M/M/1 links: every routing of it "
                f"saturates a capacity-limited link (at most {theta:.6g} times the demand "
                "fits strictly below capacity), so the equilibrium cost would be infinite"
            )
        flows = np.asarray(res.x[:-1], dtype=np.float64).reshape(n_o, m).sum(axis=0)
        return np.asarray(flows / theta, dtype=np.float64)

    # -- constructors ------------------------------------------------------------------

    @classmethod
    def parallel_links(cls, costs: Sequence[CostFunction | float], demand: float) -> RoutingGame:
        """Parallel links from ``"s"`` to ``"t"``, one per cost, carrying ``demand``.

        The edges are ``("s", "t", i)`` in the order of ``costs`` (a MultiDiGraph), so a
        path is a single link and link flows are path flows.
        """
        if len(costs) == 0:
            raise GameError("parallel_links needs at least one link cost")
        g = nx.MultiDiGraph()
        g.add_nodes_from(["s", "t"])
        for i, c in enumerate(costs):
            g.add_edge("s", "t", key=i, cost=c)
        return cls(g, {("s", "t"): demand})

    # -- evaluation --------------------------------------------------------------------

    @property
    def n_edges(self) -> int:
        """Number of edges."""
        return len(self.edges)

    @property
    def total_demand(self) -> float:
        """Sum of all OD rates."""
        return float(sum(self.demands.values()))

    @property
    def degree(self) -> float | None:
        """Largest polynomial degree of the edge costs (None if some cost is not polynomial)."""
        degs = [c.degree for c in self.costs]
        if any(d is None for d in degs):
            return None
        return max((d for d in degs if d is not None), default=0.0)

    def _flows(self, flows: ArrayLike, name: str = "flows") -> FloatArray:
        try:
            x = np.asarray(flows, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise GameError(f"{name} must be numeric, got {flows!r}") from exc
        if x.shape != (self.n_edges,):
            raise GameError(f"{name} must have one entry per edge ({self.n_edges}), got {x.shape}")
        if np.any(np.isnan(x)) or np.any(x < 0):
            raise GameError(f"{name} must be nonnegative numbers")
        return x

    def link_costs(self, flows: ArrayLike) -> FloatArray:
        """Cost ``c_e(x_e)`` of every edge at link flows ``flows``."""
        return self.edge_costs.value(self._flows(flows))

    def marginal_costs(self, flows: ArrayLike) -> FloatArray:
        """Marginal social cost ``c_e(x_e) + x_e c_e'(x_e)`` of every edge."""
        return self.edge_costs.marginal(self._flows(flows))

    def social_cost(self, flows: ArrayLike) -> float:
        """Total latency ``sum_e x_e c_e(x_e)`` (a flow on no edge contributes 0)."""
        x = self._flows(flows)
        c = self.edge_costs.value(x)
        return float(np.sum(np.where(x > 0, x * c, 0.0)))

    def beckmann(self, flows: ArrayLike) -> float:
        """Beckmann potential ``sum_e int_0^{x_e} c_e(t) dt``."""
        return float(np.sum(self.edge_costs.integral(self._flows(flows))))

    def path_cost(self, path: Sequence[Edge], flows: ArrayLike) -> float:
        """Cost of a path (a sequence of edges as in :attr:`edges`) at link flows ``flows``."""
        index = {e: i for i, e in enumerate(self.edges)}
        try:
            ids = [index[tuple(e)] for e in path]
        except KeyError as exc:
            raise GameError(f"path edge {exc.args[0]!r} is not an edge of the game") from exc
        return float(np.sum(self.link_costs(flows)[ids]))

    def __repr__(self) -> str:
        return (
            f"RoutingGame(nodes={len(self.nodes)}, edges={self.n_edges}, "
            f"od_pairs={len(self.demands)}, total_demand={self.total_demand:g}, "
            f"zones={len(self.zones)})"
        )
