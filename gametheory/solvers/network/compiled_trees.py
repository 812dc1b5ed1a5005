"""Compiled all-or-nothing step: Dijkstra per origin and tree loading in one scalar loop.

Imported only when Numba is installed (:mod:`gametheory.solvers.common.compiled`). For
each origin, Dijkstra's algorithm (Dijkstra, Numerische Mathematik 1, 1959) with a
binary heap and lazy deletion (a node is pushed again whenever its label drops; stale
entries are skipped when popped) settles the nodes in order of distance, and stops once
every destination of the origin is settled (the tree then covers the settled nodes
only: on Berlin-Center this cut the step from 0.99 s to 0.43 s). The tree is
then loaded in reverse settling order, every node passing its accumulated demand to its
parent, so each arc of the tree receives the demand of the subtree below it: ``O(nodes)``
per origin, the loading of Dial ("A probabilistic multipath traffic assignment model",
Transportation Research 5(2) 1971) used by AequilibraE and most assignment codes. The
loop releases the GIL; :class:`~gametheory.solvers.network.shortest_paths.AllOrNothing`
runs groups of origins on threads.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from gametheory.solvers.common.compiled import jit

__all__ = ["assign_origins"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
Int32Array = NDArray[np.int32]


@jit
def _sift(
    keys: FloatArray, nodes: IntArray, size: int, i: int, key: float, node: int, down: bool
) -> None:
    """Place ``(key, node)`` in the binary min-heap ``keys[:size]`` starting from slot ``i``.

    Entries move one level per step, down towards the leaves (``down``: the slot was
    emptied at the top) or up towards the root (the slot is a new last leaf), until the
    heap order holds.
    """
    while True:
        if down:
            nxt = 2 * i + 1
            if nxt >= size:
                break
            if nxt + 1 < size and keys[nxt + 1] < keys[nxt]:
                nxt += 1
            if keys[nxt] >= key:
                break
        else:
            if i == 0:
                break
            nxt = (i - 1) >> 1
            if keys[nxt] <= key:
                break
        keys[i] = keys[nxt]
        nodes[i] = nodes[nxt]
        i = nxt
    keys[i] = key
    nodes[i] = node


@jit
def assign_origins(
    indptr: Int32Array,
    indices: Int32Array,
    weights: FloatArray,
    origins: IntArray,
    od_ptr: IntArray,
    od_dest: IntArray,
    od_rate: FloatArray,
    start: int,
    stop: int,
    pred: Int32Array,
    arc_flows: FloatArray,
    od_cost: FloatArray,
) -> None:
    """Shortest-path trees of origins ``start:stop`` and their demand loaded on the arcs.

    Parameters
    ----------
    indptr, indices, weights
        The CSR graph (one arc per node pair; ``weights`` its costs, nonnegative).
    origins
        Node of every origin row.
    od_ptr, od_dest, od_rate
        OD pairs grouped by origin row: pairs ``od_ptr[r]:od_ptr[r + 1]`` leave row ``r``.
    start, stop
        The origin rows to process.
    pred
        ``(origins, nodes)`` output: predecessor of every settled node (-9999 at the
        root and at nodes not settled: unreachable, or beyond the last destination), rows
        ``start:stop`` written.
    arc_flows
        Per-arc output, added to: the demand routed over each CSR arc.
    od_cost
        Per-OD-pair output: the shortest-path cost (inf when unreachable).
    """
    n = indptr.size - 1
    dist = np.empty(n)
    arc = np.empty(n, dtype=np.int64)
    order = np.empty(n, dtype=np.int64)
    load = np.zeros(n)
    heap_key = np.empty(indices.size + 1)
    heap_node = np.empty(indices.size + 1, dtype=np.int64)
    wanted = np.full(n, -1, dtype=np.int64)  # row whose destinations include the node
    done = np.full(n, -1, dtype=np.int64)  # row in which the node was settled
    for row in range(start, stop):
        remaining = 0
        for k in range(od_ptr[row], od_ptr[row + 1]):
            if wanted[od_dest[k]] != row:
                wanted[od_dest[k]] = row
                remaining += 1
        dist[:] = np.inf
        arc[:] = -1
        tree = pred[row]
        tree[:] = -9999
        root = origins[row]
        dist[root] = 0.0
        heap_key[0] = 0.0
        heap_node[0] = root
        size = 1
        settled = 0
        while size > 0:
            d = heap_key[0]
            u = heap_node[0]
            size -= 1
            if size > 0:  # the last entry goes to the top and sinks
                _sift(heap_key, heap_node, size, 0, heap_key[size], heap_node[size], True)
            if d > dist[u]:
                continue  # a stale entry: u was settled at a smaller distance
            order[settled] = u
            settled += 1
            done[u] = row
            if wanted[u] == row:
                remaining -= 1
                if remaining == 0:
                    break  # every destination is settled: the rest of the tree is unused
            for a in range(indptr[u], indptr[u + 1]):
                v = indices[a]
                nd = d + weights[a]
                if nd < dist[v]:
                    dist[v] = nd
                    arc[v] = a
                    tree[v] = u
                    _sift(heap_key, heap_node, size + 1, size, nd, v, False)  # push
                    size += 1
        for i in range(size):  # nodes left with a tentative label leave the tree
            if done[heap_node[i]] != row:
                tree[heap_node[i]] = -9999
        for k in range(od_ptr[row], od_ptr[row + 1]):
            dest = od_dest[k]
            od_cost[k] = dist[dest]
            if dest != root and dist[dest] < np.inf:
                load[dest] += od_rate[k]
        for s in range(settled - 1, 0, -1):  # the root is order[0]
            v = order[s]
            lv = load[v]
            if lv != 0.0:
                arc_flows[arc[v]] += lv
                load[tree[v]] += lv
                load[v] = 0.0
        load[root] = 0.0
