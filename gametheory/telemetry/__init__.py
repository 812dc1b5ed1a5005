"""Measurement adapter: real telemetry in, PoA-hat, knee and regimes out.

Readers turn benchmark and serving telemetry into four tidy pandas schemas
(:mod:`~gametheory.telemetry.schemas`): ``requests``, ``sweep``, ``decisions`` and
``samples``. Analyses work on those frames: :func:`poa_hat` (the empirical Price of
Anarchy of a router, in the named variants of :data:`VARIANTS`), :func:`detect_knee` /
:func:`classify_regimes` (saturation) and
:func:`fit_costs` (latency curves to cost functions and a game with a model PoA).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gametheory._lazy import lazy_exports

if TYPE_CHECKING:
    from gametheory.telemetry.fit import fit_costs, fit_curve
    from gametheory.telemetry.knee import classify_regimes, detect_knee, detect_knees
    from gametheory.telemetry.latency_model import fit_latency_model
    from gametheory.telemetry.poa_hat import poa_hat
    from gametheory.telemetry.poa_variants import VARIANTS, PoAHatVariant
    from gametheory.telemetry.readers.aiconfigurator import read_aiconfigurator
    from gametheory.telemetry.readers.aiperf import (
        read_aiperf_aggregate,
        read_aiperf_records,
        read_aiperf_sweep,
    )
    from gametheory.telemetry.readers.genai_perf import read_genai_perf
    from gametheory.telemetry.readers.loader import TelemetryData, detect_format, load
    from gametheory.telemetry.readers.prometheus import (
        histogram_quantile,
        increase,
        rate,
        read_prometheus,
        series,
    )
    from gametheory.telemetry.readers.router_logs import read_router_log
    from gametheory.telemetry.report import Report, build_report, format_report, write_report
    from gametheory.telemetry.schemas import DECISIONS, REQUESTS, SAMPLES, SCHEMAS, SWEEP, Column
    from gametheory.telemetry.validation import ReadReport, read_report
else:
    __getattr__, __dir__ = lazy_exports(__name__, __file__, globals())

__all__ = [
    "DECISIONS",
    "REQUESTS",
    "SAMPLES",
    "SCHEMAS",
    "SWEEP",
    "VARIANTS",
    "Column",
    "PoAHatVariant",
    "ReadReport",
    "Report",
    "TelemetryData",
    "build_report",
    "classify_regimes",
    "detect_format",
    "detect_knee",
    "detect_knees",
    "fit_costs",
    "fit_curve",
    "fit_latency_model",
    "format_report",
    "histogram_quantile",
    "increase",
    "load",
    "poa_hat",
    "rate",
    "read_aiconfigurator",
    "read_aiperf_aggregate",
    "read_aiperf_records",
    "read_aiperf_sweep",
    "read_genai_perf",
    "read_prometheus",
    "read_report",
    "read_router_log",
    "series",
    "write_report",
]
