"""Sweeps of the simulator over topology x concurrency x (omega, tau) x policy x seed.

:func:`sweep` runs one simulation per cell of a :class:`SweepGrid` through any
:class:`concurrent.futures.Executor` (threads, processes, or a ``dask.distributed``
``Client.get_executor()``), and returns one table: the cell's keys, its ``sweep``
schema figures (TTFT/ITL percentiles, throughput) and its PoA-hat with a bootstrap
interval. Every cell is a pure function of its keys (workload and router seeds are
derived from the cell's seed), so the table is the same, bit for bit, whatever the
executor and the order in which cells finish.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from concurrent.futures import Executor
from dataclasses import asdict, dataclass, replace
from itertools import product
from typing import Any

import numpy as np
import pandas as pd

from gametheory.control.detector import Regime
from gametheory.control.policy import DEFAULT_MAPPING, PAPER_MAPPING, AdaptiveController
from gametheory.errors import GameError
from gametheory.sim.engine import simulate
from gametheory.sim.output import sweep_row
from gametheory.sim.routing import POLICIES, make_policy
from gametheory.sim.serving.cluster import Cluster, topology_name
from gametheory.sim.serving.step_time import DEFAULT_PARAMS, VLLM_PARAMS, StepTimeParams
from gametheory.sim.workloads import Workload, paper_workload
from gametheory.telemetry.poa_hat import poa_hat
from gametheory.telemetry.poa_variants import VARIANTS

__all__ = [
    "BACKENDS",
    "PAPER_CONCURRENCY",
    "Cell",
    "SweepGrid",
    "baseline_ttft",
    "cell_controller",
    "reduced",
    "run_cell",
    "sweep",
]

#: The paper's concurrency grid.
PAPER_CONCURRENCY = (1, 2, 4, 8, 16, 32, 64, 96, 128, 192, 256)

#: Step-time parameters per serving backend (the two fits of
#: :func:`~gametheory.sim.serving.calibrate.calibrate`).
BACKENDS: dict[str, StepTimeParams] = {"trtllm": DEFAULT_PARAMS, "vllm": VLLM_PARAMS}

Row = tuple[float, float]


def _rows(mapping: dict[Regime, tuple[float, float]]) -> tuple[Row, Row, Row]:
    return (mapping[Regime.BELOW], mapping[Regime.TRANSITION], mapping[Regime.SATURATED])


@dataclass(frozen=True)
class SweepGrid:
    """The cells of a sweep.

    Attributes
    ----------
    topologies
        ``(n_prefill, n_decode)`` pairs.
    concurrency
        Closed-loop concurrencies.
    omegas, taus
        KV-router grid (used by the ``"kv"`` policy; the other policies run once per
        topology x concurrency x seed).
    policies
        Policy names (:data:`gametheory.sim.routing.POLICIES`).
    seeds
        Seeds (workload draws and router randomness).
    requests_per_user, min_requests
        Requests per cell: ``max(min_requests, requests_per_user * concurrency)``.
    model, gpu, decode_batch_limit, tp_prefill, tp_decode
        The deployment (see :meth:`gametheory.sim.serving.cluster.Cluster.build`). The
        defaults (TP1 instances, 48-request decode batches) are the simulator's
        historical ones; the paper's deployment (:meth:`paper`) is TP4 for both stages,
        with vLLM's default ``max_num_seqs`` on GPUs of 70 GiB or more, 1024.
    backend
        Step-time parameters: ``"trtllm"`` (:data:`~gametheory.sim.serving.step_time.
        DEFAULT_PARAMS`) or ``"vllm"`` (:data:`~gametheory.sim.serving.step_time.
        VLLM_PARAMS`, the paper's engine).
    input_tokens, output_tokens, templates
        The paper workload.
    output_tokens_stddev
        Standard deviation of the output lengths (0: fixed, the paper's).
    shared_tokens, template_skew
        Template prefix length (None: ``min(input_tokens, 96)``, the paper's) and Zipf
        exponent of template popularity (0: uniform); see
        :func:`~gametheory.sim.workloads.paper_workload`.
    memory_fraction
        Fraction of HBM the engines may use (the prefix cache gets what is left after
        the weights); lower it to put the prefix caches under pressure.
    adaptive_low, adaptive_high
        Thresholds of the adaptive controller as multiples of the unloaded TTFT.
    adaptive_rows
        The adaptive controller's ``(omega, tau)`` below saturation, in transition and
        saturated (default :data:`~gametheory.control.policy.DEFAULT_MAPPING`; the
        paper's rows are :data:`~gametheory.control.policy.PAPER_MAPPING`).
    poll_s
        Interval (s) at which the controller polls the TTFT P99 (the paper: 5 s).
    n_bootstrap
        Bootstrap replicates of each PoA-hat interval.
    warmup_fraction
        Fraction of each cell's requests, the earliest started, left out of its latency
        and throughput figures (aiperf's warm-up requests); 0 keeps them all.
    variants
        PoA-hat variants computed per cell (names of
        :data:`gametheory.telemetry.poa_variants.VARIANTS`); the first fills the
        ``poa_hat`` columns, every one its own ``poa_hat[<name>]`` columns.
    state_interval_s, optimistic_state
        Staleness of the router's view of the workers and whether it counts its own
        assignments in between (see :func:`gametheory.sim.engine.simulate`); the
        default 0 routes on the exact current state.
    """

    topologies: tuple[tuple[int, int], ...] = ((1, 5), (1, 2))
    concurrency: tuple[int, ...] = PAPER_CONCURRENCY
    omegas: tuple[float, ...] = (0.0, 0.5, 1.0, 2.0)
    taus: tuple[float, ...] = (0.0, 0.1, 0.5, 1.0)
    policies: tuple[str, ...] = ("kv",)
    seeds: tuple[int, ...] = (0,)
    requests_per_user: int = 8
    min_requests: int = 400
    model: str = "Llama-3.1-70B"
    gpu: str = "B200"
    decode_batch_limit: int = 48
    tp_prefill: int = 1
    tp_decode: int = 1
    backend: str = "trtllm"
    input_tokens: int = 128
    output_tokens: int = 128
    templates: int = 5
    shared_tokens: int | None = None
    template_skew: float = 0.0
    output_tokens_stddev: float = 0.0
    memory_fraction: float = 0.9
    adaptive_low: float = 8.0
    adaptive_high: float = 16.0
    adaptive_rows: tuple[Row, Row, Row] = _rows(DEFAULT_MAPPING)
    poll_s: float = 1.0
    n_bootstrap: int = 200
    warmup_fraction: float = 0.0
    variants: tuple[str, ...] = ("paper",)
    state_interval_s: float = 0.0
    optimistic_state: bool = True

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise GameError(f"unknown backend {self.backend!r}; expected one of {sorted(BACKENDS)}")
        if not (math.isfinite(self.poll_s) and self.poll_s > 0):
            raise GameError(f"poll_s must be positive, got {self.poll_s!r}")
        if len(self.adaptive_rows) != 3:
            raise GameError(
                "adaptive_rows needs three (omega, tau) rows: below, transition, saturated"
            )
        if not (math.isfinite(self.state_interval_s) and self.state_interval_s >= 0):
            raise GameError(
                f"state_interval_s must be finite and nonnegative, got {self.state_interval_s!r}"
            )
        bad = [p for p in self.policies if p not in POLICIES]
        if bad:
            raise GameError(f"unknown policies {bad}; expected some of {POLICIES}")
        if not self.topologies or not self.concurrency or not self.seeds or not self.policies:
            raise GameError("topologies, concurrency, policies and seeds must be non-empty")
        if any(c < 1 for c in self.concurrency):
            raise GameError("concurrency values must be >= 1")
        counts = ("requests_per_user", "min_requests", "decode_batch_limit", "tp_prefill")
        for name in (*counts, "tp_decode", "input_tokens", "output_tokens", "templates"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise GameError(f"{name} must be a whole number >= 1, got {value!r}")
        for name in ("omegas", "taus"):
            if not all(math.isfinite(v) and v >= 0 for v in getattr(self, name)):
                raise GameError(f"{name} must be finite and >= 0, got {getattr(self, name)!r}")
        if not 0.0 <= self.warmup_fraction < 1.0:
            raise GameError(f"warmup_fraction must be in [0, 1), got {self.warmup_fraction!r}")
        unknown = [v for v in self.variants if v not in VARIANTS]
        if unknown or not self.variants:
            raise GameError(
                f"unknown PoA-hat variants {unknown}; expected some of {sorted(VARIANTS)}"
            )

    @classmethod
    def paper(cls, **changes: Any) -> SweepGrid:
        """The paper's deployment and measurement, each setting from its source.

        * TP4 prefill and decode instances (the paper's deployment);
        * vLLM's batch limits on GPUs of 70 GiB or more in the OpenAI-server context
          that Dynamo's vLLM worker uses: ``max_num_seqs`` 1024 (``prefill_max_tokens``
          stays 8192) (vLLM ``EngineArgs.get_batch_defaults``);
        * the vLLM step-time fit (``backend="vllm"``);
        * the first 25% of each cell's requests left out (aiperf's warm-up requests; the
          cold first wave of ``C`` simultaneous prompts otherwise sets the P99);
        * fixed 128-token outputs, the paper's workload and aiperf's default
          (``--output-tokens-stddev`` 0); closed-loop users that start together then
          return in waves (:func:`~gametheory.sim.studies.knee_ablation.knee_ablation`
          shows what 10% jitter changes);
        * the controller polls every 5 s and switches to the paper's saturated row
          (:data:`~gametheory.control.policy.PAPER_MAPPING`).

        ``changes`` override any field (e.g. ``seeds``, ``concurrency``).
        """
        base = cls(
            tp_prefill=4,
            tp_decode=4,
            decode_batch_limit=1024,
            backend="vllm",
            warmup_fraction=0.25,
            adaptive_rows=_rows(PAPER_MAPPING),
            poll_s=5.0,
        )
        return reduced(base, **changes)

    def cells(self) -> Iterator[Cell]:
        """The cells, in table order."""
        for (n_p, n_d), c, policy, seed in product(
            self.topologies, self.concurrency, self.policies, self.seeds
        ):
            knobs = product(self.omegas, self.taus) if policy == "kv" else [(math.nan, math.nan)]
            for omega, tau in knobs:
                yield Cell(n_p, n_d, c, policy, float(omega), float(tau), seed, self)


@dataclass(frozen=True)
class Cell:
    """One simulation of a sweep."""

    n_prefill: int
    n_decode: int
    concurrency: int
    policy: str
    omega: float
    tau: float
    seed: int
    grid: SweepGrid

    def cluster(self) -> Cluster:
        """The cell's deployment."""
        return Cluster.build(
            self.grid.model,
            self.grid.gpu,
            self.n_prefill,
            self.n_decode,
            tp_prefill=self.grid.tp_prefill,
            tp_decode=self.grid.tp_decode,
            params=BACKENDS[self.grid.backend],
            decode_batch_limit=self.grid.decode_batch_limit,
            memory_fraction=self.grid.memory_fraction,
        )

    def workload(self) -> Workload:
        """The cell's requests (the same for every policy of a seed and concurrency)."""
        g = self.grid
        n = max(g.min_requests, g.requests_per_user * self.concurrency)
        return paper_workload(
            n,
            templates=g.templates,
            input_tokens=g.input_tokens,
            output_tokens=g.output_tokens,
            shared_tokens=min(g.input_tokens, 96) if g.shared_tokens is None else g.shared_tokens,
            template_skew=g.template_skew,
            output_tokens_stddev=g.output_tokens_stddev,
            seed=self.seed,
        )


def baseline_ttft(cluster: Cluster, workload: Workload) -> float:
    """Unloaded TTFT (s): one prefill of the mean prompt, its transfer, one decode step."""
    tokens = float(np.mean(workload.input_tokens))
    return float(
        cluster.prefill.prefill_time(tokens)
        + cluster.prefill.transfer_time(tokens, cluster.link)
        + cluster.transfer_latency_s
        + cluster.decode.decode_step_time(1, tokens)
    )


def cell_controller(cell: Cell) -> AdaptiveController:
    """The adaptive controller of ``cell``: the grid's thresholds on its unloaded TTFT."""
    base = baseline_ttft(cell.cluster(), cell.workload())
    below, transition, saturated = cell.grid.adaptive_rows
    mapping = {Regime.BELOW: below, Regime.TRANSITION: transition, Regime.SATURATED: saturated}
    return AdaptiveController.for_baseline(
        base, low=cell.grid.adaptive_low, high=cell.grid.adaptive_high, mapping=mapping
    )


def run_cell(cell: Cell) -> dict[str, Any]:
    """Simulate one cell and summarise it as a table row (a pure function of ``cell``)."""
    cluster, workload = cell.cluster(), cell.workload()
    controller = cell_controller(cell) if cell.policy == "adaptive" else None
    policy = make_policy(
        cell.policy,
        omega=1.0 if math.isnan(cell.omega) else cell.omega,
        tau=0.0 if math.isnan(cell.tau) else cell.tau,
        controller=controller,
    )
    seeds = np.random.SeedSequence([cell.seed, cell.n_prefill, cell.n_decode, cell.concurrency])
    router_seed = int(seeds.generate_state(1)[0])
    result = simulate(
        cluster,
        workload,
        policy,
        concurrency=cell.concurrency,
        seed=router_seed,
        poll_s=cell.grid.poll_s,
        state_interval_s=cell.grid.state_interval_s,
        optimistic_state=cell.grid.optimistic_state,
    )
    row: dict[str, Any] = {
        "topology": topology_name(cell.n_prefill, cell.n_decode),
        "policy_name": cell.policy,
        "omega": cell.omega,
        "tau": cell.tau,
        "seed": cell.seed,
    }
    row |= sweep_row(result, warmup_fraction=cell.grid.warmup_fraction)
    for k, name in enumerate(cell.grid.variants):
        est = poa_hat(
            result.decisions,
            variant=name,
            requests=result.requests,
            n_bootstrap=cell.grid.n_bootstrap,
            seed=cell.seed,
        )
        if k == 0:
            row |= {"poa_hat": est.poa_hat, "poa_hat_low": est.ci_low, "poa_hat_high": est.ci_high}
        row |= {
            f"poa_hat[{name}]": est.poa_hat,
            f"poa_hat_low[{name}]": est.ci_low,
            f"poa_hat_high[{name}]": est.ci_high,
        }
    row |= {
        "switches": int(result.switch_times.size),
        "events": result.iterations,
    }
    return row


def sweep(grid: SweepGrid, executor: Executor | None = None) -> pd.DataFrame:
    """Run every cell of ``grid``, in order, optionally through ``executor``.

    Parameters
    ----------
    grid
        The sweep.
    executor
        Any :class:`concurrent.futures.Executor` (``ThreadPoolExecutor``,
        ``ProcessPoolExecutor``, ``distributed.Client(...).get_executor()``); None
        runs the cells here, one after another.

    Returns
    -------
    pandas.DataFrame
        One row per cell: ``topology``, ``policy_name``, ``omega``, ``tau``, ``seed``,
        the ``sweep`` schema columns (``deployment``, ``policy``, ``concurrency``,
        latency percentiles, throughput, ...), ``poa_hat`` with its interval
        (``poa_hat_low``, ``poa_hat_high``) for the grid's first variant and
        ``poa_hat[<variant>]`` (with ``poa_hat_low[...]``, ``poa_hat_high[...]``) for
        each, ``switches`` and ``events``. Its
        ``deployment`` column names topology and policy, so
        :func:`gametheory.telemetry.detect_knee` runs on a slice of it.
    """
    cells = list(grid.cells())
    rows = list(map(run_cell, cells)) if executor is None else list(executor.map(run_cell, cells))
    return pd.DataFrame(rows)


def reduced(grid: SweepGrid, **changes: Any) -> SweepGrid:
    """A copy of ``grid`` with ``changes`` (e.g. a shorter concurrency grid)."""
    valid = set(asdict(grid))
    unknown = sorted(set(changes) - valid)
    if unknown:
        raise GameError(f"unknown grid fields {unknown}")
    return replace(grid, **changes)
