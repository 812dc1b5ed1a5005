"""Maximal Nash subsets and equilibrium components of bimatrix games.

The extreme equilibria of a bimatrix game are pairs ``(x, y)`` of vertices of the two
best-response polytopes. Draw a bipartite graph with an edge between ``x`` and ``y``
whenever ``(x, y)`` is an extreme equilibrium. Following Avis, Rosenberg, Savani and von
Stengel, "Enumeration of Nash equilibria for two-player games", Economic Theory 42(1) 2010,
Section 4 (after Winkels 1979 and Jansen 1981):

* a set ``X x Y`` of vertices all pairwise joined (a biclique) can be *freely combined*:
  every ``(x, y)`` in ``conv(X) x conv(Y)`` is an equilibrium, because the complementarity
  conditions are bilinear and nonnegative term by term;
* the maximal bicliques give the *maximal Nash subsets* ``conv(X) x conv(Y)``, and every
  equilibrium lies in one of them;
* the topologically connected *components* of the equilibrium set are the unions of maximal
  Nash subsets whose bicliques are connected in the graph. (If two bicliques share a vertex
  ``x``, the equilibrium partners of ``x`` form a face of the other polytope, which is convex,
  so the two subsets are joined by a segment of equilibria.)

A continuum of equilibria is thus reported as one component.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
from numpy.typing import NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

__all__ = ["nash_subsets"]

IntArray = NDArray[np.int64]
Subset = tuple[tuple[int, ...], tuple[int, ...]]


def nash_subsets(pairs: IntArray, n_rows: int, n_cols: int) -> tuple[IntArray, tuple[Subset, ...]]:
    """Components and maximal Nash subsets from the extreme-equilibrium graph.

    Parameters
    ----------
    pairs
        Integer array of shape ``(k, 2)``: extreme equilibrium ``e`` pairs row-player vertex
        ``pairs[e, 0]`` (in ``range(n_rows)``) with column-player vertex ``pairs[e, 1]``.
    n_rows, n_cols
        Number of vertices of each player.

    Returns
    -------
    component
        Component index of each extreme equilibrium (numbered 0, 1, ... in order of first
        appearance).
    subsets
        Maximal Nash subsets as ``(row vertices, column vertices)`` index tuples, sorted.
    """
    k = pairs.shape[0]
    if k == 0:
        return np.zeros(0, dtype=np.int64), ()
    if np.unique(pairs[:, 0]).size == k and np.unique(pairs[:, 1]).size == k:
        # No vertex is shared: every extreme equilibrium is isolated (the generic case).
        isolated = tuple(sorted(((int(r),), (int(c),)) for r, c in pairs))
        return np.arange(k, dtype=np.int64), isolated
    graph = coo_matrix(
        (np.ones(k), (pairs[:, 0], n_rows + pairs[:, 1])), shape=(n_rows + n_cols,) * 2
    )
    _, node_comp = connected_components(graph, directed=False)
    raw = node_comp[pairs[:, 0]]
    _, first, inverse = np.unique(raw, return_index=True, return_inverse=True)
    order = np.argsort(np.argsort(first))
    component = order[inverse].astype(np.int64)
    subsets: list[Subset] = []
    for c in range(int(component.max()) + 1):
        members = pairs[component == c]
        if members.shape[0] == 1:
            subsets.append(((int(members[0, 0]),), (int(members[0, 1]),)))
            continue
        subsets.extend(_maximal_bicliques(members))
    return component, tuple(sorted(subsets))


def _maximal_bicliques(members: IntArray) -> list[Subset]:
    """Maximal bicliques of one connected bipartite graph (Bron-Kerbosch via networkx).

    Each side is made a clique; the maximal cliques meeting both sides are then exactly the
    maximal bicliques (a vertex joining a biclique on one side must be adjacent to the whole
    other side).
    """
    rows = sorted({int(r) for r in members[:, 0]})
    cols = sorted({int(c) for c in members[:, 1]})
    g: nx.Graph = nx.Graph()
    g.add_nodes_from(("r", r) for r in rows)
    g.add_nodes_from(("c", c) for c in cols)
    g.add_edges_from((("r", a), ("r", b)) for i, a in enumerate(rows) for b in rows[i + 1 :])
    g.add_edges_from((("c", a), ("c", b)) for i, a in enumerate(cols) for b in cols[i + 1 :])
    g.add_edges_from((("r", int(r)), ("c", int(c))) for r, c in members)
    out: list[Subset] = []
    for clique in nx.find_cliques(g):
        xs = tuple(sorted(v for side, v in clique if side == "r"))
        ys = tuple(sorted(v for side, v in clique if side == "c"))
        if xs and ys:
            out.append((xs, ys))
    return out
