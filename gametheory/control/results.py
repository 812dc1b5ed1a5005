"""Results of the controller's evaluations: switch rates, detector studies and the latency
transient around a switch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gametheory.results import Result

__all__ = ["DetectorStudyResult", "SwitchRatesResult", "SwitchTransientResult"]


@dataclass(frozen=True, repr=False)
class SwitchRatesResult(Result):
    """Monte Carlo false and missed switch rates of a saturation detector.

    Attributes
    ----------
    false_switch_rate
        Fraction of runs whose load stays below saturation in which the detector
        nevertheless reported *saturated* at least once.
    missed_switch_rate
        Fraction of runs whose load crosses into saturation in which the detector never
        reported *saturated* before the run ended.
    mean_delay_s
        Mean detection delay (seconds after the true crossing) over detected runs.
    false_ci, missed_ci
        95% Wilson intervals of the two rates.
    n_runs
        Runs per scenario.
    noise
        Relative (lognormal sigma) noise on the latency signal.
    converged
        Always True (Monte Carlo has no convergence test).
    iterations
        Total runs.
    method
        Detector and scenario.
    """

    false_switch_rate: float
    missed_switch_rate: float
    mean_delay_s: float
    false_ci: tuple[float, float]
    missed_ci: tuple[float, float]
    n_runs: int
    noise: float
    converged: bool
    iterations: int
    method: str


@dataclass(frozen=True, repr=False)
class DetectorStudyResult(Result):
    """False and missed switch rates of saturation detectors under load noise.

    Attributes
    ----------
    baseline_s, saturated_s
        TTFT P99 (s) of the simulated deployment on the plateau and at saturation: the
        two levels of the Monte Carlo signal.
    table
        One row per detector x noise level: rates, Wilson intervals and mean delay.
    converged
        Always True.
    iterations
        Monte Carlo runs.
    method
        Scenario.
    """

    baseline_s: float
    saturated_s: float
    table: Any
    converged: bool
    iterations: int
    method: str


@dataclass(frozen=True, repr=False)
class SwitchTransientResult(Result):
    """TTFT P99 just before and just after the adaptive router's switches.

    Attributes
    ----------
    topology
        Deployment shape.
    concurrency
        Offered load (closed-loop users, or peak users of a load step).
    window_s
        Width of the before / after windows.
    table
        One row per switch: time, TTFT P99 of the requests arriving in the window
        before and after it (exact, from the ``requests`` frame) and from the
        ``samples`` histogram (Prometheus ``histogram_quantile`` over the window).
    converged
        Whether the run completed every request.
    iterations
        Switches observed.
    method
        Scenario.
    """

    topology: str
    concurrency: int
    window_s: float
    table: Any
    converged: bool
    iterations: int
    method: str
