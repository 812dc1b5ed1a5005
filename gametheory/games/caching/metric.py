"""Distance matrices of the caching games: validation, graph metrics and standard topologies.

A distance matrix ``d`` of ``n`` nodes is square, finite and nonnegative with a zero
diagonal. It is a *metric* when it is also symmetric, ``d[i, j] = d[j, i]``, and satisfies
the triangle inequality ``d[i, j] <= d[i, k] + d[k, j]``; both are checked up to a
relative tolerance ``tol``: ``|d[i, j] - d[j, i]| <= tol max(1, |d[i, j]|)`` and
``d[i, j] <= v + tol max(1, v)`` with ``v = d[i, k] + d[k, j]``, one intermediate node
``k`` at a time (``O(n^3)`` in all).

A graph with nonnegative edge lengths defines a metric on its nodes (directed graphs: a
quasi-metric, not symmetric): the length of a shortest path, computed by Dijkstra's
algorithm from every node.

The standard topologies are metrics by construction: the complete graph (every pair at
one distance), a star (leaves ``2 arm`` apart through the centre), a line and a grid
(``|x_i - x_j|`` and the Manhattan distance of the positions), a clique with one outlier
(a metric whenever ``spread <= 2 far``) and a GPU cluster, two distances ``intra <=
inter`` by server: an ultrametric, ``d[i, k] <= max(d[i, j], d[j, k])``.

References
----------
Chun, B.-G., Chaudhuri, K., Wee, H., Barreno, M., Papadimitriou, C. H., Kubiatowicz, J.
(2004). Selfish caching in distributed systems: a game-theoretic analysis. PODC 2004.
Dijkstra, E. W. (1959). A note on two problems in connexion with graphs. Numerische
Mathematik 1, 269-271.
"""

from __future__ import annotations

from collections.abc import Hashable

import networkx as nx
import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.sparse.csgraph import shortest_path

from gametheory.errors import GameError
from gametheory.games.caching.validation import as_float_array, check_count, positive_number

__all__ = [
    "clique_with_outlier_metric",
    "cluster_metric",
    "complete_metric",
    "grid_metric",
    "line_metric",
    "metric_distances",
    "star_metric",
]

FloatArray = NDArray[np.float64]


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


def complete_metric(n: int, distance: float) -> FloatArray:
    """Complete graph ``K_n``: every pair of the ``n`` nodes at ``distance``."""
    check_count(n, "n")
    d = np.full((n, n), positive_number(distance, "distance"))
    np.fill_diagonal(d, 0.0)
    return d


def star_metric(n: int, arm: float) -> FloatArray:
    """Star: centre 0 and leaves ``1..n-1`` at ``arm`` from it, ``2 arm`` from each other."""
    check_count(n, "n", minimum=2)
    a = positive_number(arm, "arm")
    d = np.full((n, n), 2.0 * a)
    d[0, :] = a
    d[:, 0] = a
    np.fill_diagonal(d, 0.0)
    return d


def line_metric(n: int, spacing: float) -> FloatArray:
    """Path of ``n`` nodes numbered ``0..n-1`` left to right, ``spacing`` apart."""
    check_count(n, "n")
    pos = np.arange(n, dtype=np.float64) * positive_number(spacing, "spacing")
    return np.asarray(np.abs(pos[:, None] - pos[None, :]), dtype=np.float64)


def grid_metric(rows: int, cols: int, spacing: float) -> FloatArray:
    """Manhattan metric of a ``rows x cols`` grid; node ``r * cols + c`` is at ``(r, c)``."""
    check_count(rows, "rows")
    check_count(cols, "cols")
    h = positive_number(spacing, "spacing")
    r, c = np.divmod(np.arange(rows * cols), cols)
    d = h * (np.abs(r[:, None] - r[None, :]) + np.abs(c[:, None] - c[None, :]))
    return np.asarray(d, dtype=np.float64)


def clique_with_outlier_metric(n: int, spread: float, far: float) -> FloatArray:
    """A clique ``0..n-2`` pairwise ``spread`` apart and node ``n - 1`` at ``far`` from all."""
    check_count(n, "n", minimum=2)
    a, b = positive_number(spread, "spread"), positive_number(far, "far")
    d = np.full((n, n), a)
    d[-1, :] = b
    d[:, -1] = b
    np.fill_diagonal(d, 0.0)
    return d


def cluster_metric(n_nodes: int, gpus_per_node: int, intra: float, inter: float) -> FloatArray:
    """GPUs of one server ``intra`` apart, of different servers ``inter`` apart.

    GPU ``g`` of server ``s`` is node ``s * gpus_per_node + g``.

    Raises
    ------
    GameError
        If ``intra > inter`` (the distances would not be an ultrametric).
    """
    check_count(n_nodes, "n_nodes")
    check_count(gpus_per_node, "gpus_per_node")
    a, b = positive_number(intra, "intra"), positive_number(inter, "inter")
    if a > b:
        raise GameError(f"intra ({a:g}) must not exceed inter ({b:g})")
    server = np.arange(n_nodes * gpus_per_node) // gpus_per_node
    d = np.where(server[:, None] == server[None, :], a, b)
    np.fill_diagonal(d, 0.0)
    return d.astype(np.float64)
