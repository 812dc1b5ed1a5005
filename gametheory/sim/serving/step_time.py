"""Roofline step-time model of one tensor-parallel inference instance.

A forward pass is bounded by compute or by memory traffic, whichever is slower (the
roofline model, Williams, Waterman and Patterson, CACM 52(4) 2009), plus a fixed launch
and scheduling overhead:

* prefill of ``T`` new tokens over ``K`` cached context tokens is compute-bound for
  long prompts: ``2 N T + attention(T, K + T/2)`` FLOPs at ``eta_p`` of the dense peak
  of ``tp`` GPUs (the ``2N`` FLOPs per token of Kaplan et al., arXiv:2001.08361); a
  standalone pass (:meth:`StepTimeModel.prefill_time`) also reads the weights once and
  the ``K`` cached and ``T`` new KV tokens, at the decode bandwidth, which bounds short
  prompts (a 128-token pass of a 70B model costs about one weight read, like a
  decode step);
* a decode step of a batch of ``B`` requests holding ``S`` KV tokens in total is
  memory-bound: the weights plus the KV cache are read once, at ``eta_d`` of the HBM
  bandwidth of ``tp`` GPUs; it turns compute-bound only for very large batches; each
  running request adds a fixed ``decode_request_s`` (sampling, scheduler and
  per-sequence kernel work: about 39 us per request per step in the Dynamo planner's
  vLLM profile of Llama-3.1-8B on H200, against 2 us of KV traffic);
* tensor parallelism scales throughput as ``tp ** tp_exponent`` (an exponent below 1
  absorbs all-reduce cost, as in the scaling measured by aiconfigurator).

The efficiencies, overheads and the exponent are the free parameters
(:class:`StepTimeParams`), fitted by :func:`gametheory.sim.serving.calibrate.calibrate`.
All functions accept NumPy arrays and broadcast.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gametheory.errors import GameError
from gametheory.sim.serving.hardware import GPU, gpu
from gametheory.sim.serving.models import ModelSpec, model

__all__ = ["DEFAULT_PARAMS", "VLLM_PARAMS", "StepTimeModel", "StepTimeParams"]

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class StepTimeParams:
    """Free parameters of the roofline model.

    Attributes
    ----------
    prefill_efficiency
        Fraction of the dense tensor peak reached by prefill (model FLOPs utilisation).
    decode_efficiency
        Fraction of the HBM bandwidth reached by decode.
    prefill_overhead_s, decode_overhead_s
        Fixed time per prefill batch and per decode step (kernel launches, scheduling).
    tp_exponent
        Tensor-parallel speed-up is ``tp ** tp_exponent``.
    prefill_contention
        In an aggregated engine (prefill and decode on one instance, in-flight
        batching) a new request's prefill shares its iterations with the other
        requests': its time grows by the factor ``1 + prefill_contention * B``
        at batch ``B``. The disaggregated simulator models this queueing explicitly
        and does not use it.
    """

    prefill_efficiency: float = 0.49
    decode_efficiency: float = 0.9
    prefill_overhead_s: float = 0.038
    decode_overhead_s: float = 0.0048
    tp_exponent: float = 0.65
    prefill_contention: float = 0.042
    decode_request_s: float = 0.0

    def __post_init__(self) -> None:
        for name in ("prefill_efficiency", "decode_efficiency", "tp_exponent"):
            v = getattr(self, name)
            if not (np.isfinite(v) and 0 < v <= 1):
                raise GameError(f"{name} must be in (0, 1], got {v!r}")
        for name in (
            "prefill_overhead_s",
            "decode_overhead_s",
            "prefill_contention",
            "decode_request_s",
        ):
            v = getattr(self, name)
            if not (np.isfinite(v) and v >= 0):
                raise GameError(f"{name} must be finite and >= 0, got {v!r}")


#: The TensorRT-LLM parameters fitted on the B200 Llama-3.1-70B rows of aiconfigurator's
#: ``silicon_sample.csv`` by :func:`gametheory.sim.serving.calibrate.calibrate` (25% of the rows
#: held out, seed 0), rounded: held-out median absolute percentage error 23.4% on TTFT
#: and 9.1% on TPOT (60 rows, both backends). The default of every :class:`StepTimeModel`
#: and :meth:`gametheory.sim.serving.cluster.Cluster.build`; ``tests/test_sim_step_time.py``
#: checks that it stays within 2% of a fresh fit.
DEFAULT_PARAMS = StepTimeParams(
    prefill_efficiency=0.488,
    decode_efficiency=1.0,
    prefill_overhead_s=0.0395,
    decode_overhead_s=0.00478,
    tp_exponent=0.71,
    prefill_contention=0.0432,
    decode_request_s=2.56e-5,
)

#: The vLLM parameters of the same fit (the paper's serving backend), rounded; used by
#: the paper's deployment (:meth:`gametheory.sim.sweep.SweepGrid.paper`).
VLLM_PARAMS = StepTimeParams(
    prefill_efficiency=0.396,
    decode_efficiency=0.913,
    prefill_overhead_s=0.0523,
    decode_overhead_s=0.0051,
    tp_exponent=0.642,
    prefill_contention=0.0305,
    decode_request_s=2.63e-5,
)


@dataclass(frozen=True)
class StepTimeModel:
    """Step times of one instance: a model on ``tp`` GPUs of one kind.

    Parameters
    ----------
    model
        A :class:`ModelSpec` or a built-in model name.
    gpu
        A :class:`GPU` or a built-in GPU name.
    tp
        Tensor-parallel size (GPUs per instance).
    precision
        Weight and compute precision (``"bf16"``, ``"fp8"``, ``"fp4"``).
    kv_precision
        KV-cache precision.
    params
        The free parameters.
    memory_fraction
        Fraction of HBM the engine may use (vLLM's ``gpu_memory_utilization``).
    """

    model: ModelSpec
    gpu: GPU
    tp: int = 1
    precision: str = "fp8"
    kv_precision: str = "fp8"
    params: StepTimeParams = DEFAULT_PARAMS
    memory_fraction: float = 0.9

    @classmethod
    def build(
        cls,
        model_name: str | ModelSpec,
        gpu_name: str | GPU,
        tp: int = 1,
        precision: str = "fp8",
        kv_precision: str = "fp8",
        params: StepTimeParams = DEFAULT_PARAMS,
        memory_fraction: float = 0.9,
    ) -> StepTimeModel:
        """Build from names, checking that the weights fit in memory."""
        out = cls(
            model(model_name), gpu(gpu_name), tp, precision, kv_precision, params, memory_fraction
        )
        out.kv_capacity_tokens()
        return out

    def __post_init__(self) -> None:
        if int(self.tp) != self.tp or self.tp < 1:
            raise GameError(f"tp must be a positive integer, got {self.tp!r}")
        if not 0 < self.memory_fraction <= 1:
            raise GameError(f"memory_fraction must be in (0, 1], got {self.memory_fraction!r}")
        self.gpu.dense_flops(self.precision)
        self.model.weight_bytes(self.precision)
        self.model.kv_bytes_per_token(self.kv_precision)

    @property
    def _scale(self) -> float:
        return float(self.tp**self.params.tp_exponent)

    @property
    def _bandwidth(self) -> float:
        return float(self.gpu.hbm_bandwidth * self.params.decode_efficiency * self._scale)

    def kv_capacity_tokens(self) -> float:
        """KV tokens that fit in the HBM left after the weights.

        Raises
        ------
        GameError
            If the weights alone do not fit.
        """
        free = self.tp * self.gpu.hbm_bytes * self.memory_fraction - self.model.weight_bytes(
            self.precision
        )
        if free <= 0:
            raise GameError(
                f"{self.model.name} in {self.precision} does not fit on {self.tp} x "
                f"{self.gpu.name}: weights {self.model.weight_bytes(self.precision) / 1e9:.0f} "
                f"GB, usable HBM {self.tp * self.gpu.hbm_bytes * self.memory_fraction / 1e9:.0f} GB"
            )
        return float(free / self.model.kv_bytes_per_token(self.kv_precision))

    def prefill_compute(self, new_tokens: ArrayLike, context: ArrayLike = 0.0) -> FloatArray:
        """Seconds of prefill compute (no overhead) for ``new_tokens`` over ``context``."""
        t = np.asarray(new_tokens, dtype=np.float64)
        k = np.asarray(context, dtype=np.float64)
        pair = self.model.attention_flops(1.0, 1.0)
        flops = 2.0 * self.model.n_params * t + pair * t * (k + t / 2.0)
        rate = self.gpu.dense_flops(self.precision) * self.params.prefill_efficiency * self._scale
        return np.asarray(flops / rate, dtype=np.float64)

    def prefill_memory(self, new_tokens: ArrayLike, context: ArrayLike = 0.0) -> FloatArray:
        """Seconds of memory traffic of a standalone prefill pass: the weights read once,
        the ``context`` cached KV tokens read and the ``new_tokens`` written."""
        t = np.asarray(new_tokens, dtype=np.float64)
        k = np.asarray(context, dtype=np.float64)
        traffic = self.model.weight_bytes(self.precision) + (t + k) * self.model.kv_bytes_per_token(
            self.kv_precision
        )
        return np.asarray(traffic / self._bandwidth, dtype=np.float64)

    def prefill_time(self, new_tokens: ArrayLike, context: ArrayLike = 0.0) -> FloatArray:
        """Seconds for one prefill batch of ``new_tokens`` (overhead included): the
        overhead plus the slower of compute and memory traffic (the roofline)."""
        compute = self.prefill_compute(new_tokens, context)
        return np.asarray(
            self.params.prefill_overhead_s
            + np.maximum(compute, self.prefill_memory(new_tokens, context))
        )

    def decode_step_time(self, batch: ArrayLike, kv_tokens: ArrayLike) -> FloatArray:
        """Seconds for one decode step of ``batch`` requests holding ``kv_tokens`` in all."""
        b = np.asarray(batch, dtype=np.float64)
        s = np.asarray(kv_tokens, dtype=np.float64)
        traffic = self.model.weight_bytes(self.precision) + s * self.model.kv_bytes_per_token(
            self.kv_precision
        )
        memory = traffic / self._bandwidth
        # each request's new token attends to its own context: S + B/2 (query, key) pairs
        rate = self.gpu.dense_flops(self.precision) * self.params.prefill_efficiency * self._scale
        pair = self.model.attention_flops(1.0, 1.0)
        compute = (2.0 * self.model.n_params * b + pair * (s + b / 2.0)) / rate
        fixed = self.params.decode_overhead_s + self.params.decode_request_s * b
        return np.asarray(fixed + np.maximum(memory, compute))

    def decode_coefficients(self) -> tuple[float, float, float, float, float, float]:
        """``(overhead, request, weights, per_kv_token, per_request, per_kv_token_compute)``
        with ``decode_step_time(B, S) = overhead + request B + max(weights + per_kv_token
        S, per_request B + per_kv_token_compute S)`` (the model in scalar form, for event
        loops)."""
        bw = self._bandwidth
        rate = self.gpu.dense_flops(self.precision) * self.params.prefill_efficiency * self._scale
        attn = self.model.attention_flops(1.0, 1.0)
        return (
            self.params.decode_overhead_s,
            self.params.decode_request_s,
            self.model.weight_bytes(self.precision) / bw,
            self.model.kv_bytes_per_token(self.kv_precision) / bw,
            (2.0 * self.model.n_params + attn / 2.0) / rate,
            attn / rate,
        )

    def prefill_coefficients(self) -> tuple[float, float, float, float, float]:
        """``(overhead, per_token, per_token_pair, weights, per_kv_token)`` with
        ``prefill_time(T, K) = overhead + max(per_token T + per_token_pair T (K + T / 2),
        weights + per_kv_token (T + K))``."""
        rate = self.gpu.dense_flops(self.precision) * self.params.prefill_efficiency * self._scale
        return (
            self.params.prefill_overhead_s,
            2.0 * self.model.n_params / rate,
            self.model.attention_flops(1.0, 1.0) / rate,
            self.model.weight_bytes(self.precision) / self._bandwidth,
            self.model.kv_bytes_per_token(self.kv_precision) / self._bandwidth,
        )

    def transfer_time(self, tokens: ArrayLike, link: str = "nvlink") -> FloatArray:
        """Seconds to move the KV cache of ``tokens`` tokens to another instance.

        The instance's ``tp`` GPUs send their shards in parallel over ``link``.
        """
        bw = self.gpu.link_bandwidth(link) * self.tp
        t = np.asarray(tokens, dtype=np.float64)
        return np.asarray(t * self.model.kv_bytes_per_token(self.kv_precision) / bw)
