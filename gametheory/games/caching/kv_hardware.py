"""Tiers, access costs, capacities and default hardware of the hierarchical KV cache.

A worker gets a KV block from its own tier ``t`` (relation ``self``), a peer's tier on the
same server over NVLink (``node``) or a peer on another server over InfiniBand
(``cluster``). The access table ``A[r, t]`` holds the seconds to bring one full block from
tier ``t`` under relation ``r``; it must satisfy ``A[self, t] <= A[node, t] <= A[cluster,
t]`` in every tier (a peer is never closer than oneself, a remote server never closer than
a local peer). Each worker keeps at most ``C[u, t]`` blocks (nonnegative integers) in
tier ``t``. The default table is ``block_bytes / bandwidth`` over the bottleneck link
of each path, and recomputing a block of ``k`` tokens by prefill takes ``k *
flops_per_token / (gpu_flops * mfu)`` seconds.

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
Kaplan, J. et al. (2020). Scaling laws for neural language models. arXiv:2001.08361
(``2 N`` FLOPs per token of a forward pass). NVIDIA. H100 Tensor Core GPU datasheet;
DGX H100 user guide.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gametheory.errors import GameError
from gametheory.games.caching.validation import nonnegative_array

__all__ = [
    "RELATIONS",
    "TIER_NAMES",
    "KVHardware",
    "check_access_table",
    "check_capacities",
    "check_tier_names",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

TIER_NAMES = ("G1 HBM", "G2 host DRAM", "G3 local SSD", "G4 remote")
RELATIONS = ("self", "node", "cluster")


def check_access_table(access_costs: ArrayLike) -> FloatArray:
    """Validate an access table: ``(3, n_tiers)``, finite, nonnegative, nondecreasing.

    Raises
    ------
    GameError
        On a wrong shape, a negative or non-finite entry, or a column that is not
        nondecreasing ``self <= node <= cluster``.
    """
    table = nonnegative_array(access_costs, "access_costs")
    if table.ndim != 2 or table.shape[0] != 3:
        raise GameError(
            "access_costs must have shape (3, n_tiers) (rows self, node, cluster), got "
            f"{table.shape}"
        )
    if np.any(np.diff(table, axis=0) < 0):
        r_i, t_i = (int(v) for v in np.argwhere(np.diff(table, axis=0) < 0)[0])
        raise GameError(
            f"access_costs must be nondecreasing self <= node <= cluster: tier {t_i} has "
            f"{RELATIONS[r_i + 1]} cost {table[r_i + 1, t_i]:g} < {RELATIONS[r_i]} cost "
            f"{table[r_i, t_i]:g}"
        )
    return table


def check_capacities(capacities: ArrayLike, n_workers: int, n_tiers: int) -> IntArray:
    """Validate capacities in blocks, broadcast to one per worker and tier.

    Raises
    ------
    GameError
        On negative or fractional capacities, or a shape other than ``(n_tiers,)`` and
        ``(n_workers, n_tiers)``.
    """
    cap = np.asarray(capacities)
    if np.any(np.asarray(cap, dtype=np.float64) < 0):
        raise GameError(f"capacities must be nonnegative, got minimum {cap.min()}")
    if not np.issubdtype(cap.dtype, np.integer) and not np.all(np.mod(cap, 1) == 0):
        raise GameError("capacities must be integers (blocks)")
    try:
        return np.broadcast_to(cap.astype(np.int64), (n_workers, n_tiers)).copy()
    except ValueError as exc:
        raise GameError(
            f"capacities must have shape ({n_tiers},) or ({n_workers}, {n_tiers}), got {cap.shape}"
        ) from exc


def check_tier_names(tier_names: Sequence[str] | None, n_tiers: int) -> tuple[str, ...]:
    """The names of ``n_tiers`` tiers: given, or ``TIER_NAMES`` for four, else ``T0, T1, ...``.

    Raises
    ------
    GameError
        If the number of names is not ``n_tiers``.
    """
    if tier_names is None:
        names = TIER_NAMES if n_tiers == len(TIER_NAMES) else [f"T{t}" for t in range(n_tiers)]
    else:
        names = list(tier_names)
    if len(names) != n_tiers:
        raise GameError(f"tier_names must have {n_tiers} names, got {len(names)}")
    return tuple(names)


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
