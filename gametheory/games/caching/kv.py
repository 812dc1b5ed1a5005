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

The access table must satisfy ``self <= node <= cluster`` in every tier (a peer is never
closer than oneself, a remote server never closer than a local peer).

Default hardware (:class:`KVHardware`): one H100 SXM per worker, 8 per server, serving
Llama-3.1-8B with a BF16 KV cache. Sources: NVIDIA H100 datasheet (HBM3 3.35 TB/s,
NVLink 4 900 GB/s bidirectional = 450 GB/s per direction, 989 TFLOP/s dense BF16); PCIe
Gen5 x16 64 GB/s per direction (PCI-SIG); NVIDIA DGX H100 user guide (2 TB DRAM, 8 x
3.84 TB NVMe U.2, eight ConnectX-7 400 Gb/s InfiniBand NICs, i.e. 50 GB/s per GPU);
a PCIe Gen4 NVMe drive reads about 7 GB/s; Llama-3.1-8B config (32 layers, 8 KV heads of
dimension 128: ``2 * 32 * 8 * 128 * 2`` bytes = 128 KiB of KV per token). Assumptions of
this library, not measurements: remote storage at 12.5 GB/s per worker (a 100 Gb/s
share), prefill at 50 % model-FLOPs utilisation with ``2 * 8.03e9`` FLOPs per token
(attention FLOPs ignored), and per-worker capacities: 800 blocks of HBM (about 52 GB after
weights and activations), 1,900 of DRAM (half of a 256 GB share), 57,000 of SSD (one
3.84 TB drive) and 100,000 of remote storage.

