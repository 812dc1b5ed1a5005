"""The selfish caching game over a hierarchical KV cache (GPU workers, four tiers).

Workers (GPU instances) sit on servers ("nodes"). Each worker keeps KV blocks (512-token
prefix blocks) in its own tiers, as in NVIDIA Dynamo's KV block manager:

* G1: GPU memory (HBM), G2: host DRAM, G3: local SSD, G4: remote storage;

each with a capacity in blocks per worker. A worker needing block ``b`` gets it from the
cheapest source: its own tier ``t`` (``self`` row of the access table), a peer's tier on
the same server over NVLink (``node`` row), a peer on another server over InfiniBand
(``cluster`` row), or recomputes it by prefill (the miss cost). A worker's cost is
``sum_b rate[u, b] * access(u, b)`` (seconds of transfer or recompute per second); it
chooses which blocks to keep in which tier within its capacities, the others fixed: a
multiple-choice knapsack. This is Chun et al.'s selfish caching game with capacities
instead of placement costs; blocks are treated as independent (the prefix dependency of
KV blocks is ignored) and the placement is static over the trace (popularity, not
eviction dynamics).

The tiers, the access table (nondecreasing ``self <= node <= cluster`` in every tier) and
the default hardware (:class:`~gametheory.games.caching.kv_hardware.KVHardware`, from the
H100 and DGX H100 datasheets) are in :mod:`gametheory.games.caching.kv_hardware`; the
request rates of a Mooncake trace are counted by :mod:`gametheory.games.caching.kv_trace`.

References
----------
Chun, B.-G. et al. (2004). Selfish caching in distributed systems: a game-theoretic
analysis. PODC 2004. Qin, R. et al. (2025). Mooncake: a KVCache-centric disaggregated
architecture for LLM serving. FAST 2025 (the traces: ``hash_ids`` of 512-token blocks).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from pathlib import Path
from typing import Literal

import numpy as np
import scipy.sparse as sps
from numpy.typing import ArrayLike, NDArray

from gametheory.errors import GameError
from gametheory.games.caching.kv_hardware import (
    KVHardware,
    check_access_table,
    check_capacities,
    check_tier_names,
)
from gametheory.games.caching.kv_trace import trace_rates
from gametheory.games.caching.validation import check_count, nonnegative_array, nonnegative_vector

__all__ = ["HierarchicalKVCachingGame"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
TierArray = NDArray[np.int8]


class HierarchicalKVCachingGame:
    """Selfish caching of KV blocks by GPU workers in a four-tier hierarchy.

    Parameters
    ----------
    rates
        Request rate of each block at each worker, ``(n_workers, n_blocks)`` (dense or
        scipy sparse), nonnegative.
    node_of_worker
        Server index of each worker, ``(n_workers,)``.
    capacities
        Blocks each worker can keep per tier: ``(n_tiers,)`` for all workers or
        ``(n_workers, n_tiers)``; nonnegative integers.
    access_costs
        Seconds to fetch one full block, ``(3, n_tiers)``: rows ``self``, ``node`` (a peer
        on the same server), ``cluster`` (a peer on another server); nondecreasing down
        each column.
    miss_costs
        Seconds to recompute each block (prefill), ``(n_blocks,)``.
    block_sizes
        Size of each block as a fraction of a full block (the access costs scale with it;
        default 1).
    block_slots
        Capacity slots each block occupies (positive integers, default 1: a partial block
        still takes a page).
    block_ids
        Hashable identifier of each block (default ``0..n_blocks-1``), e.g. trace hash ids.
    tier_names
        Names of the tiers (default ``TIER_NAMES`` for four tiers, else ``T0, T1, ...``).

    Raises
    ------
    GameError
        On negative or non-finite rates, costs or capacities, inconsistent shapes,
        duplicate block ids, or an access table that is not nondecreasing down a column.
    """

    def __init__(
        self,
        rates: ArrayLike | sps.sparray | sps.spmatrix,
        node_of_worker: ArrayLike,
        capacities: ArrayLike,
        access_costs: ArrayLike,
        miss_costs: ArrayLike,
        *,
        block_sizes: ArrayLike | None = None,
        block_slots: ArrayLike | None = None,
        block_ids: Sequence[Hashable] | None = None,
        tier_names: Sequence[str] | None = None,
    ) -> None:
        if sps.issparse(rates):
            r = sps.csr_array(rates, dtype=np.float64)
            nonnegative_array(r.data, "rates")
        else:
            dense = nonnegative_array(rates, "rates")
            if dense.ndim != 2:
                raise GameError(f"rates must be 2-D (workers x blocks), got shape {dense.shape}")
            r = sps.csr_array(dense)
        r.eliminate_zeros()
        r.sum_duplicates()
        self.rates: sps.csr_array = r
        n_workers, n_blocks = (int(s) for s in r.shape)
        if n_workers == 0 or n_blocks == 0:
            raise GameError(f"rates must have at least one worker and one block, got {r.shape}")
        nodes = np.asarray(node_of_worker)
        if nodes.shape != (n_workers,) or not np.issubdtype(nodes.dtype, np.integer):
            raise GameError(f"node_of_worker must be {n_workers} integers, got {node_of_worker!r}")
        if np.any(nodes < 0):
            raise GameError("node_of_worker must be nonnegative server indices")
        _, self.node_of_worker = np.unique(nodes, return_inverse=True)
        self.node_of_worker = self.node_of_worker.astype(np.int64)
        self.access_table = check_access_table(access_costs)
        n_tiers = self.access_table.shape[1]
        self.capacities = check_capacities(capacities, n_workers, n_tiers)
        self.miss_costs = nonnegative_vector(miss_costs, "miss_costs", n_blocks)
        self.block_sizes = (
            np.ones(n_blocks)
            if block_sizes is None
            else nonnegative_vector(block_sizes, "block_sizes", n_blocks)
        )
        slots = (
            np.ones(n_blocks)
            if block_slots is None
            else nonnegative_vector(block_slots, "block_slots", n_blocks)
        )
        if np.any(slots < 1) or np.any(np.mod(slots, 1) != 0):
            raise GameError("block_slots must be positive integers")
        self.block_slots = slots.astype(np.int64)
        ids: list[Hashable] = list(range(n_blocks)) if block_ids is None else list(block_ids)
        if len(ids) != n_blocks:
            raise GameError(f"block_ids must have {n_blocks} entries, got {len(ids)}")
        self.block_ids: list[Hashable] = ids
        self._index = {b: i for i, b in enumerate(ids)}
        if len(self._index) != n_blocks:
            raise GameError("block_ids must be unique")
        self.tier_names = check_tier_names(tier_names, n_tiers)
        #: Fraction of the trace's block requests kept (1 unless built with top_blocks).
        self.coverage = 1.0
        #: Requests read from the trace (None unless built by :meth:`from_trace`).
        self.n_requests: int | None = None
        for arr in (self.access_table, self.capacities, self.miss_costs, self.block_sizes):
            arr.setflags(write=False)
        coo = r.tocoo()
        self._rows = coo.row.astype(np.int64)
        self._cols = coo.col.astype(np.int64)
        self._vals = coo.data.astype(np.float64)

    # ------------------------------------------------------------------ data

    @property
    def n_workers(self) -> int:
        """Number of workers (players)."""
        return int(self.rates.shape[0])

    @property
    def n_blocks(self) -> int:
        """Number of KV blocks."""
        return int(self.rates.shape[1])

    @property
    def n_tiers(self) -> int:
        """Number of tiers."""
        return int(self.access_table.shape[1])

    @property
    def n_nodes(self) -> int:
        """Number of servers."""
        return int(self.node_of_worker.max()) + 1

    def __repr__(self) -> str:
        return (
            f"HierarchicalKVCachingGame(n_workers={self.n_workers}, n_nodes={self.n_nodes}, "
            f"n_blocks={self.n_blocks}, tiers={list(self.tier_names)})"
        )

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><th>{name}</th><td>{int(self.capacities[:, t].min())}"
            f"&ndash;{int(self.capacities[:, t].max())}</td>"
            + "".join(f"<td>{self.access_table[r, t]:.4g}</td>" for r in range(3))
            + "</tr>"
            for t, name in enumerate(self.tier_names)
        )
        return (
            f"<b>HierarchicalKVCachingGame</b>: {self.n_workers} workers on {self.n_nodes} "
            f"servers, {self.n_blocks} blocks (coverage {self.coverage:.1%}"
            + ("" if self.n_requests is None else f" of {self.n_requests:,} requests")
            + "), total rate "
            f"{self._vals.sum():.4g}/s<table><tr><th>tier</th><th>capacity</th><th>self s</th>"
            f"<th>node s</th><th>cluster s</th></tr>{rows}</table>"
        )

    def block_index(self, block_ids: Sequence[Hashable]) -> IntArray:
        """Positions of the given block ids.

        Raises
        ------
        GameError
            If an id is not a block of the game.
        """
        unknown = [b for b in block_ids if b not in self._index]
        if unknown:
            raise GameError(f"unknown block ids {unknown[:5]!r} ({len(unknown)} in all)")
        return np.array([self._index[b] for b in block_ids], dtype=np.int64)

    # ------------------------------------------------------------ placements

    def empty_placement(self) -> TierArray:
        """The placement keeping nothing: all ``-1``."""
        return np.full((self.n_workers, self.n_blocks), -1, dtype=np.int8)

    def placement_from_holdings(
        self, holdings: Mapping[int, Mapping[int, Sequence[Hashable]]]
    ) -> TierArray:
        """Build a placement from ``{worker: {tier: [block ids]}}``.

        Raises
        ------
        GameError
            On an unknown worker, tier or block id, a block in two tiers of one worker, or
            a capacity overflow.
        """
        x = self.empty_placement()
        for worker, tiers in holdings.items():
            if not 0 <= int(worker) < self.n_workers:
                raise GameError(f"unknown worker {worker!r} (0..{self.n_workers - 1})")
            for tier, ids in tiers.items():
                if not 0 <= int(tier) < self.n_tiers:
                    raise GameError(f"unknown tier {tier!r} (0..{self.n_tiers - 1})")
                idx = self.block_index(list(ids))
                if np.any(x[worker, idx] >= 0):
                    raise GameError(f"worker {worker} lists a block in two tiers")
                x[worker, idx] = tier
        return self.as_placement(x)

    def as_placement(self, tiers: ArrayLike) -> TierArray:
        """Validate a placement: tier index per (worker, block), ``-1`` for none.

        Raises
        ------
        GameError
            On a wrong shape, an unknown tier or a capacity overflow.
        """
        x = np.asarray(tiers)
        if x.shape != (self.n_workers, self.n_blocks):
            raise GameError(
                f"placement must have shape ({self.n_workers}, {self.n_blocks}), got {x.shape}"
            )
        if not np.issubdtype(x.dtype, np.integer):
            raise GameError("placement entries must be integer tier indices (-1 for none)")
        if np.any((x < -1) | (x >= self.n_tiers)):
            raise GameError(f"placement entries must be in [-1, {self.n_tiers})")
        used = self.used_slots(x.astype(np.int8))
        over = used > self.capacities
        if np.any(over):
            u, t = (int(v) for v in np.argwhere(over)[0])
            raise GameError(
                f"worker {u} keeps {int(used[u, t])} slots in {self.tier_names[t]}, capacity "
                f"{int(self.capacities[u, t])}"
            )
        return np.asarray(x, dtype=np.int8)

    def used_slots(self, tiers: TierArray) -> IntArray:
        """Slots used by each worker in each tier, ``(n_workers, n_tiers)``."""
        u, b = np.nonzero(tiers >= 0)
        flat = u * self.n_tiers + tiers[u, b].astype(np.int64)
        counts = np.bincount(
            flat, weights=self.block_slots[b], minlength=self.n_workers * self.n_tiers
        )
        return counts.reshape(self.n_workers, self.n_tiers).astype(np.int64)

    def holder_counts(self, tiers: TierArray) -> NDArray[np.int32]:
        """Copies of each block per server and tier, ``(n_nodes, n_blocks, n_tiers)``."""
        u, b = np.nonzero(tiers >= 0)
        flat = (self.node_of_worker[u] * self.n_blocks + b) * self.n_tiers + tiers[u, b]
        size = self.n_nodes * self.n_blocks * self.n_tiers
        counts = np.bincount(flat, minlength=size).astype(np.int32)
        return counts.reshape(self.n_nodes, self.n_blocks, self.n_tiers)

    def outside_costs(
        self,
        workers: IntArray,
        blocks: IntArray,
        own: TierArray,
        counts: NDArray[np.int32],
        totals: NDArray[np.int32],
    ) -> FloatArray:
        """Cost of each (worker, block) pair from peers or recompute, ignoring its own copy.

        ``own`` is the worker's own tier of the block (``-1`` for none), ``counts`` the
        :meth:`holder_counts` and ``totals`` their sum over servers.
        """
        node = self.node_of_worker[workers]
        local = counts[node, blocks].astype(np.int64)  # (k, T)
        mine = own[:, None] == np.arange(self.n_tiers)[None, :]
        peers_local = local - mine
        peers_remote = totals[blocks] - local
        size = self.block_sizes[blocks][:, None]
        via_node = np.where(peers_local > 0, self.access_table[1][None, :] * size, np.inf)
        via_cluster = np.where(peers_remote > 0, self.access_table[2][None, :] * size, np.inf)
        best = np.minimum(via_node.min(axis=1), via_cluster.min(axis=1))
        return np.asarray(np.minimum(best, self.miss_costs[blocks]), dtype=np.float64)

    def access_costs(self, tiers: ArrayLike) -> FloatArray:
        """Access cost of every demanded (worker, block) pair, in the order of ``rates``."""
        x = self.as_placement(tiers)
        counts = self.holder_counts(x)
        totals = counts.sum(axis=0, dtype=np.int32)
        own = x[self._rows, self._cols]
        outside = self.outside_costs(self._rows, self._cols, own, counts, totals)
        self_cost = np.where(
            own >= 0,
            self.access_table[0][np.maximum(own, 0)] * self.block_sizes[self._cols],
            np.inf,
        )
        return np.asarray(np.minimum(outside, self_cost), dtype=np.float64)

    def worker_costs(self, tiers: ArrayLike) -> FloatArray:
        """Each worker's cost ``sum_b rate[u, b] access(u, b)`` (seconds per second)."""
        cost = self._vals * self.access_costs(tiers)
        return np.asarray(
            np.bincount(self._rows, weights=cost, minlength=self.n_workers), dtype=np.float64
        )

    def social_cost(self, tiers: ArrayLike) -> float:
        """Total access cost of all workers."""
        return float(self.worker_costs(tiers).sum())

    def demand_of(self, worker: int) -> tuple[IntArray, FloatArray]:
        """Blocks demanded by ``worker`` and their rates."""
        lo, hi = self.rates.indptr[worker], self.rates.indptr[worker + 1]
        return (
            np.asarray(self.rates.indices[lo:hi], dtype=np.int64),
            np.asarray(self.rates.data[lo:hi], dtype=np.float64),
        )

    def subgame(self, blocks: ArrayLike) -> HierarchicalKVCachingGame:
        """The game restricted to some blocks (by position), keeping all parameters."""
        idx = np.asarray(blocks, dtype=np.int64)
        if idx.ndim != 1 or np.any((idx < 0) | (idx >= self.n_blocks)):
            raise GameError(f"blocks must be positions in [0, {self.n_blocks})")
        game = HierarchicalKVCachingGame(
            self.rates[:, idx],
            self.node_of_worker,
            self.capacities,
            self.access_table,
            self.miss_costs[idx],
            block_sizes=self.block_sizes[idx],
            block_slots=self.block_slots[idx],
            block_ids=[self.block_ids[i] for i in idx],
            tier_names=self.tier_names,
        )
        total = self._vals.sum()
        game.coverage = self.coverage * (float(game._vals.sum() / total) if total > 0 else 1.0)
        game.n_requests = self.n_requests
        return game

    # ------------------------------------------------------------------ trace

    @classmethod
    def from_trace(
        cls,
        path: str | Path,
        *,
        n_nodes: int = 3,
        gpus_per_node: int = 8,
        hardware: KVHardware | None = None,
        capacities: ArrayLike | None = None,
        routing: Literal["round-robin", "random"] = "round-robin",
        seed: int | np.random.Generator | None = None,
        top_blocks: int | None = None,
        max_requests: int | None = None,
        duration: float | None = None,
    ) -> HierarchicalKVCachingGame:
        """Build the game from a Mooncake trace (JSON lines with ``hash_ids``).

        Each request is routed to a worker (``"round-robin"`` in arrival order, or
        uniformly at ``"random"`` from ``seed``); the rate of block ``b`` at worker ``u`` is
        the number of ``u``'s requests containing ``b`` divided by ``duration`` (default:
        the trace's time span), see :func:`~gametheory.games.caching.kv_trace.trace_rates`.

        Parameters
        ----------
        path
            The trace file.
        n_nodes, gpus_per_node
            The cluster: worker ``g`` of server ``s`` is ``s * gpus_per_node + g``.
        hardware
            Hardware numbers for the access and miss costs (default
            :class:`~gametheory.games.caching.kv_hardware.KVHardware`).
        capacities
            Blocks per tier per worker (default ``hardware.capacities()``).
        routing, seed
            How requests are assigned to workers.
        top_blocks
            Keep only the ``top_blocks`` most requested blocks (ties: smaller id first);
            the kept share of block requests is recorded in ``coverage``.
        max_requests
            Read only the first ``max_requests`` requests.
        duration
            Seconds the trace covers (needed when all timestamps are equal).

        Raises
        ------
        TelemetryError
            On an unreadable file or a malformed record (naming file, line and field).
        GameError
            On bad parameters.
        """
        hw = KVHardware() if hardware is None else hardware
        if capacities is not None and np.any(np.asarray(capacities, dtype=np.float64) < 0):
            raise GameError(f"capacities must be nonnegative, got {capacities!r}")
        n_workers = check_count(n_nodes, "n_nodes") * check_count(gpus_per_node, "gpus_per_node")
        trace = trace_rates(
            Path(path),
            n_workers,
            hw.block_tokens,
            routing=routing,
            seed=seed,
            top_blocks=top_blocks,
            max_requests=max_requests,
            duration=duration,
        )
        game = cls(
            trace.rates,
            np.arange(n_workers) // gpus_per_node,
            hw.capacities() if capacities is None else capacities,
            hw.access_costs(),
            hw.recompute_seconds(trace.tokens),
            block_sizes=trace.tokens / hw.block_tokens,
            block_ids=trace.block_ids,
        )
        game.coverage = trace.coverage
        game.n_requests = trace.n_requests
        return game
