"""What a Dynamo deployment is made of: topology, model, GPU, scheduler limits, speed.

A :class:`DeploymentSpec` names the same deployment as
:meth:`gametheory.sim.serving.cluster.Cluster.build` (the paper's defaults:
Llama-3.1-70B on B200, tensor parallelism 4), so that a real Dynamo mocker deployment
and the simulator can be run side by side: :meth:`DeploymentSpec.cluster` is the
simulator's cluster, :meth:`DeploymentSpec.step_model` the step times both use, and
:meth:`DeploymentSpec.kv_blocks` the KV capacity (HBM left after the weights) given to
the mocker as ``--num-gpu-blocks-override``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

from gametheory.errors import GameError
from gametheory.sim.serving.cluster import Cluster, parse_topology, topology_name
from gametheory.sim.serving.step_time import DEFAULT_PARAMS, StepTimeModel, StepTimeParams

__all__ = ["ROUTER_MODES", "DeploymentSpec"]

#: The frontend's ``--router-mode`` values (Dynamo 1.6).
ROUTER_MODES = (
    "kv",
    "round-robin",
    "random",
    "power-of-two",
    "least-loaded",
    "device-aware-weighted",
)


def _int(value: object, name: str, low: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise GameError(f"{name} must be an integer >= {low}, got {value!r}")
    return value


@dataclass(frozen=True)
class DeploymentSpec:
    """A disaggregated deployment of Dynamo mocker workers.

    Attributes
    ----------
    n_prefill, n_decode
        Prefill and decode workers (the x and y of xPyD).
    model, gpu, tp, precision, kv_precision
        Model, accelerator, tensor-parallel size and precisions of one worker: they set
        the step times and the KV capacity.
    block_size
        KV block size in tokens (router and mocker).
    max_num_seqs, max_num_batched_tokens
        The workers' scheduler limits (decode batch, prefill tokens per pass).
    speedup_ratio
        The mocker runs this many times faster than the step-time model (below 1:
        slower, so that a small machine keeps up).
    router_mode
        The frontend's router (``kv`` is Dynamo's KV-aware router).
    link
        ``nvlink`` or ``ib``: the KV-transfer bandwidth given to the mocker.
    served_name
        The model name the frontend serves (aiperf's ``--model``).
    params
        Step-time parameters (default the calibration on aiconfigurator's B200 rows).
    startup_timeout_s
        Longest wait for the deployment to become ready.
    prometheus
        Also start a real Prometheus server scraping the frontend every second.
    frontend_args, mocker_args
        Extra command-line arguments of the frontend and of every mocker.
    front
        Put the library's router front (:mod:`~gametheory.deploy.front`) between the
        frontend and the workers: the workers register in the ``pool`` namespace, the
        front's KV routers route them with the controller's ``(omega, tau)`` on every
        request, and the frontend (scoped to the ``dynamo`` namespace) sees only the
        front.
    """

    n_prefill: int = 1
    n_decode: int = 5
    model: str = "Llama-3.1-70B"
    gpu: str = "B200"
    tp: int = 4
    precision: str = "fp8"
    kv_precision: str = "fp8"
    block_size: int = 64
    max_num_seqs: int = 48
    max_num_batched_tokens: int = 8192
    speedup_ratio: float = 1.0
    router_mode: str = "kv"
    link: str = "nvlink"
    served_name: str = "llama"
    params: StepTimeParams = DEFAULT_PARAMS
    startup_timeout_s: float = 60.0
    prometheus: bool = False
    frontend_args: tuple[str, ...] = ()
    mocker_args: tuple[str, ...] = ()
    front: bool = False

    def __post_init__(self) -> None:
        for name in ("n_prefill", "n_decode", "tp", "block_size", "max_num_seqs"):
            _int(getattr(self, name), name)
        _int(self.max_num_batched_tokens, "max_num_batched_tokens", self.block_size)
        for name in ("speedup_ratio", "startup_timeout_s"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise GameError(f"{name} must be a finite number, got {v!r}")
            if v <= 0:
                raise GameError(f"{name} must be > 0, got {v!r}")
        if self.router_mode not in ROUTER_MODES:
            raise GameError(f"router_mode must be one of {ROUTER_MODES}, got {self.router_mode!r}")
        if not isinstance(self.served_name, str) or not self.served_name.strip():
            raise GameError(f"served_name must be a non-empty string, got {self.served_name!r}")
        for name in ("prometheus", "front"):
            if not isinstance(getattr(self, name), bool):
                raise GameError(f"{name} must be True or False, got {getattr(self, name)!r}")
        for name in ("frontend_args", "mocker_args"):
            v = getattr(self, name)
            if not isinstance(v, tuple) or not all(isinstance(a, str) for a in v):
                raise GameError(f"{name} must be a tuple of strings, got {v!r}")
        self.step_model()
        self.cluster()

    @classmethod
    def build(cls, topology: str = "1P5D", **options: Any) -> DeploymentSpec:
        """A spec from an xPyD name (``"1P5D"``, ``"1P/2D"``) and field values.

        Raises
        ------
        GameError
            For a bad topology or an unknown option (naming it).
        """
        if not isinstance(topology, str):
            raise GameError(f"topology must be a string like 1P5D, got {topology!r}")
        known = {f.name for f in fields(cls)} - {"n_prefill", "n_decode"}
        unknown = sorted(set(options) - known)
        if unknown:
            raise GameError(
                f"unknown deployment option {unknown[0]!r}; expected one of {sorted(known)}"
            )
        for name in ("frontend_args", "mocker_args"):
            if isinstance(options.get(name), list):
                options[name] = tuple(options[name])
        n_prefill, n_decode = parse_topology(topology)
        return cls(n_prefill=n_prefill, n_decode=n_decode, **options)

    @property
    def worker_namespace(self) -> str:
        """The Dynamo namespace the mocker workers register in."""
        return "pool" if self.front else "dynamo"

    @property
    def topology(self) -> str:
        """E.g. ``"1P/5D"``."""
        return topology_name(self.n_prefill, self.n_decode)

    def step_model(self) -> StepTimeModel:
        """The step-time model of one worker (raises GameError if the weights do not fit)."""
        return StepTimeModel.build(
            self.model, self.gpu, self.tp, self.precision, self.kv_precision, self.params
        )

    def cluster(self) -> Cluster:
        """The simulator's cluster for the same deployment."""
        return Cluster.build(
            self.model,
            self.gpu,
            self.n_prefill,
            self.n_decode,
            tp_prefill=self.tp,
            tp_decode=self.tp,
            precision=self.precision,
            kv_precision=self.kv_precision,
            params=self.params,
            decode_batch_limit=self.max_num_seqs,
            prefill_max_tokens=self.max_num_batched_tokens,
            link=self.link,
        )

    def kv_blocks(self) -> int:
        """KV blocks one worker holds (the HBM left after the weights)."""
        return int(self.step_model().kv_capacity_tokens() // self.block_size)

    def as_dict(self) -> dict[str, Any]:
        """The fields as JSON-ready values (what ``deployment.json`` records)."""
        out = asdict(self)
        out["topology"] = self.topology
        out["kv_blocks"] = self.kv_blocks()
        return out
