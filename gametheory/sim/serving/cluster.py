"""A disaggregated deployment: ``x`` prefill and ``y`` decode instances (xPyD).

Each instance is a tensor-parallel group running one step-time model
(:class:`~gametheory.sim.serving.step_time.StepTimeModel`). Prefill instances batch queued
prompts up to a token budget; decode instances run continuous batching (Yu et al.,
"Orca", OSDI 2022) up to a batch limit and admit a request only when its KV cache fits
(vLLM's block manager); KV moves prefill -> decode over NVLink (same node) or
InfiniBand (DistServe, Zhong et al., OSDI 2024; Splitwise, Patel et al., ISCA 2024).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gametheory.errors import GameError
from gametheory.sim.serving.hardware import GPU
from gametheory.sim.serving.models import ModelSpec
from gametheory.sim.serving.step_time import DEFAULT_PARAMS, StepTimeModel, StepTimeParams

__all__ = ["Cluster", "parse_topology", "topology_name"]

_TOPOLOGY = re.compile(r"^\s*(\d+)\s*P\s*/?\s*(\d+)\s*D\s*$", re.I)


def topology_name(n_prefill: int, n_decode: int) -> str:
    """The xPyD name of a deployment, e.g. ``"1P/5D"``."""
    return f"{n_prefill}P/{n_decode}D"


def parse_topology(text: str) -> tuple[int, int]:
    """``(n_prefill, n_decode)`` of an xPyD name: ``"1P/5D"`` or ``"1P5D"`` -> ``(1, 5)``
    (the inverse of :func:`topology_name`; case and spaces are ignored).

    Raises
    ------
    GameError
        If ``text`` is not of that form or has fewer than one instance of a kind.
    """
    m = _TOPOLOGY.match(text)
    if m is None or int(m.group(1)) < 1 or int(m.group(2)) < 1:
        raise GameError(f"a topology is written like 1P5D or 1P/5D, got {text!r}")
    return int(m.group(1)), int(m.group(2))


@dataclass(frozen=True)
class Cluster:
    """An xPyD deployment behind one router.

    Attributes
    ----------
    prefill, decode
        Step-time models of a prefill and of a decode instance.
    n_prefill, n_decode
        Instance counts (x and y).
    decode_batch_limit
        Largest decode batch (vLLM ``max_num_seqs``).
    prefill_max_tokens
        Token budget of one prefill batch (vLLM ``max_num_batched_tokens``).
    link
        ``"nvlink"`` or ``"ib"`` for KV transfers.
    transfer_latency_s
        Fixed latency of one KV transfer (handshake, NIXL descriptor exchange).

    Notes
    -----
    Where the defaults come from: the step-time parameters are
    :data:`~gametheory.sim.serving.step_time.DEFAULT_PARAMS`, fitted by
    :func:`~gametheory.sim.serving.calibrate.calibrate` on the B200 Llama-3.1-70B rows of
    aiconfigurator's ``silicon_sample.csv`` (TensorRT-LLM backend; held-out median
    absolute errors 22% on TTFT and 11% on TPOT); GPU and model figures are datasheet
    and paper values (:mod:`~gametheory.sim.serving.hardware`,
    :mod:`~gametheory.sim.serving.models`); the KV capacity is the HBM left after the
    weights. The scheduler limits are
    modelling choices, not measurements: 8192 prompt tokens per prefill batch (vLLM's
    ``max_num_batched_tokens`` for online serving on large GPUs) and 48 requests per
    decode batch, so that the 1P/5D deployment (240 decode slots) saturates inside
    the paper's concurrency grid (1 to 256).
    """

    prefill: StepTimeModel
    decode: StepTimeModel
    n_prefill: int = 1
    n_decode: int = 5
    decode_batch_limit: int = 48
    prefill_max_tokens: int = 8192
    link: str = "nvlink"
    transfer_latency_s: float = 2e-4

    def __post_init__(self) -> None:
        if self.n_prefill < 1 or self.n_decode < 1:
            raise GameError(
                "a deployment needs at least one prefill and one decode instance, got "
                + topology_name(self.n_prefill, self.n_decode)
            )
        if self.decode_batch_limit < 1:
            raise GameError(f"decode_batch_limit must be >= 1, got {self.decode_batch_limit}")
        if self.prefill_max_tokens < 1:
            raise GameError(f"prefill_max_tokens must be >= 1, got {self.prefill_max_tokens}")
        if self.transfer_latency_s < 0:
            raise GameError("transfer_latency_s must be >= 0")
        self.prefill.gpu.link_bandwidth(self.link)
        self.prefill.kv_capacity_tokens()
        self.decode.kv_capacity_tokens()

    @classmethod
    def build(
        cls,
        model: str | ModelSpec = "Llama-3.1-70B",
        gpu: str | GPU = "B200",
        n_prefill: int = 1,
        n_decode: int = 5,
        *,
        tp_prefill: int = 1,
        tp_decode: int = 1,
        precision: str = "fp8",
        params: StepTimeParams = DEFAULT_PARAMS,
        decode_batch_limit: int = 48,
        prefill_max_tokens: int = 8192,
        link: str = "nvlink",
        kv_precision: str = "fp8",
        memory_fraction: float = 0.9,
        transfer_latency_s: float = 2e-4,
    ) -> Cluster:
        """A deployment from names.

        Parameters
        ----------
        model, gpu
            Built-in names (:func:`~gametheory.sim.serving.models.model`,
            :func:`~gametheory.sim.serving.hardware.gpu`) or descriptions.
        n_prefill, n_decode
            Instance counts (the ``x`` and ``y`` of xPyD).
        tp_prefill, tp_decode
            Tensor-parallel size (GPUs) of a prefill and of a decode instance.
        precision, kv_precision
            Weight and KV-cache precision (``"bf16"``, ``"fp8"``, ``"fp4"``).
        params
            Step-time parameters; default :data:`~gametheory.sim.serving.step_time.DEFAULT_PARAMS`,
            the calibration on B200 Llama-3.1-70B measurements.
        decode_batch_limit, prefill_max_tokens, link, transfer_latency_s
            See the class attributes.
        memory_fraction
            Fraction of HBM the engine may use; the KV cache (and so the prefix cache)
            gets what is left after the weights.

        Raises
        ------
        GameError
            For an unknown model, GPU, precision or link, fewer than one instance,
            weights that do not fit, or a nonpositive limit.
        """
        return cls(
            StepTimeModel.build(
                model, gpu, tp_prefill, precision, kv_precision, params, memory_fraction
            ),
            StepTimeModel.build(
                model, gpu, tp_decode, precision, kv_precision, params, memory_fraction
            ),
            n_prefill,
            n_decode,
            decode_batch_limit,
            prefill_max_tokens,
            link,
            transfer_latency_s,
        )

    @property
    def name(self) -> str:
        """E.g. ``"Llama-3.1-70B B200 1P/5D"``."""
        topology = topology_name(self.n_prefill, self.n_decode)
        return f"{self.decode.model.name} {self.decode.gpu.name} {topology}"

    def kv_capacity_tokens(self) -> int:
        """KV tokens one decode instance holds."""
        return int(self.decode.kv_capacity_tokens())
