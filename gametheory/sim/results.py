"""Results of the simulator: a run (its telemetry frames) and the calibration of the step-
time model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gametheory.results import Result

__all__ = ["CalibrationResult", "LiveRunResult", "SimulationResult"]


FloatArray = NDArray[np.float64]


@dataclass(frozen=True, repr=False)
class CalibrationResult(Result):
    """Step-time parameters fitted to real measurements, with held-out errors.

    Attributes
    ----------
    params
        The fitted :class:`gametheory.sim.serving.step_time.StepTimeParams`.
    ttft_mdape, tpot_mdape
        Median absolute percentage error (a fraction) of TTFT and TPOT on the held-out
        rows.
    train_ttft_mdape, train_tpot_mdape
        The same on the rows used for fitting.
    n_train, n_test
        Rows fitted and held out.
    converged
        Whether the least-squares solver reported success.
    iterations
        Function evaluations.
    method
        Fitting method and split.
    """

    params: Any
    ttft_mdape: float
    tpot_mdape: float
    train_ttft_mdape: float
    train_tpot_mdape: float
    n_train: int
    n_test: int
    converged: bool
    iterations: int
    method: str


@dataclass(frozen=True, repr=False)
class SimulationResult(Result):
    """One simulated run of a disaggregated cluster, as telemetry frames.

    Attributes
    ----------
    requests
        ``requests`` schema: one row per completed request.
    decisions
        ``decisions`` schema: one row per routing decision x candidate decode worker.
    samples
        ``samples`` schema: Prometheus-like scrapes (TTFT histogram, queue gauges).
    deployment, policy
        Names of the simulated deployment and routing policy.
    concurrency
        Closed-loop concurrency (NaN for open-loop arrivals).
    duration_s
        Simulated time from the first arrival to the last completion.
    request_throughput, output_token_throughput
        Completed requests and generated tokens per simulated second.
    switch_times
        Simulated times at which an adaptive policy changed its parameters.
    seed
        Seed of the run.
    converged
        Whether every request completed.
    iterations
        Events processed.
    method
        ``"discrete-event simulation"``.
    """

    requests: Any
    decisions: Any
    samples: Any
    deployment: str
    policy: str
    concurrency: float
    duration_s: float
    request_throughput: float
    output_token_throughput: float
    switch_times: FloatArray
    seed: int
    converged: bool
    iterations: int
    method: str


@dataclass(frozen=True, repr=False)
class LiveRunResult(Result):
    """A simulation run against the wall clock while serving metrics
    (:func:`gametheory.sim.live.serve_simulation`).

    Attributes
    ----------
    run
        The simulated run (only the requests finished before it stopped).
    router_log
        One row per change of the router parameters seen by routing decisions:
        ``sim_time_s``, ``wall_time_s`` (since the start), ``request`` (the first
        request routed with them), ``omega``, ``tau``.
    load_log
        One row per concurrency change: ``sim_time_s``, ``wall_time_s``, ``concurrency``.
    speedup
        Simulated seconds per wall-clock second asked for.
    sim_s, wall_s
        Simulated and wall-clock seconds the run lasted.
    max_lag_s
        Largest wall-clock lag behind the paced schedule (0 when it kept up).
    requests_per_wall_s
        Requests completed per wall-clock second.
    stopped_by
        ``"workload"`` (every request done), ``"duration"`` or ``"stop"`` (a signal or
        :attr:`gametheory.sim.live.LiveRun.stop`).
    """

    run: SimulationResult
    router_log: Any
    load_log: Any
    speedup: float
    sim_s: float
    wall_s: float
    max_lag_s: float
    requests_per_wall_s: float
    stopped_by: str