References
----------
Chun, B.-G. et al. (2004). Selfish caching in distributed systems: a game-theoretic
analysis. PODC 2004. Qin, R. et al. (2025). Mooncake: a KVCache-centric disaggregated
architecture for LLM serving. FAST 2025 (the traces: ``hash_ids`` of 512-token blocks).
"""

from __future__ import annotations

import json
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Literal

import numpy as np
import scipy.sparse as sps
from numpy.typing import ArrayLike, NDArray

from gametheory.errors import GameError, TelemetryError
from gametheory.games.caching.selfish import as_float_array, check_count

__all__ = ["TIER_NAMES", "HierarchicalKVCachingGame", "KVHardware"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
TierArray = NDArray[np.int8]

TIER_NAMES = ("G1 HBM", "G2 host DRAM", "G3 local SSD", "G4 remote")
RELATIONS = ("self", "node", "cluster")


@dataclass(frozen=True)
class KVHardware:
    """Hardware and model numbers behind the default access costs (see the module notes).

    Bandwidths in bytes per second, capacities in blocks per worker.
    """

    block_tokens: int = 512
    kv_bytes_per_token: float = 2 * 32 * 8 * 128 * 2  # Llama-3.1-8B, BF16
    hbm_bandwidth: float = 3.35e12  # H100 SXM HBM3
    nvlink_bandwidth: float = 450e9  # NVLink 4, per direction
    pcie_bandwidth: float = 64e9  # PCIe Gen5 x16, host DRAM <-> GPU
    ssd_bandwidth: float = 7e9  # PCIe Gen4 NVMe read
    infiniband_bandwidth: float = 50e9  # NDR 400 Gb/s per GPU
    remote_bandwidth: float = 12.5e9  # assumed 100 Gb/s storage share
    prefill_flops_per_token: float = 2 * 8.03e9  # 2 x parameters
    gpu_flops: float = 989e12  # H100 SXM dense BF16
    mfu: float = 0.5  # assumed model-FLOPs utilisation of prefill
    hbm_blocks: int = 800
    dram_blocks: int = 1900
    ssd_blocks: int = 57_000
    remote_blocks: int = 100_000

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not np.isfinite(value) or value < 0:
                raise GameError(f"KVHardware.{f.name} must be finite and nonnegative, got {value}")
            if value == 0 and not f.name.endswith("_blocks"):
                raise GameError(f"KVHardware.{f.name} must be positive, got {value}")
        if not 0 < self.mfu <= 1:
            raise GameError(f"KVHardware.mfu must be in (0, 1], got {self.mfu}")

    @property
    def block_bytes(self) -> float:
        """Bytes of KV cache in one full block."""
        return float(self.block_tokens * self.kv_bytes_per_token)

    def access_costs(self) -> FloatArray:
        """Seconds to bring one full block into a GPU: rows self/node/cluster, columns G1..G4.

        The time is bytes over the bottleneck bandwidth of the path: own HBM, DRAM over
        PCIe, SSD, remote storage; a peer's HBM over NVLink (same server) or InfiniBand
        (another server); a peer's DRAM or SSD behind the same links.
        """
        hbm, nvl, pcie = self.hbm_bandwidth, self.nvlink_bandwidth, self.pcie_bandwidth
        ssd, ib, remote = self.ssd_bandwidth, self.infiniband_bandwidth, self.remote_bandwidth
        bw = np.array(
            [
                [hbm, pcie, ssd, remote],
                [min(nvl, hbm), pcie, ssd, remote],
                [min(ib, hbm), min(ib, pcie), min(ib, ssd), remote],
            ]
        )
        return np.asarray(self.block_bytes / bw, dtype=np.float64)

    def recompute_seconds(self, tokens: ArrayLike) -> FloatArray:
        """Prefill time of ``tokens`` tokens: ``tokens * flops_per_token / (flops * mfu)``."""
        t = np.asarray(tokens, dtype=np.float64)
        return np.asarray(t * self.prefill_flops_per_token / (self.gpu_flops * self.mfu))

    def capacities(self) -> IntArray:
        """Capacities of G1..G4 in blocks per worker."""
        return np.array(
            [self.hbm_blocks, self.dram_blocks, self.ssd_blocks, self.remote_blocks],
            dtype=np.int64,
        )


def _float_array(value: object, name: str) -> FloatArray:
    """A finite, nonnegative float array (GameError naming ``name`` otherwise)."""
    arr = as_float_array(value, name)
    if not np.all(np.isfinite(arr)):
        raise GameError(f"{name} must be finite (no NaN or inf)")
    if np.any(arr < 0):
        raise GameError(f"{name} must be nonnegative, got minimum {arr.min():g}")
    return arr


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
            _float_array(r.data, "rates")
        else:
            dense = _float_array(rates, "rates")
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
        table = _float_array(access_costs, "access_costs")
        if table.ndim != 2 or table.shape[0] != 3:
            raise GameError(
                "access_costs must have shape (3, n_tiers) (rows self, node, cluster), got "
                f"{table.shape}"
            )
        n_tiers = table.shape[1]
        if np.any(np.diff(table, axis=0) < 0):
            r_i, t_i = (int(v) for v in np.argwhere(np.diff(table, axis=0) < 0)[0])
            raise GameError(
                f"access_costs must be nondecreasing self <= node <= cluster: tier {t_i} has "
                f"{RELATIONS[r_i + 1]} cost {table[r_i + 1, t_i]:g} < {RELATIONS[r_i]} cost "
                f"{table[r_i, t_i]:g}"
            )
        self.access_table = table
        cap = np.asarray(capacities)
        if np.any(np.asarray(cap, dtype=np.float64) < 0):
            raise GameError(f"capacities must be nonnegative, got minimum {cap.min()}")
        if not np.issubdtype(cap.dtype, np.integer) and not np.all(np.mod(cap, 1) == 0):
            raise GameError("capacities must be integers (blocks)")
        try:
            self.capacities = np.broadcast_to(cap.astype(np.int64), (n_workers, n_tiers)).copy()
        except ValueError as exc:
            raise GameError(
                f"capacities must have shape ({n_tiers},) or ({n_workers}, {n_tiers}), got "
                f"{cap.shape}"
            ) from exc
        self.miss_costs = _vector(miss_costs, "miss_costs", n_blocks)
        self.block_sizes = (
            np.ones(n_blocks)
            if block_sizes is None
            else _vector(block_sizes, "block_sizes", n_blocks)
        )
        slots = (
            np.ones(n_blocks)
            if block_slots is None
            else _vector(block_slots, "block_slots", n_blocks)
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
        if tier_names is None:
            names = TIER_NAMES if n_tiers == len(TIER_NAMES) else [f"T{t}" for t in range(n_tiers)]
        else:
            names = list(tier_names)
        if len(names) != n_tiers:
            raise GameError(f"tier_names must have {n_tiers} names, got {len(names)}")
        self.tier_names = tuple(names)
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

        Each request ``{timestamp (ms), input_length, output_length, hash_ids}`` is routed
        to a worker (``"round-robin"`` in arrival order, or uniformly at ``"random"`` from
        ``seed``); block ``k`` of a request covers ``min(512, input_length - 512 k)``
        tokens. The rate of block ``b`` at worker ``u`` is the number of ``u``'s requests
        containing ``b`` divided by ``duration`` (default: the trace's time span).

        Parameters
        ----------
        path
            The trace file.
        n_nodes, gpus_per_node
            The cluster: worker ``g`` of server ``s`` is ``s * gpus_per_node + g``.
        hardware
            Hardware numbers for the access and miss costs (default :class:`KVHardware`).
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
        stamps, lengths, ids, counts = _read_trace(Path(path), max_requests)
        n_req = len(stamps)
        if routing == "round-robin":
            worker = np.arange(n_req, dtype=np.int64) % n_workers
        elif routing == "random":
            worker = np.random.default_rng(seed).integers(0, n_workers, size=n_req)
        else:
            raise GameError(f"routing must be 'round-robin' or 'random', got {routing!r}")
        if duration is None:
            span = (stamps.max() - stamps.min()) / 1000.0
            if span <= 0:
                raise GameError("the trace spans no time: pass duration (seconds)")
            seconds = float(span)
        else:
            seconds = float(_float_array(duration, "duration"))
            if seconds <= 0:
                raise GameError(f"duration must be positive, got {duration!r}")
        req = np.repeat(np.arange(n_req), counts)
        pos = np.arange(len(ids)) - np.repeat(np.cumsum(counts) - counts, counts)
        tokens = np.clip(lengths[req] - pos * hw.block_tokens, 1, hw.block_tokens)
        uniq, col = np.unique(ids, return_inverse=True)
        size_tokens = np.zeros(len(uniq))
        np.maximum.at(size_tokens, col, tokens)
        popularity = np.bincount(col, minlength=len(uniq))
        keep = np.arange(len(uniq))
        coverage = 1.0
        if top_blocks is not None:
            k = check_count(top_blocks, "top_blocks")
            keep = np.lexsort((uniq, -popularity))[:k]
            keep.sort()
            coverage = float(popularity[keep].sum() / popularity.sum())
        remap = np.full(len(uniq), -1, dtype=np.int64)
        remap[keep] = np.arange(len(keep))
        sel = remap[col] >= 0
        rates = sps.coo_array(
            (np.full(int(sel.sum()), 1.0 / seconds), (worker[req[sel]], remap[col[sel]])),
            shape=(n_workers, len(keep)),
        ).tocsr()
        game = cls(
            rates,
            np.arange(n_workers) // gpus_per_node,
            hw.capacities() if capacities is None else capacities,
            hw.access_costs(),
            hw.recompute_seconds(size_tokens[keep]),
            block_sizes=size_tokens[keep] / hw.block_tokens,
            block_ids=[int(v) for v in uniq[keep]],
        )
        game.coverage = coverage
        game.n_requests = n_req
        return game


def _vector(value: ArrayLike, name: str, n: int) -> FloatArray:
    arr = _float_array(value, name)
    try:
        return np.broadcast_to(arr, (n,)).astype(np.float64)
    except ValueError as exc:
        raise GameError(f"{name} must be a scalar or have {n} entries, got {arr.shape}") from exc


def _read_trace(
    path: Path, max_requests: int | None
) -> tuple[FloatArray, IntArray, IntArray, IntArray]:
    """Timestamps, input lengths, concatenated hash ids and ids per request of a trace."""
    limit = None if max_requests is None else check_count(max_requests, "max_requests")
    stamps: list[float] = []
    lengths: list[int] = []
    ids: list[list[int]] = []
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise TelemetryError(f"cannot open trace: {exc}", file=str(path)) from exc
    with handle:
        for lineno, line in enumerate(handle, start=1):
            if limit is not None and len(stamps) >= limit:
                break
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                raise TelemetryError(f"not JSON: {exc.msg}", file=str(path), line=lineno) from exc
            if not isinstance(rec, dict):
                raise TelemetryError("record is not an object", file=str(path), line=lineno)
            for key in ("timestamp", "input_length", "hash_ids"):
                if key not in rec:
                    raise TelemetryError("missing field", file=str(path), line=lineno, field=key)
            ts, length, hashes = rec["timestamp"], rec["input_length"], rec["hash_ids"]
            if isinstance(ts, bool) or not isinstance(ts, (int, float)) or not np.isfinite(ts):
                raise TelemetryError(
                    f"not a number: {ts!r}", file=str(path), line=lineno, field="timestamp"
                )
            if isinstance(length, bool) or not isinstance(length, int) or length < 0:
                raise TelemetryError(
                    f"not a nonnegative integer: {length!r}",
                    file=str(path),
                    line=lineno,
                    field="input_length",
                )
            if not isinstance(hashes, list) or not all(
                isinstance(h, int) and not isinstance(h, bool) for h in hashes
            ):
                raise TelemetryError(
                    "must be a list of integers", file=str(path), line=lineno, field="hash_ids"
                )
            stamps.append(float(ts))
            lengths.append(length)
            ids.append(hashes)
    if not stamps:
        raise TelemetryError("the trace has no requests", file=str(path))
    counts = np.array([len(h) for h in ids], dtype=np.int64)
    flat = np.fromiter((h for hs in ids for h in hs), dtype=np.int64, count=int(counts.sum()))
    return np.array(stamps), np.array(lengths, dtype=np.int64), flat, counts
