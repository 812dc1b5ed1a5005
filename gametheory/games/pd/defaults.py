"""Hardware and model figures behind the default prefill/decode latency models.

Every default is derived from public figures by a roofline argument; the derivation is
written next to each quantity so that it can be checked and changed.

GPU (NVIDIA B200, DGX/HGX B200 datasheets, 2024): 180 GB of HBM3e per GPU (1,440 GB per
8-GPU system), 8 TB/s of HBM bandwidth per GPU (64 TB/s per system); tensor throughput
per GPU 4.5 PFLOPS dense FP8 and 2.25 PFLOPS dense BF16 (the datasheets list 72 and 36
PFLOPS per 8 GPUs with 2:4 sparsity; dense is half); one 400 Gb/s (50 GB/s) network port
per GPU for the KV-cache hand-off between pools.

Models (decoder-only transformers with grouped-query attention):

* Llama-3.1-70B (Meta model card and ``config.json``): 70.6e9 parameters, 80 layers,
  hidden size 8192, 64 query heads, 8 KV heads of dimension 128.
* Nemotron-4-340B (Nemotron-4 340B Technical Report, arXiv:2406.11704, table 1): about
  340e9 parameters, 96 layers, hidden size 18432, 96 query heads, 8 KV heads of dimension
  18432 / 96 = 192.

With ``p`` bytes per value (1 for FP8, 2 for BF16) and tensor parallelism ``TP``:

* weight bytes ``W = P p``; KV bytes per token ``kv = 2 L H_kv d_head p`` (K and V for every
  layer): 163,840 B for Llama-3.1-70B and 294,912 B for Nemotron-4-340B in FP8;
* prefill of ``ISL`` tokens costs ``2 P ISL`` matmul FLOPs plus ``2 L ISL^2 H d_head``
  causal-attention FLOPs, run at ``mfu`` of the instance's dense peak ``TP F``;
* a decode step with an empty batch reads the weights once at ``mbu`` of ``TP BW`` and pays
  two tensor-parallel all-reduces per layer (``allreduce_latency`` each, 8 us by default
  for NVLink 5); every sequence in the batch adds the read of its KV cache (context
  ``ISL + OSL / 2`` tokens on average) and ``2 P`` FLOPs;
* an instance holds at most ``(memory_fraction TP HBM - W) / (kv (ISL + OSL))`` sequences;
* the hand-off moves ``kv ISL`` bytes over ``TP`` network ports.

The efficiencies (``mfu = 0.5``, ``mbu = 0.7``) are typical achieved fractions of peak,
not measured values; the tests compare the resulting ITL with the aiconfigurator
measurements of Llama-3.1-70B on B200 in ``../shared/data``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from gametheory.errors import GameError
from gametheory.games.pd.latency import DecodeStepModel, PrefillQueue

__all__ = [
    "B200",
    "LLAMA_31_70B",
    "NEMOTRON_4_340B",
    "Deployment",
    "GPUSpec",
    "TransformerSpec",
    "llama_70b_b200",
    "nemotron_340b_b200",
]


@dataclass(frozen=True)
class GPUSpec:
    """Public figures of one GPU.

    Parameters
    ----------
    name
        Product name.
    hbm_bytes
        HBM capacity in bytes.
    hbm_bandwidth
        HBM bandwidth in bytes per second.
    dense_bf16_flops, dense_fp8_flops
        Dense tensor throughput in FLOP/s.
    network_bandwidth
        Network bandwidth per GPU in bytes per second (KV-cache hand-off).
    """

    name: str
    hbm_bytes: float
    hbm_bandwidth: float
    dense_bf16_flops: float
    dense_fp8_flops: float
    network_bandwidth: float


@dataclass(frozen=True)
class TransformerSpec:
    """Architecture figures of a dense decoder-only transformer.

    Parameters
    ----------
    name
        Model name.
    params
        Number of parameters.
    n_layers
        Transformer layers.
    n_heads, n_kv_heads
        Query heads and key/value heads (grouped-query attention).
    head_dim
        Dimension of one attention head.
    """

    name: str
    params: float
    n_layers: int
    n_heads: int
    n_kv_heads: int
    head_dim: int

    def weight_bytes(self, bytes_per_value: float) -> float:
        """Bytes of weights: ``P p``."""
        return self.params * bytes_per_value

    def kv_bytes_per_token(self, bytes_per_value: float) -> float:
        """Bytes of KV cache per token: ``2 L H_kv d_head p``."""
        return 2.0 * self.n_layers * self.n_kv_heads * self.head_dim * bytes_per_value

    def prefill_flops(self, isl: float) -> float:
        """FLOPs of a prefill of ``isl`` tokens: ``2 P ISL + 2 L ISL^2 H d_head``."""
        attention = 2.0 * self.n_layers * isl**2 * self.n_heads * self.head_dim
        return 2.0 * self.params * isl + attention


B200 = GPUSpec(
    name="NVIDIA B200",
    hbm_bytes=180e9,
    hbm_bandwidth=8e12,
    dense_bf16_flops=2.25e15,
    dense_fp8_flops=4.5e15,
    network_bandwidth=50e9,
)

LLAMA_31_70B = TransformerSpec(
    name="Llama-3.1-70B", params=70.6e9, n_layers=80, n_heads=64, n_kv_heads=8, head_dim=128
)

NEMOTRON_4_340B = TransformerSpec(
    name="Nemotron-4-340B", params=340e9, n_layers=96, n_heads=96, n_kv_heads=8, head_dim=192
)


@dataclass(frozen=True)
class Deployment:
    """A model served on one GPU type with a tensor-parallel engine per instance.

    Parameters
    ----------
    model, gpu
        Architecture and hardware figures.
    tp
        Tensor-parallel size: GPUs per engine instance (the allocation unit).
    precision
        ``"fp8"`` or ``"bf16"`` for weights, activations and KV cache.
    mfu, mbu
        Achieved fractions of the dense FLOP/s and of the HBM bandwidth.
    allreduce_latency
        Latency of one tensor-parallel all-reduce, in seconds (two per layer per step).
    memory_fraction
        Fraction of HBM usable for weights plus KV cache.
    """

    model: TransformerSpec
    gpu: GPUSpec
    tp: int
    precision: Literal["fp8", "bf16"] = "fp8"
    mfu: float = 0.5
    mbu: float = 0.7
    allreduce_latency: float = 8e-6
    memory_fraction: float = 0.9

    def __post_init__(self) -> None:
        if not isinstance(self.tp, int) or self.tp < 1:
            raise GameError(f"tp must be a positive integer, got {self.tp!r}")
        if self.precision not in ("fp8", "bf16"):
            raise GameError(f"precision must be 'fp8' or 'bf16', got {self.precision!r}")
        for name in ("mfu", "mbu", "memory_fraction"):
            value = getattr(self, name)
            if not 0 < value <= 1:
                raise GameError(f"{name} must lie in (0, 1], got {value!r}")
        if not math.isfinite(self.allreduce_latency) or self.allreduce_latency < 0:
            raise GameError(f"allreduce_latency must be >= 0, got {self.allreduce_latency!r}")
        if self.model.weight_bytes(self.bytes_per_value) >= self.usable_memory:
            raise GameError(
                f"{self.model.name} weights do not fit in tp={self.tp} x {self.gpu.name}"
            )

    @property
    def bytes_per_value(self) -> float:
        """1 for FP8, 2 for BF16."""
        return 1.0 if self.precision == "fp8" else 2.0

    @property
    def usable_memory(self) -> float:
        """HBM bytes of one instance usable for weights and KV cache."""
        return self.memory_fraction * self.tp * self.gpu.hbm_bytes

    @property
    def instance_flops(self) -> float:
        """Achieved dense FLOP/s of one instance: ``mfu TP F``."""
        peak = self.gpu.dense_fp8_flops if self.precision == "fp8" else self.gpu.dense_bf16_flops
        return self.mfu * self.tp * peak

    @property
    def instance_bandwidth(self) -> float:
        """Achieved HBM bandwidth of one instance: ``mbu TP BW``."""
        return self.mbu * self.tp * self.gpu.hbm_bandwidth

    def prefill_service_time(self, isl: float) -> float:
        """Seconds to prefill ``isl`` tokens on one instance (compute bound)."""
        return self.model.prefill_flops(isl) / self.instance_flops

    def kv_transfer_time(self, isl: float) -> float:
        """Seconds to hand the KV cache of ``isl`` tokens to decode over ``TP`` ports."""
        kv = self.model.kv_bytes_per_token(self.bytes_per_value) * isl
        return kv / (self.tp * self.gpu.network_bandwidth)

    @property
    def step_base(self) -> float:
        """Decode step time of an empty batch: weights read plus 2 all-reduces per layer."""
        weights = self.model.weight_bytes(self.bytes_per_value) / self.instance_bandwidth
        comm = 2 * self.model.n_layers * self.allreduce_latency if self.tp > 1 else 0.0
        return weights + comm

    def step_per_sequence(self, context: float) -> float:
        """Extra step time per sequence: its KV read at ``context`` tokens and ``2 P`` FLOPs."""
        kv = self.model.kv_bytes_per_token(self.bytes_per_value) * context
        return kv / self.instance_bandwidth + 2.0 * self.model.params / self.instance_flops

    def max_batch(self, isl: float, osl: float) -> float:
        """Sequences of ``isl + osl`` tokens whose KV cache fits next to the weights."""
        free = self.usable_memory - self.model.weight_bytes(self.bytes_per_value)
        return free / (self.model.kv_bytes_per_token(self.bytes_per_value) * (isl + osl))

    def prefill_model(self, isl: float) -> PrefillQueue:
        """The prefill M/M/c model for input length ``isl``."""
        _check_lengths(isl, 1.0)
        return PrefillQueue(
            service_time=self.prefill_service_time(isl), overhead=self.kv_transfer_time(isl)
        )

    def decode_model(self, isl: float, osl: float) -> DecodeStepModel:
        """The decode step-time model for input ``isl`` and output ``osl`` tokens."""
        _check_lengths(isl, osl)
        return DecodeStepModel(
            step_base=self.step_base,
            step_per_sequence=self.step_per_sequence(isl + osl / 2.0),
            osl=osl,
            max_batch=self.max_batch(isl, osl),
        )


def _check_lengths(isl: float, osl: float) -> None:
    for name, value in (("isl", isl), ("osl", osl)):
        if not math.isfinite(value) or value < 1:
            raise GameError(f"{name} must be a number of tokens >= 1, got {value!r}")


def llama_70b_b200(precision: Literal["fp8", "bf16"] = "fp8") -> Deployment:
    """Llama-3.1-70B on B200 with TP=4 (4 GPUs per instance).

    FP8 figures: weights 70.6 GB; step base ``70.6e9 / (0.7 x 4 x 8e12) + 160 x 8 us``
    = 4.43 ms; per-sequence step time at context 3075 (ISL 3000, OSL 150) 38.2 us; prefill
    of 3000 tokens ``(4.24e14 + 1.26e13) / (0.5 x 4 x 4.5e15)`` = 48.5 ms.
    """
    return Deployment(model=LLAMA_31_70B, gpu=B200, tp=4, precision=precision)


def nemotron_340b_b200(precision: Literal["fp8", "bf16"] = "fp8") -> Deployment:
    """Nemotron-4-340B on B200 with TP=8 (8 GPUs per instance).

    FP8 figures: weights 340 GB; step base ``340e9 / (0.7 x 8 x 8e12) + 192 x 8 us``
    = 9.13 ms; KV cache 294,912 B per token.
    """
    return Deployment(model=NEMOTRON_4_340B, gpu=B200, tp=8, precision=precision)
