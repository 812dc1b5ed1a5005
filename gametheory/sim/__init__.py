"""Discrete-event simulator of a disaggregated (xPyD) LLM-serving cluster.

Build a deployment (:class:`Cluster`), pick a workload (:func:`paper_workload`,
:func:`poisson_arrivals`, :func:`mooncake_trace`) and a routing policy
(:func:`make_policy`: Dynamo's KV router, SGLang's cache-aware router, round robin,
least loaded, the adaptive controller), then :func:`simulate`. A run returns a
:class:`~gametheory.sim.results.SimulationResult` whose frames are the telemetry schemas
(``requests``, ``decisions``, ``samples``), so :func:`gametheory.telemetry.poa_hat`
and the other analyses run on it unchanged, and the writers (:func:`write_telemetry`
and friends) produce aiperf, Dynamo router-log and Prometheus files that the
telemetry readers read back.

Step times come from a roofline model (:class:`StepTimeModel`) of built-in GPUs
(:func:`gpu`: B200, H100, H200) and models (:func:`model`: Llama-3.1-70B,
Nemotron-4-340B, or any :class:`ModelSpec`), with free parameters
(:class:`StepTimeParams`) fitted by :func:`calibrate` on real aiconfigurator
measurements; :data:`DEFAULT_PARAMS` are that fit.

Examples
--------
>>> from gametheory.sim import Cluster, make_policy, paper_workload, simulate
>>> from gametheory.telemetry import poa_hat
>>> cluster = Cluster.build("Llama-3.1-70B", "B200", 1, 2, tp_prefill=4, tp_decode=4)
>>> run = simulate(cluster, paper_workload(500), make_policy("kv"), concurrency=32)
>>> run.converged, len(run.requests)
(True, 500)
>>> poa_hat(run.decisions).window
2
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gametheory._lazy import lazy_exports

if TYPE_CHECKING:
    from gametheory.sim.engine import simulate
    from gametheory.sim.output import (
        EPOCH_NS,
        TTFT_BUCKETS,
        router_log_lines,
        sweep_row,
        write_aiperf,
        write_prometheus,
        write_router_log,
        write_telemetry,
    )
    from gametheory.sim.routing import (
        POLICIES,
        AdaptivePolicy,
        CacheAwarePolicy,
        KVRouterPolicy,
        LeastLoadedPolicy,
        Policy,
        RoundRobinPolicy,
        make_policy,
    )
    from gametheory.sim.serving.cache import PrefixCache
    from gametheory.sim.serving.calibrate import calibrate, predict_aggregated, silicon_rows
    from gametheory.sim.serving.cluster import Cluster, parse_topology, topology_name
    from gametheory.sim.serving.hardware import B200, GPU, GPUS, H100, H200, gpu
    from gametheory.sim.serving.models import (
        LLAMA_3_1_70B,
        MODELS,
        NEMOTRON_4_340B,
        ModelSpec,
        model,
    )
    from gametheory.sim.serving.step_time import (
        DEFAULT_PARAMS,
        VLLM_PARAMS,
        StepTimeModel,
        StepTimeParams,
    )
    from gametheory.sim.studies.estimators import PAPER_SHAPE, estimator_study
    from gametheory.sim.studies.experiments import adaptive_comparison, lag_study, regime_study
    from gametheory.sim.studies.knee_ablation import PAPER_STEPS, knee_ablation
    from gametheory.sim.studies.plots import poa_heatmaps, policy_curves_figure
    from gametheory.sim.studies.referee import (
        cost_term_spread,
        detector_study,
        optimum_check,
        switch_transient,
    )
    from gametheory.sim.studies.scorecard import scorecard
    from gametheory.sim.studies.study import SATURATING, StudyConfig, simulation_study
    from gametheory.sim.sweep import PAPER_CONCURRENCY, SweepGrid, sweep
    from gametheory.sim.workloads import Workload, mooncake_trace, paper_workload, poisson_arrivals
else:
    __getattr__, __dir__ = lazy_exports(__name__, __file__, globals())

__all__ = [
    "B200",
    "DEFAULT_PARAMS",
    "EPOCH_NS",
    "GPU",
    "GPUS",
    "H100",
    "H200",
    "LLAMA_3_1_70B",
    "MODELS",
    "NEMOTRON_4_340B",
    "PAPER_CONCURRENCY",
    "PAPER_SHAPE",
    "PAPER_STEPS",
    "POLICIES",
    "SATURATING",
    "TTFT_BUCKETS",
    "VLLM_PARAMS",
    "AdaptivePolicy",
    "CacheAwarePolicy",
    "Cluster",
    "KVRouterPolicy",
    "LeastLoadedPolicy",
    "ModelSpec",
    "Policy",
    "PrefixCache",
    "RoundRobinPolicy",
    "StepTimeModel",
    "StepTimeParams",
    "StudyConfig",
    "SweepGrid",
    "Workload",
    "adaptive_comparison",
    "calibrate",
    "cost_term_spread",
    "detector_study",
    "estimator_study",
    "gpu",
    "knee_ablation",
    "lag_study",
    "make_policy",
    "model",
    "mooncake_trace",
    "optimum_check",
    "paper_workload",
    "parse_topology",
    "poa_heatmaps",
    "poisson_arrivals",
    "policy_curves_figure",
    "predict_aggregated",
    "regime_study",
    "router_log_lines",
    "scorecard",
    "silicon_rows",
    "simulate",
    "simulation_study",
    "sweep",
    "sweep_row",
    "switch_transient",
    "topology_name",
    "write_aiperf",
    "write_prometheus",
    "write_router_log",
    "write_telemetry",
]
